"""Giving memory back to the system after large requests (glibc's malloc).

A 12-megapixel photo passes through full-size buffers of 36-48 MB each (decoded pixels,
the cut-out, the mask, PNG bands), in several request threads at once. glibc keeps what
they free in per-thread arenas and hands little of it back, so a web worker would hold
its high-water mark for good. Two measures, both measured in bench/serving.py:
- at most MALLOC_ARENAS arenas per process (glibc's default is 8 per core), so the
  threads reuse the same freed memory instead of each keeping its own;
- `malloc_trim(0)` after a request when the process holds more than TRIM_ABOVE_MIB and
  has grown by TRIM_GROWTH_MIB since the last trim, which returns the freed pages to the
  system. The growth condition keeps small requests cheap: a model's own buffers can keep
  a worker above the threshold for good, and trimming a heap of a few hundred MB after
  every request cost a few milliseconds each.
Elsewhere than glibc (musl, macOS) both are skipped.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

M_ARENA_MAX = -8
MALLOC_ARENAS = int(os.environ.get("MALLOC_ARENAS", "2"))
TRIM_ABOVE_MIB = int(os.environ.get("MALLOC_TRIM_ABOVE_MIB", "200"))
TRIM_GROWTH_MIB = 32
_PAGE = os.sysconf("SC_PAGE_SIZE")


def _glibc():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None
    except OSError:
        return None


_libc = _glibc()


def limit_arenas() -> None:
    """In a process that has not started its threads yet (a forked server worker)."""
    if _libc is not None and MALLOC_ARENAS > 0:
        _libc.mallopt(M_ARENA_MAX, MALLOC_ARENAS)


def resident_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * _PAGE / 2**20


_after_trim = 0.0  # resident MiB right after the last trim


def trim_if_large() -> None:
    """Return freed memory to the system when this process holds more than the threshold
    and has grown since it last did."""
    global _after_trim
    if _libc is None:
        return
    resident = resident_mib()
    if resident > TRIM_ABOVE_MIB and resident > _after_trim + TRIM_GROWTH_MIB:
        _libc.malloc_trim(0)
        _after_trim = resident_mib()
