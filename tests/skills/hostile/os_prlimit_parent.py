# ruff: noqa
# expect: ok
# stdout: prlimit_parent:blocked .*\nprlimit_pid1:blocked
# mode: unchecked
# prlimit on the parent (killed mendako run before)
def _os():
    """Escape the Python layers (run unchecked): the os module's globals, via a subclass walk."""
    for c in ().__class__.__base__.__subclasses__():
        if c.__name__ == "_wrap_close":
            return c.__init__.__globals__


def run(api):
    g = _os()
    resource = g["sys"].modules["resource"]
    try:
        resource.prlimit(PARENT_PID, resource.RLIMIT_NOFILE, (1, 1))
        print("prlimit_parent:allowed")
    except Exception as e:
        print("prlimit_parent:blocked", type(e).__name__)
    try:
        resource.prlimit(1, resource.RLIMIT_NOFILE, (1, 1))
        print("prlimit_pid1:allowed")
    except Exception as e:
        print("prlimit_pid1:blocked", type(e).__name__)
