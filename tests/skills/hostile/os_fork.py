# ruff: noqa
# expect: ok
# stdout: fork:blocked .*\nposix_spawn:blocked
# mode: unchecked
# no new processes
def _os():
    """Escape the Python layers (run unchecked): the os module's globals, via a subclass walk."""
    for c in ().__class__.__base__.__subclasses__():
        if c.__name__ == "_wrap_close":
            return c.__init__.__globals__


def run(api):
    os = _os()
    try:
        os["fork"]()
        print("fork:allowed")
    except Exception as e:
        print("fork:blocked", type(e).__name__)
    try:
        os["posix_spawn"]("/usr/bin/true", ["true"], {})
        print("posix_spawn:allowed")
    except Exception as e:
        print("posix_spawn:blocked", type(e).__name__)
