"""The one seam between chainrule and the array library.

Every primitive receives raw arrays and asks :func:`xp_of` which module to compute with, so the
same primitive body runs on NumPy arrays today and on CuPy arrays on a GPU, without touching the
primitive itself. Nothing else in chainrule imports an array library for math.
"""

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


def take_rows(array, index):
    """Rows ``index`` (an integer array) of ``array`` along its first axis, as a new array:
    ``take`` where ``array`` is C-contiguous, its fastest gather, else indexing, because
    ``take`` first copies a strided view whole (128 rows of a column ``p[:, 0]`` of 20,000
    pairs of images: 13 ms against 32 µs indexed, 25 µs for ``take`` of a contiguous copy)."""
    if array.flags.c_contiguous:
        return array.take(index, axis=0)
    return array[index]
