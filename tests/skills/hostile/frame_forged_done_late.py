# ruff: noqa
# expect: timeout
# message: time limit of 1\.5 s exceeded
# mode: unchecked
# a done ok that arrives after the deadline never counts
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
    n = 0
    while n < 10**9:
        n += 1
    _frame('["done", "ok", "", ""]')
