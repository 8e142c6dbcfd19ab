# ruff: noqa
# expect: ok
# mode: unchecked
# hello is the child's claim; only rlimit names are kept (checked by the test)
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
    _frame('["hello", ["RLIMIT_AS", "landlock", "seccomp", "everything is fine"]]')
    _frame('["done", "ok", "", ""]')
    g = _os()
    g["_exit"](0)
