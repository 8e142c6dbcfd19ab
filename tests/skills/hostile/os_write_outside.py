# ruff: noqa
# expect: ok
# stdout: create_usr:blocked .*\ncreate_tmp:blocked .*\nunlink:blocked .*\nrename:blocked
# mode: unchecked
# create, unlink or rename outside scratch
def _os():
    """Escape the Python layers (run unchecked): the os module's globals, via a subclass walk."""
    for c in ().__class__.__base__.__subclasses__():
        if c.__name__ == "_wrap_close":
            return c.__init__.__globals__


def run(api):
    os = _os()
    try:
        os["open"]("/usr/mendako_pwned", 65)
        print("create_usr:allowed")
    except Exception as e:
        print("create_usr:blocked", type(e).__name__)
    try:
        os["open"]("/tmp/mendako_pwned_write", 65)
        print("create_tmp:allowed")
    except Exception as e:
        print("create_tmp:blocked", type(e).__name__)
    try:
        os["unlink"]("MARKER")
        print("unlink:allowed")
    except Exception as e:
        print("unlink:blocked", type(e).__name__)
    try:
        os["rename"]("/usr/bin/env", "/usr/bin/env2")
        print("rename:allowed")
    except Exception as e:
        print("rename:blocked", type(e).__name__)
