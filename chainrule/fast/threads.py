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

On a machine whose cores other processes keep busy, threads can make a step several times
slower than one thread does. Unless ``CHAINRULE_NUM_THREADS`` fixes the thread count, ``fit``
therefore times its steps both ways (:func:`training_step`, :class:`.choice.ThreadChoice`) and runs
on one core where that is faster: the BLAS library on one thread, and the same parts of a batch
one after the other in the calling thread.

The BLAS library's threads are read and set through threadpoolctl (the optional extra
``chainrule[fast]``). Outside :func:`using_cores`, with ``CHAINRULE_NUM_THREADS=1``, or where the
BLAS library's thread count cannot be set (threadpoolctl not installed, or a BLAS library it does
not know), everything runs in the calling thread, and the BLAS library keeps its own threads.

The parts are fixed by the batch size and the thread count, never by timing, so results are the
same from run to run whether the parts run at once or one after the other; where the parts'
results are summed (a kernel gradient, say), they are added in part order. The BLAS library's
thread count can change a product's last bit (see :mod:`.choice`).
"""

import contextlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy

from . import process
from .choice import ThreadChoice

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
_blas = None  # the BLAS library's thread pools (a _BlasThreads) while inside using_cores()
_cutting = False  # an op has cut its work: from then on the BLAS library runs one thread per call
_single = False  # the block runs on one core: BLAS on one thread, the parts one after the other
_choice = None  # the ThreadChoice of the block, where the thread count is not fixed by the user
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
    global _cutting
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
    if not _cutting:  # from now on the BLAS library runs in the calling thread
        _cutting = True
        _set_blas()
    bounds = [n * k // count for k in range(count + 1)]
    pieces = [slice(a, b) for a, b in zip(bounds, bounds[1:])]
    if _single:  # the same parts, one after the other, as their threads would compute them
        return [_in_mode(None, function, rows) for rows in pieces]
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


# What MPI launchers tell each process of how many of the job's processes run on its machine:
# MPICH's and Intel MPI's Hydra, and Open MPI
_RANKS_ON_THIS_MACHINE = ("MPI_LOCALNRANKS", "OMPI_COMM_WORLD_LOCAL_SIZE")


def _ranks_on_this_machine():
    for name in _RANKS_ON_THIS_MACHINE:
        value = os.environ.get(name, "").strip()
        if value.isdigit() and int(value) > 0:
            return int(value)
    return 1


def thread_count():
    """The threads :func:`using_cores` runs: ``CHAINRULE_NUM_THREADS`` if set, else the cores
    this process may run on, shared with the other processes of an MPI job on this machine
    (``mpiexec -n 2`` on 4 cores: 2 threads each) unless the launcher already bound each process
    to cores of its own, so that the job never runs more threads than there are cores."""
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
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    ranks = _ranks_on_this_machine()
    if ranks > 1 and cores == (os.cpu_count() or cores):  # not bound to cores by the launcher
        cores = max(1, cores // ranks)
    return cores


@contextlib.contextmanager
def using_cores():
    """Within the block, ops that this thread runs may cut their work over
    :func:`thread_count` threads (and the BLAS library then runs each call on one thread), and,
    unless ``CHAINRULE_NUM_THREADS`` is set, the training steps choose between every core and one
    (:func:`training_step`); the BLAS library's thread count is restored on exit. Does nothing
    with one thread, where the BLAS library's thread count cannot be set (two kinds of threads on
    the same cores would compete), or while another such block is active (nested, or in another
    thread: two trainings at once share the cores as they are)."""
    global _depth, _pool, _parts, _owner, _blas, _cutting, _single, _choice
    with _lock:
        _depth += 1
        start = _depth == 1
    if start and _loop:  # the library's own thread count, which a loop's choice may have set
        _loop[2].restore()
    blas = _BlasThreads.find() if start else None
    count = thread_count() if blas is not None else 1
    if count > 1:
        _pool = ThreadPoolExecutor(count - 1, thread_name_prefix="chainrule")
        _parts, _owner, _blas = count, threading.get_ident(), blas
        if not os.environ.get("CHAINRULE_NUM_THREADS", "").strip():
            _choice = ThreadChoice()
            if not _choice.many:  # the process's latest choice, until a step chooses
                _single = True
                _set_blas()
    try:
        yield
    finally:
        if count > 1:
            _parts, _owner, _choice, _cutting, _single = 1, None, None, False, False
            _pool.shutdown()
            _pool = None
            _blas.restore()
            _blas = None
        with _lock:
            _depth -= 1


def training_step():
    """Called at the start of every training step: times the steps and runs the one starting
    on every core or on one, as :class:`.choice.ThreadChoice` decides (inside
    :func:`using_cores`, in the thread that entered it, and without ``CHAINRULE_NUM_THREADS``;
    elsewhere it does nothing)."""
    global _single
    choice = _choice
    if choice is None or threading.get_ident() != _owner:
        return
    single = not choice.step()
    if single != _single:
        _single = single
        _set_blas()


#: Calls that run with one setting in a row during a trial of a loop written by hand
#: (:func:`loop_step`): a step may open several tapes (a GAN's two), and a block of 12 holds as
#: many of each kind for up to 4 of them, and for 6 or 12.
LOOP_BLOCK = 12
#: Seconds of a loop written by hand before its first trial: a few steps (a test, a gradient
#: looked at once) leave the BLAS library as they found it.
LOOP_FIRST_TRIAL = 1.0
_loop = None  # (ThreadChoice, its thread, _BlasThreads) of the loop written by hand, once it runs


def loop_step():
    """Called at each step of a training loop written by hand, outside ``fit``, ``evaluate``
    and ``predict`` (where a GradientTape opens, and at each one-batch call such as
    ``train_on_batch``): times its steps from one call to the next and sets the BLAS library on
    every core or on one, as ``fit`` does (:class:`.choice.ThreadChoice`, by blocks of
    LOOP_BLOCK calls). The setting holds from then on: the products of such a loop run
    outside any block that could restore it, and the next trial follows the load. Does nothing
    inside :func:`using_cores` (fit's own steps choose), in another thread than the loop's
    first, with ``CHAINRULE_NUM_THREADS`` set, on one core, or where the BLAS library's thread
    count cannot be set."""
    global _loop
    if _depth:
        return
    if _loop is None:
        blas = _BlasThreads.find()
        fixed = os.environ.get("CHAINRULE_NUM_THREADS", "").strip()
        if blas is None or fixed or thread_count() < 2:
            _loop = False
        else:
            choice = ThreadChoice(block=LOOP_BLOCK, first_trial_after=LOOP_FIRST_TRIAL)
            _loop = choice, threading.get_ident(), blas
    if not _loop:
        return
    choice, thread, blas = _loop
    if threading.get_ident() == thread:
        blas.set(None if choice.step() else 1)


def ahead(function, *args):
    """Start ``function(*args)`` on chainrule's other thread, for the caller to collect with
    the returned future's ``result()`` once it needs it (work that does not depend on the step
    running now: the next batches' rows, say). Only inside :func:`using_cores`, in the thread
    that entered it, and while the BLAS library runs in the calling thread, so that the other
    core is not already taken by the BLAS library's threads; elsewhere None, having done
    nothing: the caller then computes it itself."""
    pool = _pool
    if pool is None or threading.get_ident() != _owner or not blas_in_calling_thread():
        return None
    return pool.submit(function, *args)


def blas_in_calling_thread():
    """True where the BLAS library runs each product in the calling thread alone: inside
    :func:`using_cores` once the work is cut over the threads or the block runs on one core."""
    return _blas is not None and (_cutting or _single)


def _set_blas():
    """The BLAS library on one thread once the work is cut or the block runs on one core; else
    on its own thread count."""
    _blas.set(1 if (_cutting or _single) else None)


class _BlasThreads:
    """The thread pools of the BLAS libraries NumPy loaded, through threadpoolctl."""

    _pools = None  # threadpoolctl's controller of them, found once per process (or False)

    def __init__(self, pools):
        self._libraries = pools.lib_controllers
        self._own = [library.get_num_threads() for library in self._libraries]
        self._now = None  # None: their own thread counts

    @classmethod
    def find(cls):
        """The BLAS libraries' thread pools, or None where threadpoolctl is not installed or
        finds no BLAS library whose thread count it can set."""
        if cls._pools is None:
            cls._pools = False
            try:
                import threadpoolctl
            except ImportError:
                return None
            pools = threadpoolctl.ThreadpoolController().select(user_api="blas")
            cls._pools = pools if pools.lib_controllers else False
        return cls(cls._pools) if cls._pools else None

    def set(self, count):
        """Run each call on ``count`` threads (None: the libraries' own thread counts)."""
        if count != self._now:
            for library, own in zip(self._libraries, self._own):
                library.set_num_threads(own if count is None else count)
            self._now = count

    def restore(self):
        self.set(None)


def blas_thread_counts():
    """The thread counts of the BLAS libraries NumPy loaded (empty where they cannot be read)."""
    blas = _BlasThreads.find()
    return [] if blas is None else [library.get_num_threads() for library in blas._libraries]


def matmul(a, b):
    """a @ b for matrices (n, k) @ (k, m), cut over the threads once they have replaced the
    BLAS library's (see the module; one BLAS call each): by rows when n is large, else by
    columns, so that each thread's product stays a large one."""
    if not _cutting or a.ndim != 2 or b.ndim != 2:
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


def stacked_matmul(a, b, out=None):
    """``numpy.matmul(a, b, out=out)`` for stacks of matrices (..., n, k) @ (..., k, m) with the
    same leading axes, cut over the threads by the first axis once they have replaced the BLAS
    library's (see :func:`matmul`): each thread multiplies its part of the stack, each product
    whole, so the results are the same as in one call. Attention's products, a stack over
    batch and heads, otherwise run on one core in a model whose other ops are cut."""
    if not _cutting or a.ndim < 3 or a.shape[:-2] != b.shape[:-2] or not splits(a, b):
        return numpy.matmul(a, b, out=out)
    (*stack, n, k), m = a.shape, b.shape[-1]
    if work_units(numpy.prod(stack) * n * k * m, 0) < MIN_WORK:
        return numpy.matmul(a, b, out=out)
    if out is None:
        out = numpy.empty((*stack, n, m), dtype=numpy.result_type(a, b))

    def part(matrices):
        numpy.matmul(a[matrices], b[matrices], out=out[matrices])

    over_parts(part, len(a))
    return out
