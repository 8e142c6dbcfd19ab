# ruff: noqa
# expect: ok
# stdout: stat_marker:blocked FileNotFoundError\nstat_hidden:blocked FileNotFoundError\nlistdir:blocked FileNotFoundError
# mode: unchecked
# stat of a host file: not even its metadata
def _os():
    """Escape the Python layers (run unchecked): the os module's globals, via a subclass walk."""
    for c in ().__class__.__base__.__subclasses__():
        if c.__name__ == "_wrap_close":
            return c.__init__.__globals__


def run(api):
    os = _os()
    try:
        print(os["stat"]("MARKER"))
        print("stat_marker:allowed")
    except Exception as e:
        print("stat_marker:blocked", type(e).__name__)
    try:
        print(os["stat"]("HIDDEN"))
        print("stat_hidden:allowed")
    except Exception as e:
        print("stat_hidden:blocked", type(e).__name__)
    try:
        print(os["listdir"]("MARKER_DIR"))
        print("listdir:allowed")
    except Exception as e:
        print("listdir:blocked", type(e).__name__)
