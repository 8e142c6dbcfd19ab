"""Kernel-level confinement for the sandbox child: Landlock (files, TCP, signals) and seccomp.

Loaded only by ``_child.py`` (standalone, ``python -I -S``), so it imports nothing beyond the
standard library. Both are best-effort: each function returns False when the kernel or the
architecture does not support it, and the child reports which layers it got.

Why these exist: rlimits stop writes (``RLIMIT_FSIZE=0``) but not creating/removing files,
and ``RLIMIT_NPROC`` does not bind root. Landlock confines file access to the stdlib (read)
and the scratch dir (read/write), forbids TCP and signalling outside the sandbox; seccomp
refuses fork/exec/sockets/ptrace and friends with EPERM.
"""

from __future__ import annotations

import ctypes
import os

_libc = ctypes.CDLL(None, use_errno=True)
_syscall = _libc.syscall
_syscall.restype = ctypes.c_long

_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2

# Landlock (include/uapi/linux/landlock.h)
_SYS_CREATE_RULESET, _SYS_ADD_RULE, _SYS_RESTRICT_SELF = 444, 445, 446
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1
_FS_EXECUTE, _FS_WRITE_FILE, _FS_READ_FILE, _FS_READ_DIR = 1, 2, 4, 8
_FS_ALL_V1 = (1 << 13) - 1
_FS_REFER, _FS_TRUNCATE, _FS_IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
_NET_BIND_TCP, _NET_CONNECT_TCP = 1, 2
_SCOPE_ABSTRACT_UNIX_SOCKET, _SCOPE_SIGNAL = 1, 2


class _RulesetAttr(ctypes.Structure):
    _fields_ = [
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    ]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def _no_new_privs() -> bool:
    return _libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0


def landlock(read_only: list[str], read_write: list[str]) -> bool:
    """Confine file access to these trees, deny TCP bind/connect and outside signals."""
    abi = _syscall(_SYS_CREATE_RULESET, None, 0, _CREATE_RULESET_VERSION)
    if abi < 1:
        return False
    handled = _FS_ALL_V1
    if abi >= 2:
        handled |= _FS_REFER
    if abi >= 3:
        handled |= _FS_TRUNCATE
    if abi >= 5:
        handled |= _FS_IOCTL_DEV
    attr = _RulesetAttr(handled, 0, 0)
    size = 8
    if abi >= 4:
        attr.handled_access_net = _NET_BIND_TCP | _NET_CONNECT_TCP
        size = 16
    if abi >= 6:
        attr.scoped = _SCOPE_ABSTRACT_UNIX_SOCKET | _SCOPE_SIGNAL
        size = 24
    ruleset = _syscall(_SYS_CREATE_RULESET, ctypes.byref(attr), size, 0)
    if ruleset < 0:
        return False
    try:
        reading = _FS_EXECUTE | _FS_READ_FILE | _FS_READ_DIR
        for paths, access in ((read_only, reading), (read_write, handled)):
            for path in paths:
                try:
                    fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
                except OSError:
                    continue
                try:
                    rule = _PathBeneath(access, fd)
                    if _syscall(_SYS_ADD_RULE, ruleset, _RULE_PATH_BENEATH, ctypes.byref(rule), 0):
                        return False
                finally:
                    os.close(fd)
        if not _no_new_privs():
            return False
        return _syscall(_SYS_RESTRICT_SELF, ruleset, 0) == 0
    finally:
        os.close(ruleset)


# seccomp: x86_64 only (numbers from arch/x86/entry/syscalls/syscall_64.tbl).
_AUDIT_ARCH_X86_64 = 0xC000003E
# fmt: off
_DENIED_X86_64 = (
    56, 57, 58, 59, 322, 435,  # clone fork vfork execve execveat clone3
    41, 53, 42, 49,  # socket socketpair connect bind
    62, 200,  # kill tkill (tgkill is allowed for this process only, below)
    101, 310, 311, 434, 424,  # ptrace process_vm_readv/writev pidfd_open pidfd_send_signal
    272, 308, 165, 166, 161, 155,  # unshare setns mount umount2 chroot pivot_root
    321, 298, 323, 250, 248, 249,  # bpf perf_event_open userfaultfd keyctl add_key request_key
    425, 426, 427, 133, 259, 169,  # io_uring_* mknod mknodat reboot
    175, 313, 176, 246, 320,  # init/finit/delete_module kexec_load kexec_file_load
)
# fmt: on
_SYS_TGKILL = 234
_EPERM = 1
_RET_ALLOW, _RET_KILL_PROCESS, _RET_ERRNO = 0x7FFF0000, 0x80000000, 0x00050000
_LD_W_ABS, _JEQ_K, _JGE_K, _RET_K = 0x20, 0x15, 0x35, 0x06


class _SockFilter(ctypes.Structure):
    _fields_ = [
        ("code", ctypes.c_uint16),
        ("jt", ctypes.c_uint8),
        ("jf", ctypes.c_uint8),
        ("k", ctypes.c_uint32),
    ]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_SockFilter))]


def seccomp() -> bool:
    """Refuse process creation, exec, sockets, ptrace and other escapes with EPERM."""
    if os.uname().machine != "x86_64":
        return False
    denied = _DENIED_X86_64
    n = len(denied)
    # Layout: 0 arch, 1 arch check, 2 nr, 3 x32 check, 4..4+n-1 denials, then
    # tgkill check, load arg0, own-pid check, ALLOW, ERRNO, KILL.
    prog: list[tuple[int, int, int, int]] = [(_LD_W_ABS, 0, 0, 4)]
    allow = 4 + n + 3
    errno, kill = allow + 1, allow + 2
    prog.append((_JEQ_K, 0, kill - 2, _AUDIT_ARCH_X86_64))
    prog.append((_LD_W_ABS, 0, 0, 0))
    prog.append((_JGE_K, kill - 4, 0, 0x40000000))
    for i, nr in enumerate(denied):
        prog.append((_JEQ_K, errno - (5 + i), 0, nr))
    here = 4 + n
    prog.append((_JEQ_K, 0, allow - (here + 1), _SYS_TGKILL))
    prog.append((_LD_W_ABS, 0, 0, 16))  # args[0] low word: the target thread group
    prog.append((_JEQ_K, 0, errno - (here + 3), os.getpid()))
    prog.append((_RET_K, 0, 0, _RET_ALLOW))
    prog.append((_RET_K, 0, 0, _RET_ERRNO | _EPERM))
    prog.append((_RET_K, 0, 0, _RET_KILL_PROCESS))
    filters = (_SockFilter * len(prog))(*(_SockFilter(*ins) for ins in prog))
    fprog = _SockFprog(len(prog), filters)
    if not _no_new_privs():
        return False
    return _libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) == 0
