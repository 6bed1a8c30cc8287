"""Giving memory back to the system after large requests (glibc's malloc).

A 12-megapixel photo passes through full-size buffers of 36-48 MB each (decoded pixels,
the cut-out, the mask, PNG bands), in several request threads at once. glibc keeps what
they free in per-thread arenas and hands little of it back, so a web worker would hold
its high-water mark for good. Two measures, both measured in bench/serving.py:
- at most MALLOC_ARENAS arenas per process (glibc's default is 8 per core), so the
  threads reuse the same freed memory instead of each keeping its own;
- a fixed mmap threshold (MALLOC_MMAP_THRESHOLD_KIB, 1 MiB): glibc otherwise raises it to
  32 MB after the first large buffer is freed, so image-sized buffers land in the heap,
  where they fragment it; above the threshold each is its own mapping, given back the
  moment it is freed (in one process here: 364 MiB after a mixed load against 512);
- `malloc_trim(0)` after a request when the process holds more than TRIM_ABOVE_MIB, which
  returns the freed pages to the system (0.2 ms when there is nothing to give back).
Elsewhere than glibc (musl, macOS) both are skipped.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

M_ARENA_MAX = -8
M_MMAP_THRESHOLD = -3
MALLOC_ARENAS = int(os.environ.get("MALLOC_ARENAS", "2"))
MMAP_THRESHOLD_KIB = int(os.environ.get("MALLOC_MMAP_THRESHOLD_KIB", "1024"))
TRIM_ABOVE_MIB = int(os.environ.get("MALLOC_TRIM_ABOVE_MIB", "200"))
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
    if _libc is None:
        return
    if MALLOC_ARENAS > 0:
        _libc.mallopt(M_ARENA_MAX, MALLOC_ARENAS)
    if MMAP_THRESHOLD_KIB > 0:
        _libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_KIB * 1024)


def resident_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * _PAGE / 2**20


def trim_if_large() -> None:
    """Return freed memory to the system when this process holds more than the threshold."""
    if _libc is not None and resident_mib() > TRIM_ABOVE_MIB:
        _libc.malloc_trim(0)
