# ruff: noqa
# expect: ok
# stdout: ctypes_cdll:blocked .*\nhost_dir:blocked FileNotFoundError
# mode: unchecked
# inotify on host folders: no ctypes to call it, no host folder to watch
def _os():
    """Escape the Python layers (run unchecked): the os module's globals, via a subclass walk."""
    for c in ().__class__.__base__.__subclasses__():
        if c.__name__ == "_wrap_close":
            return c.__init__.__globals__


def run(api):
    g = _os()
    sys = g["sys"]
    imp = g["__builtins__"]["__import__"]  # the real one
    sys.modules.pop("ctypes", None)
    try:
        imp("ctypes").CDLL(None).inotify_init1(0)
        print("ctypes_cdll:allowed")
    except Exception as e:
        print("ctypes_cdll:blocked", type(e).__name__)
    try:
        g["listdir"]("MARKER_DIR")
        print("host_dir:allowed")
    except Exception as e:
        print("host_dir:blocked", type(e).__name__)
