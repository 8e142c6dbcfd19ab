# ruff: noqa
# expect: rejected
def run(api):
    for cls in ().__class__.__base__.__subclasses__():
        if cls.__name__ == "_wrap_close":
            cls.__init__.__globals__["system"]("touch /tmp/mendako_pwned_subclasses")
