# ruff: noqa
# expect: ok
# stdout: environ:blocked .*\nparent_mem:blocked
# mode: unchecked
# no /proc of the host
def _os():
    """Escape the Python layers (run unchecked): the os module's globals, via a subclass walk."""
    for c in ().__class__.__base__.__subclasses__():
        if c.__name__ == "_wrap_close":
            return c.__init__.__globals__


def run(api):
    os = _os()
    try:
        os["open"]("/proc/1/environ", 0)
        print("environ:allowed")
    except Exception as e:
        print("environ:blocked", type(e).__name__)
    try:
        os["open"]("/proc/PARENT_PID/mem", 0)
        print("parent_mem:allowed")
    except Exception as e:
        print("parent_mem:blocked", type(e).__name__)
