"""Which malloc a worker runs on: jemalloc when the system has it (Debian's `libjemalloc2`),
else the C library's.

A batched decode frees and allocates hundreds of MB a second in buffers of every size, from
several threads; glibc's heaps fragment, so a worker's peak grew with the recording, and
jemalloc's did not (docs/decisions.md#jemalloc). The glibc and MKL settings for a worker
that runs without jemalloc are here too.

A preloaded library must be there when the process starts, so a worker that finds it is
not loaded starts itself again (same pid) with it preloaded."""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import os
import sys
from collections.abc import Mapping
from pathlib import Path

# oversize_threshold:0: large buffers (a window's encoder activations) stay in the ordinary
# arenas; background_thread: freed pages go back after jemalloc's 10 s decay, off the
# decoding threads (docs/decisions.md#jemalloc). An operator's MALLOC_CONF wins.
JEMALLOC_CONF = "oversize_threshold:0,background_thread:true"
_REEXEC_MARK = "KAZRU_ALLOCATOR_REEXEC"  # set once: a preload that failed is not retried
_ALL_ARENAS = 4096  # MALLCTL_ARENAS_ALL


def jemalloc_library() -> str | None:
    """The jemalloc shared library's name as the dynamic loader finds it, if installed."""
    return ctypes.util.find_library("jemalloc")


def jemalloc_loaded() -> bool:
    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        return False
    return "libjemalloc" in maps


def environment(choice: str, env: Mapping[str, str]) -> dict[str, str] | None:
    """`env` with jemalloc preloaded, or None when the process stays on its malloc (`system`,
    or no jemalloc here: the settings check refuses `jemalloc` without it)."""
    library = jemalloc_library()
    if choice == "system" or library is None:
        return None
    out = dict(env)
    out["LD_PRELOAD"] = " ".join(p for p in (library, env.get("LD_PRELOAD", "")) if p)
    out.setdefault("MALLOC_CONF", JEMALLOC_CONF)
    return out


def restart_on(choice: str) -> None:
    """Start this process again (same pid and arguments) with jemalloc preloaded, unless it
    runs on it already, should not, or tried once."""
    if jemalloc_loaded() or os.environ.get(_REEXEC_MARK):
        return
    env = environment(choice, os.environ)
    if env is None:
        return
    env[_REEXEC_MARK] = "1"
    sys.stdout.flush()
    sys.stderr.flush()
    argv = [sys.executable, "-m", "kazru_stt.cli.main", *sys.argv[1:]]
    os.execve(sys.executable, argv, env)


def return_freed_memory() -> None:
    """Hand what is free back to the system now (RSS drops): Python's unreachable cycles
    collected, then jemalloc's purge of every arena, or glibc's malloc_trim. Run after each
    job: glibc otherwise keeps the pages of a long job's decode for good
    (docs/decisions.md#memory-between-jobs)."""
    gc.collect()
    try:
        process = ctypes.CDLL(None)
    except OSError:
        return
    mallctl = getattr(process, "mallctl", None)  # jemalloc's, where it is the malloc
    if mallctl is not None:
        mallctl(f"arena.{_ALL_ARENAS}.purge".encode(), None, None, None, ctypes.c_size_t(0))
        return
    trim = getattr(process, "malloc_trim", None)
    if trim is not None:
        trim(0)


_M_ARENA_MAX = -8  # glibc's mallopt parameter


def limit_malloc_arenas(count: int) -> None:
    """At most `count` glibc heaps: glibc gives threads that allocate at once heaps of their
    own, each keeping what it freed (docs/decisions.md#malloc-arenas). An operator's
    MALLOC_ARENA_MAX wins. glibc only: under jemalloc this changes nothing."""
    if "MALLOC_ARENA_MAX" in os.environ:
        return
    try:
        ctypes.CDLL("libc.so.6").mallopt(_M_ARENA_MAX, count)
    except (OSError, AttributeError):
        pass  # not glibc


def disable_mkl_buffer_pool() -> None:
    """On Intel CPUs, CTranslate2 allocates through Intel MKL, whose own allocator keeps every
    buffer a thread freed for that thread's reuse, out of malloc_trim's reach
    (docs/decisions.md#mkl-pool). MKL reads the setting once,
    at its first use (the first model's load, unless something used MKL before): see
    mkl_buffer_pool_off. An operator's MKL_DISABLE_FAST_MM wins. On AMD CPUs CTranslate2
    uses oneDNN, not MKL: there this changes nothing."""
    os.environ.setdefault("MKL_DISABLE_FAST_MM", "1")


def mkl_buffer_pool_off() -> bool | None:
    """Whether MKL itself has its buffer pool off in this process (None: CTranslate2 is not
    loaded or has no MKL, as on ARM)."""
    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        return None
    paths = {line.split(None, 5)[-1] for line in maps.splitlines() if "libctranslate2" in line}
    for path in paths:
        status = getattr(ctypes.CDLL(path.strip()), "mkl_serv_get_fast_mm_status", None)
        if status is not None:
            return status() == 1
    return None
