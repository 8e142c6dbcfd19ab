# ruff: noqa
# expect: ok
# stdout: utime:blocked .*\nutime_usr:blocked
# mode: unchecked
# utime outside scratch
def _os():
    """Escape the Python layers (run unchecked): the os module's globals, via a subclass walk."""
    for c in ().__class__.__base__.__subclasses__():
        if c.__name__ == "_wrap_close":
            return c.__init__.__globals__


def run(api):
    os = _os()
    try:
        os["utime"]("MARKER", (1, 1))
        print("utime:allowed")
    except Exception as e:
        print("utime:blocked", type(e).__name__)
    try:
        os["utime"]("/usr/bin/env", (1, 1))
        print("utime_usr:allowed")
    except Exception as e:
        print("utime_usr:blocked", type(e).__name__)
