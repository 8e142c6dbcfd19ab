# ruff: noqa
# expect: crashed
# message: exited with status
# mode: unchecked
# exec replaces the child inside the same sandbox: no report, so a failure
def _os():
    """Escape the Python layers (run unchecked): the os module's globals, via a subclass walk."""
    for c in ().__class__.__base__.__subclasses__():
        if c.__name__ == "_wrap_close":
            return c.__init__.__globals__


def run(api):
    os = _os()
    os["execv"]("/usr/bin/true", ["true"])
