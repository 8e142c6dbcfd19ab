# ruff: noqa
# expect: ok
# stdout: chmod:blocked .*\nchmod_usr:blocked
# mode: unchecked
# chmod outside scratch
def _os():
    """Escape the Python layers (run unchecked): the os module's globals, via a subclass walk."""
    for c in ().__class__.__base__.__subclasses__():
        if c.__name__ == "_wrap_close":
            return c.__init__.__globals__


def run(api):
    os = _os()
    try:
        os["chmod"]("MARKER", 0o777)
        print("chmod:allowed")
    except Exception as e:
        print("chmod:blocked", type(e).__name__)
    try:
        os["chmod"]("/usr/bin", 0o777)
        print("chmod_usr:allowed")
    except Exception as e:
        print("chmod_usr:blocked", type(e).__name__)
