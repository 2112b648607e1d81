"""A processor with AVX2 and no AVX-512, VNNI or AMX, on one with them:
`CARREL_BENCH_AVX2=1 python -m tests.bench...`.

The libraries that run the embedder (torch's oneDNN and cpuinfo, OpenVINO's oneDNN,
onnxruntime's MLAS) choose their kernels from what the `cpuid` instruction reports. Linux
can make `cpuid` fault for a thread (`arch_prctl(ARCH_SET_CPUID, 0)`, where the processor
supports CPUID faulting: the `cpuid_fault` flag; inherited by the threads it starts, reset
by `execve`). A small preloaded library (`SOURCE`, compiled with the machine's gcc into
Carrel's cache) turns faulting on in its constructor and answers each `cpuid` from its
SIGSEGV handler: the real answer with the AVX-512, VNNI (AVX-512's and AVX's), AMX,
bfloat16 and AVX10 bits cleared, as on a Haswell-to-Skylake or Zen 2/3 processor. The
bench's process re-executes itself with it in `LD_PRELOAD`, so its children have it too.

What it is not: the processor's caches and clocks stay this Xeon's, `/proc/cpuinfo` still
lists AVX-512 (so Carrel's "auto" still chooses as here: benches name their runtimes), and
glibc's own string functions chose theirs before the constructor ran. A stand-in for such
processors' kernels, not one of them. A SIGSEGV that is not a `cpuid` goes to the default
action (a crash, as without it); Python's faulthandler must stay off.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ENV = "CARREL_BENCH_AVX2"

SOURCE = r"""
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>
#include <cpuid.h>

#define ARCH_SET_CPUID 0x1012

static void cpuid_on(int on) { syscall(SYS_arch_prctl, ARCH_SET_CPUID, on); }

static void mask(uint32_t leaf, uint32_t sub, uint32_t r[4]) {
    if (leaf == 7 && sub == 0) {
        /* EBX: AVX512F, DQ, IFMA, PF, ER, CD, BW, VL */
        r[1] &= ~((1u << 16) | (1u << 17) | (1u << 21) | (1u << 26) | (1u << 27) |
                  (1u << 28) | (1u << 30) | (1u << 31));
        /* ECX: VBMI, VBMI2, VNNI, BITALG, VPOPCNTDQ */
        r[2] &= ~((1u << 1) | (1u << 6) | (1u << 11) | (1u << 12) | (1u << 14));
        /* EDX: 4VNNIW, 4FMAPS, VP2INTERSECT, AMX-BF16, AVX512-FP16, AMX-TILE, AMX-INT8 */
        r[3] &= ~((1u << 2) | (1u << 3) | (1u << 8) | (1u << 22) | (1u << 23) |
                  (1u << 24) | (1u << 25));
    } else if (leaf == 7 && sub == 1) {
        /* EAX: AVX-VNNI, AVX512-BF16, AMX-FP16, AVX-IFMA */
        r[0] &= ~((1u << 4) | (1u << 5) | (1u << 21) | (1u << 23));
        /* EDX: AVX-VNNI-INT8, AVX-NE-CONVERT, AMX-COMPLEX, AVX10 */
        r[3] &= ~((1u << 4) | (1u << 5) | (1u << 8) | (1u << 19));
    } else if (leaf == 0x1d || leaf == 0x1e || leaf == 0x24) {
        r[0] = r[1] = r[2] = r[3] = 0; /* AMX tiles, AVX10 */
    }
}

static void on_fault(int sig, siginfo_t *info, void *context) {
    ucontext_t *uc = (ucontext_t *)context;
    greg_t *g = uc->uc_mcontext.gregs;
    const unsigned char *at = (const unsigned char *)g[REG_RIP];
    /* A faulting cpuid is a general-protection fault (SI_KERNEL); a bad address is not,
       and then the bytes at RIP may not be readable. */
    if (info->si_code != SI_KERNEL || at[0] != 0x0f || at[1] != 0xa2) {
        signal(sig, SIG_DFL); /* not ours: fault again, by default */
        return;
    }
    uint32_t leaf = (uint32_t)g[REG_RAX], sub = (uint32_t)g[REG_RCX], r[4];
    cpuid_on(1);
    __cpuid_count(leaf, sub, r[0], r[1], r[2], r[3]);
    cpuid_on(0);
    mask(leaf, sub, r);
    g[REG_RAX] = r[0];
    g[REG_RBX] = r[1];
    g[REG_RCX] = r[2];
    g[REG_RDX] = r[3];
    g[REG_RIP] += 2;
}

__attribute__((constructor)) static void start(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGSEGV, &sa, 0);
    cpuid_on(0);
}
"""


def shim() -> Path:
    """The compiled library (made once per source, in Carrel's cache folder)."""
    from app.config import Paths

    digest = hashlib.sha256(SOURCE.encode()).hexdigest()[:12]
    target = Paths.default().cache_dir / "bench" / f"avx2-cpuid-{digest}.so"
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "avx2.c"
        src.write_text(SOURCE)
        built = Path(tmp) / "avx2.so"
        subprocess.run(["gcc", "-O2", "-shared", "-fPIC", "-o", built, src], check=True)
        built.replace(target)
    return target


def as_avx2() -> None:
    """Re-execute this process with the library preloaded, unless it already is; refuses
    where the processor cannot make `cpuid` fault."""
    library = str(shim())
    if library in os.environ.get("LD_PRELOAD", "").split(":"):
        return
    flags = Path("/proc/cpuinfo").read_text().split()
    if "cpuid_fault" not in flags:
        raise SystemExit(f"{ENV}: this processor cannot make cpuid fault (no cpuid_fault)")
    preload = os.environ.get("LD_PRELOAD", "")
    os.environ["LD_PRELOAD"] = f"{library}:{preload}" if preload else library
    sys.stdout.flush()
    os.execv(sys.executable, sys.orig_argv)
