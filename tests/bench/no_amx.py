"""A processor without AMX, on one with it: `CARREL_BENCH_NO_AMX=1 python -m tests.bench...`.

Linux hands AMX's tile registers only to a process that asks for them
(`arch_prctl(ARCH_REQ_XCOMP_PERM)`), and oneDNN (torch, OpenVINO) and onnxruntime's MLAS
use AMX only once that request succeeds. `deny_amx` installs a seccomp filter that makes
the request fail with EPERM for this process and every process it starts, so their
libraries take the AVX-512 (VNNI) kernels a Xeon without AMX would run (Ice Lake, Cascade
Lake). It must run before any library has asked: `tests/bench/__init__.py` calls it when
the variable is set, before a bench imports anything.

The rest of the processor stays as it is (its caches, AVX-512 clocks): a stand-in for such
processors, not one of them, and nothing for AVX2-only ones.
"""

from __future__ import annotations

import ctypes
import struct

ARCH_GET_XCOMP_PERM = 0x1022
ARCH_REQ_XCOMP_PERM = 0x1023
XFEATURE_XTILEDATA = 18
SYS_ARCH_PRCTL = 158  # x86-64
AUDIT_ARCH_X86_64 = 0xC000003E
PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
EPERM = 1


def _op(code: int, jump_true: int, jump_false: int, k: int) -> bytes:
    return struct.pack("HBBI", code, jump_true, jump_false, k)


# Classic BPF over `struct seccomp_data` (nr at 0, arch at 4, args[0] at 16).
_LOAD, _JUMP_IF, _RETURN = 0x20, 0x15, 0x06
_FILTER = b"".join(
    [
        _op(_LOAD, 0, 0, 4),
        _op(_JUMP_IF, 0, 5, AUDIT_ARCH_X86_64),
        _op(_LOAD, 0, 0, 0),
        _op(_JUMP_IF, 0, 3, SYS_ARCH_PRCTL),
        _op(_LOAD, 0, 0, 16),
        _op(_JUMP_IF, 0, 1, ARCH_REQ_XCOMP_PERM),
        _op(_RETURN, 0, 0, 0x00050000 | EPERM),  # SECCOMP_RET_ERRNO
        _op(_RETURN, 0, 0, 0x7FFF0000),  # SECCOMP_RET_ALLOW
    ]
)


class _Program(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


_kept: list[object] = []


def amx_granted() -> bool:
    """Whether this process has been given AMX's tiles (by a library's request)."""
    libc = ctypes.CDLL(None, use_errno=True)
    features = ctypes.c_uint64(0)
    libc.syscall(SYS_ARCH_PRCTL, ARCH_GET_XCOMP_PERM, ctypes.byref(features))
    return bool(features.value >> XFEATURE_XTILEDATA & 1)


def amx_request() -> bool:
    """Ask for AMX's tiles, as the libraries do; whether it was granted."""
    libc = ctypes.CDLL(None, use_errno=True)
    return int(libc.syscall(SYS_ARCH_PRCTL, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA)) == 0


def deny_amx() -> None:
    """Make every later request for AMX's tiles in this process and its children fail."""
    libc = ctypes.CDLL(None, use_errno=True)
    code = ctypes.create_string_buffer(_FILTER)
    program = _Program(len(_FILTER) // 8, ctypes.addressof(code))
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS)")
    if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(program), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_SECCOMP)")
    _kept.extend([code, program])
    if amx_granted() or amx_request():
        raise RuntimeError("AMX was granted before the filter (deny_amx ran too late)")
