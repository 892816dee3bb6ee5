"""The batch split over the CPU's cores, by chainrule's own threads.

A training step on images spends most of its time in passes over memory (im2col copies, pooling
masks, gradient scatters) that NumPy runs on one core, and in matrix products that the BLAS
library spreads over all of them. Every sample of a batch goes through those ops independently,
so the batch can be cut in one contiguous part per core and each part computed by its own thread:
NumPy releases the interpreter lock inside its loops and the BLAS calls, so the parts run at the
same time, the memory passes included.

Inside :func:`using_cores` (which ``fit``, ``evaluate`` and ``predict`` enter), the BLAS library
runs each call on one thread, the caller's, and the ops that carry the work hand
:func:`over_parts` a function of one part of their batch (convolutions, pooling, the optimizers'
updates) or of their product's rows or columns (:func:`matmul`, for dense layers). The BLAS
library's own threads must stay asleep meanwhile: after a call they keep polling for the next one
for a while, and would take the cores from chainrule's threads. Outside :func:`using_cores`, or
with ``CHAINRULE_NUM_THREADS=1``, or where the BLAS library's thread count cannot be set,
everything runs in the calling thread, the products on the BLAS library's threads.

The parts are fixed by the batch size and the thread count, never by timing, so results are the
same from run to run; where the parts' results are summed (a kernel gradient, say), they are
added in part order.
"""

import contextlib
import ctypes
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy

from . import runtime

#: Work below this many scalar operations runs in one piece: a part handed to another thread
#: costs tens of microseconds, about what this much work takes.
MIN_WORK = 1 << 20

_lock = threading.Lock()
_depth = 0  # nesting of using_cores() blocks (fit calling evaluate, say)
_pool = None  # the other threads while inside using_cores(), else None
_parts = 1


def parts():
    """How many parts the batch is cut into now: the thread count inside :func:`using_cores`,
    else 1."""
    return _parts


def over_parts(function, n, work=None):
    """Call ``function(rows)`` for contiguous slices ``rows`` that cut ``range(n)`` into
    :func:`parts` pieces, one per thread (the first in the calling thread); their results in
    order.

    ``work`` (scalar operations of the whole call, default ``MIN_WORK``) below ``MIN_WORK``, or
    n below the number of parts, makes it one call, ``function(slice(0, n))``, in this thread.
    Each thread runs with the caller's floating-point mode (subnormals flushed or not).
    """
    count = _parts if (work is None or work >= MIN_WORK) else 1
    if count == 1 or n < count:
        return [function(slice(0, n))]
    bounds = [n * k // count for k in range(count + 1)]
    pieces = [slice(a, b) for a, b in zip(bounds, bounds[1:])]
    mode = runtime.floating_point_mode()
    futures = [_pool.submit(_in_mode, mode, function, rows) for rows in pieces[1:]]
    results = [function(pieces[0])]
    return results + [future.result() for future in futures]


def _in_mode(mode, function, rows):
    with runtime.floating_point_mode_set(mode):
        return function(rows)


def sum_over_parts(function, n, work=None):
    """``over_parts`` for a function whose parts' results add up to the whole's (a gradient
    summed over the batch): their sum, added in part order."""
    results = over_parts(function, n, work)
    total = results[0]
    for result in results[1:]:
        total += result
    return total


def splits(*arrays):
    """True if ops on ``arrays`` may be cut over threads: inside :func:`using_cores`, and
    NumPy arrays (another array library parallelises its own kernels)."""
    return _parts > 1 and all(type(a) is numpy.ndarray for a in arrays)


def thread_count():
    """The threads :func:`using_cores` runs: ``CHAINRULE_NUM_THREADS`` if set, else the cores
    this process may run on."""
    wanted = os.environ.get("CHAINRULE_NUM_THREADS", "")
    if wanted.strip():
        try:
            return max(1, int(wanted))
        except ValueError:
            raise ValueError(
                f"CHAINRULE_NUM_THREADS must be a positive integer; it is {wanted!r}."
            ) from None
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


@contextlib.contextmanager
def using_cores():
    """Within the block, ops cut their work over :func:`thread_count` threads and the BLAS
    library runs each call on one thread; both are restored on exit. Does nothing with one
    thread, or when the BLAS library's thread count cannot be set (two kinds of threads on the
    same cores would compete), or inside another such block."""
    global _depth, _pool, _parts
    with _lock:
        _depth += 1
        start = _depth == 1
    blas = _blas_threads() if start else None
    count = thread_count() if blas else 1
    if count > 1:
        saved = blas[0]()
        blas[1](1)
        _pool = ThreadPoolExecutor(count - 1, thread_name_prefix="chainrule")
        _parts = count
    try:
        yield
    finally:
        if count > 1:
            _parts = 1
            _pool.shutdown()
            _pool = None
            blas[1](saved)
        with _lock:
            _depth -= 1


def matmul(a, b):
    """a @ b for matrices (n, k) @ (k, m), cut over the threads inside :func:`using_cores`
    (one BLAS call each): by rows when n is large, else by columns, so that each thread's
    product stays a large one."""
    if not splits(a, b) or a.ndim != 2 or b.ndim != 2:
        return a @ b
    (n, k), m = a.shape, b.shape[1]
    out = numpy.empty((n, m), dtype=numpy.result_type(a, b))
    if n >= _ROWS_ENOUGH or n >= m:

        def part(rows):
            numpy.matmul(a[rows], b, out=out[rows])

        over_parts(part, n, n * k * m // PRODUCT_SPEEDUP)
    else:

        def part(columns):
            numpy.matmul(a, b[:, columns], out=out[:, columns])

        over_parts(part, m, n * k * m // PRODUCT_SPEEDUP)
    return out


#: How many multiply-adds of a product take the time of one scalar operation of a memory pass
#: (the unit of ``work``): a product is cut from 8 M multiply-adds on.
PRODUCT_SPEEDUP = 8
_ROWS_ENOUGH = 256  # rows from which a product is cut by rows (each part still fills the cores)


# The BLAS libraries whose thread count can be read and set, by the names of their functions:
# the OpenBLAS that NumPy's wheels bundle (64-bit integers, prefixed), and OpenBLAS built plainly.
_BLAS_FUNCTIONS = (
    ("scipy_openblas_get_num_threads64_", "scipy_openblas_set_num_threads64_"),
    ("scipy_openblas_get_num_threads", "scipy_openblas_set_num_threads"),
    ("openblas_get_num_threads64_", "openblas_set_num_threads64_"),
    ("openblas_get_num_threads", "openblas_set_num_threads"),
)
_blas = None


def _blas_threads():
    """(get, set) for the thread count of the BLAS library NumPy loaded, or None where it is not
    found (only OpenBLAS on Linux is looked for)."""
    global _blas
    if _blas is None:
        _blas = False
        for path in _loaded_libraries("openblas"):
            try:
                library = ctypes.CDLL(path)
            except OSError:
                continue
            for get_name, set_name in _BLAS_FUNCTIONS:
                get, set_ = getattr(library, get_name, None), getattr(library, set_name, None)
                if get is not None and set_ is not None:
                    get.restype, set_.argtypes = ctypes.c_int, [ctypes.c_int]
                    _blas = (get, set_)
                    return _blas
    return _blas or None


def _loaded_libraries(part):
    """Paths of the shared libraries mapped into this process whose file name contains
    ``part`` (read from /proc/self/maps; none elsewhere)."""
    if sys.platform != "linux":
        return []
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if ".so" in line}
    except OSError:
        return []
    return sorted(p for p in paths if part in os.path.basename(p).lower())
