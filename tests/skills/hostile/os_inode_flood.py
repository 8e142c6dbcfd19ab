# ruff: noqa
# expect: ok
# stdout: create_scratch:blocked PermissionError\ncreate_tmpfile:blocked PermissionError
# mode: unchecked
# no file can be created, not even in the private scratch (no inode flood of a tmpfs)
def _os():
    """Escape the Python layers (run unchecked): the os module's globals, via a subclass walk."""
    for c in ().__class__.__base__.__subclasses__():
        if c.__name__ == "_wrap_close":
            return c.__init__.__globals__


def run(api):
    os = _os()
    try:
        for i in range(100000):
            os["close"](os["open"](f"/scratch/f{i}", os["O_CREAT"] | os["O_WRONLY"]))
        print("create_scratch:allowed")
    except Exception as e:
        print("create_scratch:blocked", type(e).__name__)
    try:
        os["open"]("/scratch", os["O_TMPFILE"] | os["O_WRONLY"])
        print("create_tmpfile:allowed")
    except Exception as e:
        print("create_tmpfile:blocked", type(e).__name__)
