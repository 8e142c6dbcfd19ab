# ruff: noqa
# expect: ok
# stdout: setxattr:blocked .*\nsetxattr_usr:blocked
# mode: unchecked
# setxattr outside scratch
def _os():
    """Escape the Python layers (run unchecked): the os module's globals, via a subclass walk."""
    for c in ().__class__.__base__.__subclasses__():
        if c.__name__ == "_wrap_close":
            return c.__init__.__globals__


def run(api):
    os = _os()
    try:
        os["setxattr"]("MARKER", "user.pwned", b"1")
        print("setxattr:allowed")
    except Exception as e:
        print("setxattr:blocked", type(e).__name__)
    try:
        os["setxattr"]("/usr/bin/env", "user.pwned", b"1")
        print("setxattr_usr:allowed")
    except Exception as e:
        print("setxattr_usr:blocked", type(e).__name__)
