# ruff: noqa
# expect: ok
# stdout: kill_parent:blocked .*\nkill_pid1:blocked .*\nkillpg:blocked
# mode: unchecked
# signals to the parent or the sandbox's init
def _os():
    """Escape the Python layers (run unchecked): the os module's globals, via a subclass walk."""
    for c in ().__class__.__base__.__subclasses__():
        if c.__name__ == "_wrap_close":
            return c.__init__.__globals__


def run(api):
    os = _os()
    try:
        os["kill"](PARENT_PID, 9)
        print("kill_parent:allowed")
    except Exception as e:
        print("kill_parent:blocked", type(e).__name__)
    try:
        os["kill"](1, 9)
        print("kill_pid1:allowed")
    except Exception as e:
        print("kill_pid1:blocked", type(e).__name__)
    try:
        os["killpg"](0, 9)
        print("killpg:allowed")
    except Exception as e:
        print("killpg:blocked", type(e).__name__)
