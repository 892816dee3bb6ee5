"""The one seam between chainrule and the array library.

Every primitive receives raw arrays and asks :func:`xp_of` which module to compute with, so the
same primitive body runs on NumPy arrays today and on CuPy arrays on a GPU, without touching the
primitive itself. Nothing else in chainrule imports an array library for math.
"""

import ctypes
import os
import sys

import numpy

try:  # pragma: no cover - CuPy is only present on GPU machines
    import cupy
except ImportError:  # pragma: no cover
    cupy = None


def xp_of(*arrays):
    """Return the array module (``numpy`` or ``cupy``) that owns the given arrays."""
    if cupy is not None:
        for a in arrays:
            if isinstance(a, cupy.ndarray):
                return cupy
    return numpy


def asnumpy(array):
    """Return ``array`` as a NumPy ndarray (copies a GPU array to the host)."""
    if cupy is not None and isinstance(array, cupy.ndarray):
        return cupy.asnumpy(array)
    return numpy.asarray(array)


ndarray_types = (numpy.ndarray,) if cupy is None else (numpy.ndarray, cupy.ndarray)


# C allocator options (glibc's mallopt): the most freed memory kept at the top of the heap, and
# the size from which an allocation gets pages of its own (32 MiB, glibc's upper bound).
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_KEPT_BYTES, _OWN_PAGES_FROM = 512 << 20, 32 << 20
_memory_kept = None


def keep_freed_memory():
    """Ask the C allocator to keep the memory NumPy frees, so that the next step reuses it.

    A training step allocates and frees the same large arrays every time (feature maps, their
    gradients, im2col matrices). glibc's malloc gives arrays above 128 KiB pages of their own
    and returns them to the system when they are freed, and trims freed memory off the top of
    its heap, so the next step faults every page in again; in a virtualised machine a page fault
    costs microseconds, and a convolutional step can spend a third of its time in them.

    This serves arrays of up to 32 MiB from the heap and keeps up to 512 MiB of freed memory
    there: the process holds on to about its peak memory between steps instead of giving it back.
    It is done once per process by ``fit``, ``evaluate`` and ``predict``, only with glibc (Linux),
    and not at all when the environment sets ``CHAINRULE_KEEP_FREED_MEMORY=0``.

    Returns:
        True if the allocator keeps freed memory (now or from an earlier call).
    """
    global _memory_kept
    if _memory_kept is None:
        _memory_kept = False
        if os.environ.get("CHAINRULE_KEEP_FREED_MEMORY", "1") != "0" and sys.platform == "linux":
            try:
                libc = ctypes.CDLL("libc.so.6")
                _memory_kept = bool(
                    libc.mallopt(_M_MMAP_THRESHOLD, _OWN_PAGES_FROM)
                    and libc.mallopt(_M_TRIM_THRESHOLD, _KEPT_BYTES)
                )
            except (OSError, AttributeError):  # not glibc (musl, say): leave malloc alone
                _memory_kept = False
    return _memory_kept
