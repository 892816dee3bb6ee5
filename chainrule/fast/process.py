"""How a training process uses the CPU: three settings that ``fit``, ``evaluate`` and
``predict`` make, each of which the environment can turn off.

- :func:`keep_freed_memory`: the C allocator keeps the memory that one step frees for the next,
  until the training call returns.
- :func:`flush_denormals`: subnormal floats count as zero while they run, as in TensorFlow.
- :func:`.threads.using_cores` (in chainrule.fast.threads): ops cut their batch over the cores.

Each acts only where it can (glibc on Linux; x86-64 or ARM64 for the second; OpenBLAS for the
third) and does nothing elsewhere.
"""

import contextlib
import ctypes
import os
import platform
import sys
import threading

# C allocator options (glibc's mallopt): the most freed memory kept at the top of the heap, and
# the size from which an allocation gets pages of its own (32 MiB, glibc's upper bound).
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_KEPT_BYTES, _OWN_PAGES_FROM = 512 << 20, 32 << 20
# glibc's defaults for both (DEFAULT_TRIM_THRESHOLD, DEFAULT_MMAP_THRESHOLD_MIN in malloc.c), which
# the allocator starts with; see keep_freed_memory for what "restored" leaves out.
_GLIBC_TRIM_THRESHOLD, _GLIBC_MMAP_THRESHOLD = 128 << 10, 128 << 10
_memory_lock = threading.Lock()
_memory_depth = 0  # training calls inside keep_freed_memory, in every thread
_memory_kept = False  # the outermost call changed the allocator's settings


@contextlib.contextmanager
def keep_freed_memory():
    """Within the block, the C allocator keeps the memory NumPy frees, so that the next step
    reuses it; the block's value is True where it does.

    A training step allocates and frees the same large arrays every time (feature maps, their
    gradients, im2col matrices). glibc's malloc gives arrays above 128 KiB pages of their own
    and returns them to the system when they are freed, and trims freed memory off the top of
    its heap, so the next step faults every page in again; in a virtualised machine a page fault
    costs microseconds, and a convolutional step can spend a third of its time in them.

    This serves arrays of up to 32 MiB from the heap and keeps up to 512 MiB of freed memory
    there: the process holds on to about its peak memory between steps instead of giving it back.
    ``fit``, ``evaluate`` and ``predict`` enter it, only with glibc (Linux), and not at all when
    the environment sets ``CHAINRULE_KEEP_FREED_MEMORY=0``. When the outermost block ends, both
    settings go back to glibc's defaults, 128 KiB each, and the next large free gives the kept
    memory back. glibc starts with the same values but raises its mmap threshold by itself as
    large arrays are freed (up to 32 MiB on 64-bit), and any mallopt of either setting turns that
    adjustment off for good: after the block the thresholds stay at 128 KiB.
    """
    global _memory_depth, _memory_kept
    with _memory_lock:
        _memory_depth += 1
        if _memory_depth == 1:
            _memory_kept = _set_allocator(_OWN_PAGES_FROM, _KEPT_BYTES)
        kept = _memory_kept
    try:
        yield kept
    finally:
        with _memory_lock:
            _memory_depth -= 1
            if _memory_depth == 0 and _memory_kept:
                _set_allocator(_GLIBC_MMAP_THRESHOLD, _GLIBC_TRIM_THRESHOLD)
                _memory_kept = False


def _set_allocator(own_pages_from, kept_bytes):
    """Set glibc's mmap and trim thresholds; True if both were set."""
    libc = _libc()
    if libc is None:
        return False
    return bool(
        libc.mallopt(_M_MMAP_THRESHOLD, own_pages_from)
        and libc.mallopt(_M_TRIM_THRESHOLD, kept_bytes)
    )


def _libc():
    """glibc, where the allocator may be tuned (Linux, and not CHAINRULE_KEEP_FREED_MEMORY=0);
    else None."""
    if os.environ.get("CHAINRULE_KEEP_FREED_MEMORY", "1") == "0" or sys.platform != "linux":
        return None
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "mallopt") else None  # not glibc (musl): leave malloc alone


# Where the flush-to-zero bits live in glibc's fenv_t: x86-64's MXCSR (at byte 28) has FTZ
# (results) and DAZ (inputs); ARM64's FPCR (at byte 0) has FZ, which does both.
_FLUSH_BITS = {"x86_64": (28, 0x8000 | 0x0040), "aarch64": (0, 1 << 24)}
_FENV_BYTES = 32  # sizeof(fenv_t) on x86-64 (8 on ARM64; the extra bytes are unused)
_libm = None


@contextlib.contextmanager
def flush_denormals():
    """Within the block, treat subnormal floats as zero in this thread (the CPU's
    flush-to-zero and denormals-are-zero modes), then restore the previous mode.

    An optimizer's moving averages decay geometrically wherever the gradient stays zero (the
    weights of an input pixel that is always blank, of a unit that never fires), and pass
    through the subnormal range below 1.2e-38 (float32) on their way to zero. CPUs compute
    with subnormal numbers ten to a hundred times slower than with normal ones, so a few
    thousand of them can slow a whole update down by half. TensorFlow runs its kernels with
    both modes on, so Keras on TensorFlow trains the same way.

    Used by ``fit``, ``evaluate`` and ``predict``; ``CHAINRULE_FLUSH_DENORMALS=0`` in the
    environment turns it off.
    """
    env = _fpu_environment() if os.environ.get("CHAINRULE_FLUSH_DENORMALS", "1") != "0" else None
    if env is None:
        yield
        return
    offset, bits = _FLUSH_BITS[platform.machine()]
    word = int.from_bytes(bytes(env[offset : offset + 4]), "little") | bits
    env[offset : offset + 4] = list(word.to_bytes(4, "little"))
    with floating_point_mode_set(bytes(env)):
        yield


def floating_point_mode():
    """This thread's floating-point environment (rounding, flush modes) as bytes, or None where
    it cannot be read; :func:`floating_point_mode_set` applies it to another thread."""
    env = _fpu_environment()
    return None if env is None else bytes(env)


@contextlib.contextmanager
def floating_point_mode_set(mode):
    """Within the block, this thread runs in floating-point environment ``mode`` (from
    :func:`floating_point_mode`; None changes nothing); the previous one is restored on exit."""
    saved = _fpu_environment() if mode is not None else None
    if saved is None:
        yield
        return
    env = (ctypes.c_ubyte * _FENV_BYTES).from_buffer_copy(mode)
    _libm.fesetenv(ctypes.byref(env))
    try:
        yield
    finally:
        _libm.fesetenv(ctypes.byref(saved))


def _fpu_environment():
    """This thread's floating-point environment (glibc's fenv_t, as bytes), or None where the
    flush modes cannot be set this way."""
    global _libm
    if sys.platform != "linux" or platform.machine() not in _FLUSH_BITS:
        return None
    try:
        _libm = _libm or ctypes.CDLL("libm.so.6")
        env = (ctypes.c_ubyte * _FENV_BYTES)()
        return env if _libm.fegetenv(ctypes.byref(env)) == 0 else None
    except (OSError, AttributeError):  # not glibc
        return None
