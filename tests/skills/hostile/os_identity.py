# ruff: noqa
# expect: ok
# stdout: uid 65534 65534 env \['LC_CTYPE', 'PWD'\]\nroot_extra \[\]\nproc False sys False\ncwd /scratch
# mode: unchecked
# who and where the child is
def _os():
    """Escape the Python layers (run unchecked): the os module's globals, via a subclass walk."""
    for c in ().__class__.__base__.__subclasses__():
        if c.__name__ == "_wrap_close":
            return c.__init__.__globals__


def run(api):
    os = _os()
    print("uid", os["getuid"](), os["getgid"](), "env", sorted(os["environ"]))
    view = {"bin", "lib", "lib32", "lib64", "libx32", "sbin", "scratch", "usr"}
    print("root_extra", sorted(set(os["listdir"]("/")) - view))
    print("proc", os["path"].exists("/proc/self"), "sys", os["path"].exists("/sys"))
    print("cwd", os["getcwd"]())
