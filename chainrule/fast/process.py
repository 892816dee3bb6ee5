"""How a training process uses the CPU: three settings that ``fit``, ``evaluate`` and
``predict`` make, each of which the environment can turn off.

- :func:`keep_freed_memory`: the C allocator keeps the memory that one step frees for the next.
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
