"""The batch cut over the CPU's cores, by chainrule's own threads.

A training step on images spends most of its time in passes over memory (im2col copies, pooling
masks, gradient scatters) that NumPy runs on one core, and in matrix products. Every image of a
batch goes through those ops on its own, so the batch can be cut in one contiguous part per core
and each part computed by its own thread: NumPy releases the interpreter lock inside its loops and
its BLAS calls, so the parts run at the same time, the memory passes included.

Inside :func:`using_cores` (which ``fit``, ``evaluate`` and ``predict`` enter), the ops that carry
large passes (the kernels of convolutions and poolings, :mod:`.kernels`) hand :func:`over_parts`
a function of one part of their batch. The first time they do, the BLAS library is set to run
each call on the calling thread only, until the block ends: its own threads keep polling for
work for a while after each call and would take the cores from chainrule's. From then on, large matrix products (dense layers)
are cut over chainrule's threads too (:func:`matmul`). A model without such ops (a dense
network) never cuts anything, and its products keep the BLAS library's threads, which split a
product as well as chainrule's threads would. Many short NumPy calls (an optimizer's update, a
block at a time) stay in one thread: two threads would mostly wait for the interpreter lock.

Outside :func:`using_cores`, with ``CHAINRULE_NUM_THREADS=1``, or where the BLAS library's
thread count cannot be set, everything runs in the calling thread.

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

from . import process

#: Parts of fewer rows than this are not worth a thread's wake-up: a training step of 32
#: MNIST images ran 10 % slower cut in two, one of 64 about 20 % faster.
MIN_ROWS = 32

#: Work below this many units runs in one piece. The unit is an element read or written by a
#: memory pass, or PRODUCT_SPEEDUP multiply-adds of a matrix product (which run that much faster
#: per operation); a million take about half a millisecond on one core, a few times what handing
#: a part to another thread and waiting for it costs.
MIN_WORK = 1 << 20
PRODUCT_SPEEDUP = 32


def work_units(multiply_adds=0, elements=0):
    """The work of an op in MIN_WORK's unit: its products' multiply-adds and its memory passes'
    elements."""
    return multiply_adds // PRODUCT_SPEEDUP + elements


_lock = threading.Lock()
_depth = 0  # nesting of using_cores() blocks (fit calling evaluate, say)
_pool = None  # the other threads while inside using_cores(), else None
_owner = None  # the thread that entered using_cores(): only its ops are cut
_parts = 1
_blas_saved = None  # the BLAS library's thread count, while chainrule's threads replace it
_worker = threading.local()  # .busy: this thread is running a part (which is never cut again)


def parts():
    """How many parts the batch is cut into now: the thread count inside :func:`using_cores`,
    else 1."""
    return _parts


def over_parts(function, n, work=None):
    """Call ``function(rows)`` for contiguous slices ``rows`` that cut ``range(n)`` into
    :func:`parts` pieces, one per thread (the first in the calling thread); their results in
    order.

    ``work`` (in MIN_WORK's unit, for the whole call; default ``MIN_WORK``) below ``MIN_WORK``,
    or fewer than ``MIN_ROWS`` rows per part, makes it one call, ``function(slice(0, n))``, in
    this thread.
    Each thread runs with the caller's floating-point mode (subnormals flushed or not).
    """
    global _blas_saved
    count = _parts if (work is None or work >= MIN_WORK) else 1
    pool = _pool
    if (
        count == 1
        or n < count * MIN_ROWS
        or pool is None
        or getattr(_worker, "busy", False)
        or threading.get_ident() != _owner
    ):
        return [function(slice(0, n))]
    if _blas_saved is None:  # from now on the BLAS library runs in the calling thread
        get, set_ = _blas
        _blas_saved = get()
        set_(1)
    bounds = [n * k // count for k in range(count + 1)]
    pieces = [slice(a, b) for a, b in zip(bounds, bounds[1:])]
    mode = process.floating_point_mode()
    futures = [pool.submit(_in_mode, mode, function, rows) for rows in pieces[1:]]
    _worker.busy = True
    try:
        results = [function(pieces[0])]
    finally:
        _worker.busy = False
    return results + [future.result() for future in futures]


def _in_mode(mode, function, rows):
    _worker.busy = True
    try:
        with process.floating_point_mode_set(mode):
            return function(rows)
    finally:
        _worker.busy = False


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
    if _parts == 1:
        return False
    for a in arrays:
        if type(a) is not numpy.ndarray:
            return False
    return True


def thread_count():
    """The threads :func:`using_cores` runs: ``CHAINRULE_NUM_THREADS`` if set, else the cores
    this process may run on."""
    wanted = os.environ.get("CHAINRULE_NUM_THREADS", "")
    if wanted.strip():
        try:
            count = int(wanted)
        except ValueError:
            count = 0
        if count < 1:
            raise ValueError(
                f"CHAINRULE_NUM_THREADS must be a positive integer; it is {wanted!r}. Unset it to "
                f"use every core, or set it to 1 to run in one thread."
            )
        return count
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


@contextlib.contextmanager
def using_cores():
    """Within the block, ops that this thread runs may cut their work over
    :func:`thread_count` threads (and the BLAS library then runs each call on one thread; its
    thread count is restored on exit). Does nothing with one thread, where the BLAS library's
    thread count cannot be set (two kinds of threads on the same cores would compete), or while
    another such block is active (nested, or in another thread: two trainings at once share the
    cores as they are)."""
    global _depth, _pool, _parts, _blas_saved, _owner
    with _lock:
        _depth += 1
        start = _depth == 1
    count = thread_count() if start and _blas_threads() else 1
    if count > 1:
        _pool = ThreadPoolExecutor(count - 1, thread_name_prefix="chainrule")
        _parts, _owner = count, threading.get_ident()
    try:
        yield
    finally:
        if count > 1:
            _parts, _owner = 1, None
            _pool.shutdown()
            _pool = None
            if _blas_saved is not None:
                _blas[1](_blas_saved)
                _blas_saved = None
        with _lock:
            _depth -= 1


def matmul(a, b):
    """a @ b for matrices (n, k) @ (k, m), cut over the threads once they have replaced the
    BLAS library's (see the module; one BLAS call each): by rows when n is large, else by
    columns, so that each thread's product stays a large one."""
    if _blas_saved is None or a.ndim != 2 or b.ndim != 2:
        return a @ b
    (n, k), m = a.shape, b.shape[1]
    if work_units(n * k * m, n * m) < MIN_WORK or not splits(a, b):
        return a @ b  # small products stay whole: cutting them costs more than it saves
    out = numpy.empty((n, m), dtype=numpy.result_type(a, b))
    if n >= _ROWS_ENOUGH or n >= m:

        def part(rows):
            numpy.matmul(a[rows], b, out=out[rows])

        over_parts(part, n)
    else:

        def part(columns):
            numpy.matmul(a, b[:, columns], out=out[:, columns])

        over_parts(part, m)
    return out


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
