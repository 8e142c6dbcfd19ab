# ruff: noqa
# expect: ok
# stdout: sethostname:blocked PermissionError\nsocket:blocked PermissionError
# mode: unchecked
# sethostname answers EPERM (seccomp), not EINVAL
def _os():
    """Escape the Python layers (run unchecked): the os module's globals, via a subclass walk."""
    for c in ().__class__.__base__.__subclasses__():
        if c.__name__ == "_wrap_close":
            return c.__init__.__globals__


def run(api):
    g = _os()
    sys = g["sys"]
    imp = g["__builtins__"]["__import__"]  # the real one
    sys.modules.pop("socket", None)
    sys.modules.pop("_socket", None)
    try:
        imp("_socket").sethostname("pwned")
        print("sethostname:allowed")
    except Exception as e:
        print("sethostname:blocked", type(e).__name__)
    try:
        imp("_socket").socket()
        print("socket:allowed")
    except Exception as e:
        print("socket:blocked", type(e).__name__)
