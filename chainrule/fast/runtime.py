"""Where the speed switches on: ``fit``, ``evaluate`` and ``predict`` run inside
:func:`training_runtime`, and nowhere else does anything in this package take effect, but for
one setting: a training loop written by hand, around a GradientTape or of ``train_on_batch``
calls, chooses the BLAS library's thread count from its steps' times as ``fit`` does
(:func:`tape_opened`, :func:`batch_runtime`).

One switch turns all of it off: ``CHAINRULE_FAST=0`` in the environment, or
:func:`set_enabled` (``False``) in the program, or a ``with disabled():`` block. Training then runs
every step through the engine and the primitives of ``chainrule.ops`` exactly as they are
written: no replayed plan, no threads, no allocator or floating-point settings, no alternative
kernels. Results agree with the fast path to rounding: a kernel may add a sum in another order,
as the tiled convolution's kernel gradient does, and a product on one BLAS thread may round its
last bit unlike one on several (see :mod:`.choice`).
"""

import contextlib
import functools
import os
import threading

from . import gather, kernels, process, threads, updates

_enabled = None  # None: read CHAINRULE_FAST on first use
_state = threading.local()  # .active: this thread is inside training_runtime with the switch on


def enabled():
    """True unless the speed package was switched off (``CHAINRULE_FAST=0`` or
    :func:`set_enabled`)."""
    global _enabled
    if _enabled is None:
        _enabled = os.environ.get("CHAINRULE_FAST", "1").strip() != "0"
    return _enabled


def set_enabled(flag):
    """Switch the speed package on or off for the ``fit``, ``evaluate`` and ``predict`` calls
    that start from now on; returns the previous setting."""
    global _enabled
    previous, _enabled = enabled(), bool(flag)
    return previous


@contextlib.contextmanager
def disabled():
    """Within the block, training runs on the engine and the plain primitives only."""
    previous = set_enabled(False)
    try:
        yield
    finally:
        set_enabled(previous)


def active():
    """True inside a ``fit``, ``evaluate`` or ``predict`` call of this thread that runs with the
    speed package on."""
    return getattr(_state, "active", False)


def update_loop():
    """The loop an optimizer runs its updates in (its ``update_loop``): fused kernels or
    cache-sized blocks (:func:`.updates.update`) inside a training call with the switch on, else
    None (each variable whole, by ``update_step``)."""
    return updates.update if active() else None


def batch_gathering():
    """How ``fit`` gathers a shuffled pass's batches (``ArrayBatches.gather``): a chunk ahead
    on another core where one is free (:func:`.gather.shuffled_batches`) inside a training call
    with the switch on, else None (each batch when it is asked for)."""
    return gather.shuffled_batches if active() else None


def tape_opened():
    """Called where a GradientTape's ``with`` block opens, outside any other: in a training
    loop written by hand (outside ``fit``, ``evaluate`` and ``predict``, with the switch on),
    each opening starts a step, timed to choose between every core and one for the BLAS
    library (:func:`.threads.loop_step`); elsewhere it does nothing."""
    if enabled() and not active():
        threads.loop_step()


def training_runtime(method):
    """Decorator for ``fit``, ``evaluate`` and ``predict``: with the switch on, run ``method``
    with freed memory kept (:func:`process.keep_freed_memory`), subnormals flushed
    (:func:`process.flush_denormals`), the batch cut over the cores (:func:`threads.using_cores`)
    and the faster kernels in place of the primitives they implement (:func:`kernels.installed`);
    with it off, just run it."""

    @functools.wraps(method)
    def run(*args, **kwargs):
        if not enabled() or active():
            return method(*args, **kwargs)
        _state.active = True
        try:
            with (
                process.keep_freed_memory(),
                process.flush_denormals(),
                threads.using_cores(),
                kernels.installed(),
            ):
                return method(*args, **kwargs)
        finally:
            _state.active = False

    return run


def batch_runtime(method):
    """Decorator for the one-batch calls, ``train_on_batch``, ``test_on_batch`` and
    ``predict_on_batch``: with the switch on, run ``method`` with the faster kernels in place
    of the primitives (:func:`kernels.installed`, 7 µs a call), so that a batch computes the
    numbers a step of ``fit`` computes, to the bit, and a plan traced in either replays alike in
    the other; without the rest of :func:`training_runtime`, which costs 60 µs a call. Each
    call is a step of a loop written by hand, which chooses between every core and one for the
    BLAS library as a loop of GradientTape steps does (:func:`.threads.loop_step`)."""

    @functools.wraps(method)
    def run(*args, **kwargs):
        if not enabled() or active():
            return method(*args, **kwargs)
        threads.loop_step()  # a step of a loop written by hand (see tape_opened)
        with kernels.installed():
            return method(*args, **kwargs)

    return run
