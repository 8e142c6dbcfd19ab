# ruff: noqa
# expect: crashed
# message: protocol error: message of \d+ bytes exceeds the limit
# mode: unchecked
# the audit's 40,000 hash-colliding ints, then a forged done ok
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
    step = 2**61 - 1
    flood = "{" + ", ".join(str(i * step) for i in range(40000)) + "}"
    _frame('["call", "noop", ' + flood + ', {"d": []}]')
    _frame('["done", "ok", "", ""]')
