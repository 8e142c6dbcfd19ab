# ruff: noqa
# expect: ok
# stdout: dev_kmsg:blocked .*\nproc_kmsg:blocked .*\nsyslog_file:blocked
# mode: unchecked
# read the kernel log
def _os():
    """Escape the Python layers (run unchecked): the os module's globals, via a subclass walk."""
    for c in ().__class__.__base__.__subclasses__():
        if c.__name__ == "_wrap_close":
            return c.__init__.__globals__


def run(api):
    os = _os()
    try:
        os["open"]("/dev/kmsg", 0)
        print("dev_kmsg:allowed")
    except Exception as e:
        print("dev_kmsg:blocked", type(e).__name__)
    try:
        os["open"]("/proc/kmsg", 0)
        print("proc_kmsg:allowed")
    except Exception as e:
        print("proc_kmsg:blocked", type(e).__name__)
    try:
        os["open"]("/var/log/syslog", 0)
        print("syslog_file:allowed")
    except Exception as e:
        print("syslog_file:blocked", type(e).__name__)
