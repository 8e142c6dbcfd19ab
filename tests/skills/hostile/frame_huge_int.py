# ruff: noqa
# expect: crashed
# message: Exceeds the limit \(4300 digits\)
# mode: unchecked
# an int the parent would spend seconds converting
def _os():
    """Escape the Python layers (run unchecked): the os module's globals, via a subclass walk."""
    for c in ().__class__.__base__.__subclasses__():
        if c.__name__ == "_wrap_close":
            return c.__init__.__globals__


def _frame(payload):
    g = _os()
    main = g["sys"].modules["__main__"]
    data = payload if isinstance(payload, bytes) else payload.encode()
    g["write"](main._RPC_OUT, len(data).to_bytes(4, "big") + data)


def run(api):
    _frame('["call", "collect", {"t": [' + "9" * 100000 + ']}, {"d": []}]')
