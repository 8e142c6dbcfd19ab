"""The OS boundary itself (bubblewrap + seccomp), probed by a program that has ctypes.

The code-skill child has no ctypes (the stdlib's is masked inside the sandbox), so these
tests run a trusted probe *with* ctypes inside the same boundary, to show that what holds
the line is the kernel, not Python: raw syscalls for chmod, chown, utimensat, setxattr,
prlimit on the parent, stat of a host file, syslog (dmesg), inotify, sethostname, fork,
socket, mount, unshare and ptrace all fail, and host marker files stay byte-for-byte and
inode-for-inode the same.
"""

from __future__ import annotations

import dataclasses
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from skills.code import _boundary
from skills.code.sandbox import run_code_skill

needs_boundary = pytest.mark.skipif(
    _boundary.boundary() is None, reason=f"no OS sandbox here: {_boundary.problem()}"
)

PROBE = textwrap.dedent(
    r"""
    import ctypes, errno, json, os, resource, sys
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    MARKER, PARENT, HIDDEN = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    NR = {"prlimit64": 302, "syslog": 103, "inotify_init1": 294, "sethostname": 170,
          "mount": 165, "unshare": 272, "ptrace": 101, "socket": 41, "fork": 57,
          "chmod": 90, "setxattr": 188, "kill": 62, "memfd_create": 319, "bpf": 321}
    out = {"uid": os.getuid(), "gid": os.getgid(), "proc": os.path.exists("/proc/self"),
           "dev": os.path.exists("/dev/kmsg"), "pid": os.getpid()}

    def raw(name, *args):
        ctypes.set_errno(0)
        r = libc.syscall(NR[name], *args)
        return "ok" if r >= 0 else errno.errorcode.get(ctypes.get_errno(), "?")

    def py(f):
        try:
            f()
            return "ok"
        except OSError as e:
            return errno.errorcode.get(e.errno, "?")

    m = MARKER.encode()
    out["chmod"] = py(lambda: os.chmod(MARKER, 0o777))
    out["chmod_raw"] = raw("chmod", m, 0o777)
    out["chown"] = py(lambda: os.chown(MARKER, 65534, 65534))
    out["utime"] = py(lambda: os.utime(MARKER, (1, 1)))
    out["setxattr"] = py(lambda: os.setxattr(MARKER, "user.pwned", b"1"))
    out["setxattr_raw"] = raw("setxattr", m, b"user.pwned", b"1", 1, 0)
    out["write"] = py(lambda: os.open(MARKER, os.O_WRONLY | os.O_TRUNC))
    out["unlink"] = py(lambda: os.unlink(MARKER))
    out["stat_host"] = py(lambda: os.stat(HIDDEN))
    limit = (ctypes.c_uint64 * 2)(1, 1)
    out["prlimit_parent"] = raw("prlimit64", PARENT, resource.RLIMIT_NOFILE, limit, None)
    out["prlimit_pid1"] = raw("prlimit64", 1, resource.RLIMIT_NOFILE, limit, None)
    out["kill_parent"] = raw("kill", PARENT, 0)
    buf = ctypes.create_string_buffer(4096)
    out["dmesg"] = raw("syslog", 3, buf, 4096)
    out["kmsg"] = py(lambda: os.open("/dev/kmsg", os.O_RDONLY))
    out["inotify"] = raw("inotify_init1", 0)
    out["sethostname"] = raw("sethostname", b"pwned", 5)
    out["mount"] = raw("mount", b"none", b"/scratch", b"tmpfs", 0, None)
    out["unshare_user"] = raw("unshare", 0x10000000)
    out["ptrace"] = raw("ptrace", 16, PARENT, None, None)
    out["socket"] = raw("socket", 2, 1, 0)
    out["fork"] = raw("fork")
    out["memfd"] = raw("memfd_create", b"x", 0)
    out["bpf"] = raw("bpf", 0, None, 0)
    out["scratch_write"] = py(lambda: os.close(os.open("/scratch/f", os.O_CREAT | os.O_WRONLY)))
    print(json.dumps(out))
    """
)


def _snapshot(path: Path) -> tuple[object, ...]:
    st = path.stat()
    xattrs = {k: os.getxattr(path, k) for k in os.listxattr(path)}
    return (st.st_mode, st.st_uid, st.st_gid, st.st_mtime_ns, st.st_ino, xattrs, path.read_bytes())


