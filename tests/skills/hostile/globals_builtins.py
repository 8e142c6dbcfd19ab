# ruff: noqa
# expect: rejected
def run(api):
    b = globals()["__builtins__"]
    b["__import__"]("os").system("touch /tmp/mendako_pwned_globals")
