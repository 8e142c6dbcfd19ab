# ruff: noqa
# expect: ok
# stdout: _ctypes:blocked ImportError\nctypes:blocked AttributeError\nin_modules False
# mode: unchecked
# no ctypes and no kernel helpers reachable
def _os():
    """Escape the Python layers (run unchecked): the os module's globals, via a subclass walk."""
    for c in ().__class__.__base__.__subclasses__():
        if c.__name__ == "_wrap_close":
            return c.__init__.__globals__


def run(api):
    g = _os()
    sys = g["sys"]
    imp = g["__builtins__"]["__import__"]  # the real one
    for name in ("ctypes", "_ctypes"):
        sys.modules.pop(name, None)
    try:
        imp("_ctypes")
        print("_ctypes:allowed")
    except Exception as e:
        print("_ctypes:blocked", type(e).__name__)
    try:
        imp("ctypes").CDLL
        print("ctypes:allowed")
    except Exception as e:
        print("ctypes:blocked", type(e).__name__)
    print("in_modules", any(m in sys.modules for m in ("_kernel", "_ctypes")))