@pytest.fixture
def open_tmp() -> Iterator[Path]:
    """A folder the sandbox user could reach if it were bound (pytest's tmp_path is 0700)."""
    path = Path(tempfile.mkdtemp(prefix="mendako-marker-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@needs_boundary
def test_kernel_refuses_what_an_escaped_skill_would_try(open_tmp: Path) -> None:
    tmp_path = open_tmp
    b = _boundary.boundary()
    assert b is not None
    shared = tmp_path / "shared"
    shared.mkdir()
    marker = shared / "marker.txt"
    marker.write_bytes(b"do not touch\n")
    os.setxattr(marker, "user.mendako", b"marker")
    hidden = tmp_path / "hidden-secret"
    hidden.write_text("secret")
    for p in (tmp_path, shared):
        p.chmod(0o755)
    marker.chmod(0o644)
    before = _snapshot(marker), _snapshot(hidden)
    nofile = resource.getrlimit(resource.RLIMIT_NOFILE)
    # The probe sees the marker's folder read-only (so the file is there to attack) and has
    # ctypes; the hidden file is outside its view.
    probe_box = dataclasses.replace(
        b, binds=(*b.binds, str(shared)), masked_dirs=(), masked_files=()
    )
    proc = probe_box.spawn(
        [b.python, "-I", "-S", "-c", PROBE, str(marker), str(os.getpid()), str(hidden)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err.decode()
    got = json.loads(out)
    assert (got["uid"], got["gid"]) == (65534, 65534)
    assert got["proc"] is False and got["dev"] is False
    refused = {"EPERM", "EROFS", "EACCES", "ENOENT", "ESRCH"}
    for key in (
        "chmod",
        "chmod_raw",
        "chown",
        "utime",
        "setxattr",
        "setxattr_raw",
        "write",
        "unlink",
        "stat_host",
        "prlimit_parent",
        "prlimit_pid1",
        "kill_parent",
        "dmesg",
        "kmsg",
    ):
        assert got[key] in refused, (key, got[key])
    # what only seccomp stops: EPERM, never "ok" and never EINVAL (the sethostname)
    for key in ("inotify", "sethostname", "mount", "unshare_user", "ptrace", "socket", "fork"):
        assert got[key] == "EPERM", (key, got[key])
    assert got["memfd"] == "EPERM" and got["bpf"] == "EPERM"
    assert got["stat_host"] == "ENOENT"  # not even its metadata: it is not in the view
    assert got["scratch_write"] == "EPERM"  # not even the private tmpfs: no file is created
    assert (_snapshot(marker), _snapshot(hidden)) == before
    assert resource.getrlimit(resource.RLIMIT_NOFILE) == nofile


@needs_boundary
def test_child_has_no_ctypes_and_sees_only_the_read_only_view() -> None:
    b = _boundary.boundary()
    assert b is not None
    program = (
        "import os, sys\n"
        "try:\n    import _ctypes\n    print('_ctypes:loaded')\nexcept ImportError:\n"
        "    print('_ctypes:missing')\n"
        "import ctypes\nprint('CDLL' if hasattr(ctypes, 'CDLL') else 'ctypes:empty')\n"
        "print(sorted(os.listdir('/')))\nprint(os.getcwd())\n"
    )
    proc = b.spawn(
        [b.python, "-I", "-S", "-c", program],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    out, err = proc.communicate(timeout=30)
    lines = out.decode().splitlines()
    assert lines[:2] == ["_ctypes:missing", "ctypes:empty"], err.decode()
    top = set(json.loads(lines[2].replace("'", '"')))
    assert top <= {"usr", "lib", "lib64", "lib32", "libx32", "bin", "sbin", "scratch", "root"}
    assert {"etc", "home", "proc", "dev", "tmp", "work", "var"}.isdisjoint(top)
    assert lines[3] == "/scratch"


def test_untrusted_code_is_refused_without_the_boundary(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(_boundary.BWRAP_ENV, "/nonexistent/bwrap")
    monkeypatch.delenv(_boundary.UNSAFE_ENV, raising=False)
    _boundary._probe.cache_clear()
    try:
        assert _boundary.boundary() is None
        res = run_code_skill("def run(api):\n    pass\n", object(), time_limit_s=5)
        assert (res.ok, res.error_kind) == (False, "unavailable")
        assert res.error is not None and "\n" not in res.error
        assert "bubblewrap (bwrap) not found" in res.error and _boundary.UNSAFE_ENV in res.error
        # shipped skills may run trusted, and the documented override runs untrusted ones
        assert run_code_skill("def run(api):\n    pass\n", object(), trusted=True).ok
        monkeypatch.setenv(_boundary.UNSAFE_ENV, "1")
        res = run_code_skill("def run(api):\n    pass\n", object(), time_limit_s=5)
        assert res.ok and "bwrap" not in res.hardening
    finally:
        _boundary._probe.cache_clear()


@needs_boundary
def test_sandboxed_child_dies_with_its_parent(tmp_path: Path) -> None:
    """Kill -9 the process that started the sandbox: the sandboxed child goes too."""
    script = textwrap.dedent(
        f"""
        import sys, time
        sys.path.insert(0, {str(Path(__file__).parents[2])!r})
        from skills.code import _boundary
        b = _boundary.boundary()
        child = "print('up', flush=True); import time; time.sleep(60)"
        p = b.spawn([b.python, "-I", "-S", "-c", child])
        print(p.pid, flush=True)
        time.sleep(60)
        """
    )
    outer = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE)
    assert outer.stdout is not None
    try:
        bwrap_pid = int(outer.stdout.readline())
        assert outer.stdout.readline() == b"up\n"  # running: bwrap has set its PDEATHSIG
    finally:
        outer.kill()
    outer.wait()
    for _ in range(100):
        try:
            with open(f"/proc/{bwrap_pid}/stat") as fh:
                state = fh.read().split(") ")[-1][0]
            if state == "Z":
                break
        except FileNotFoundError:
            break
        time.sleep(0.05)
    else:
        pytest.fail("the sandbox outlived the process that started it")
