"""``tf.config``: what TensorFlow programs ask about the devices, answered for one CPU.

chainrule computes with NumPy on the CPU, so there is one physical device, the CPU, and no GPU:
``tf.config.list_physical_devices("GPU")`` is empty, the test programs use to pick a device.
The settings programs make for GPUs (memory growth, visible devices) are accepted and change
nothing; thread counts are the BLAS library's and chainrule's (``CHAINRULE_NUM_THREADS``).
"""

import collections
import os
import types

from ..fast import threads

PhysicalDevice = collections.namedtuple("PhysicalDevice", ["name", "device_type"])
LogicalDevice = collections.namedtuple("LogicalDevice", ["name", "device_type"])

_CPU = PhysicalDevice("/physical_device:CPU:0", "CPU")


def list_physical_devices(device_type=None):
    """The devices of ``device_type`` ("CPU", "GPU"...; all when None): the CPU only."""
    if device_type is None or str(device_type).upper() == "CPU":
        return [_CPU]
    return []


def list_logical_devices(device_type=None):
    """The logical devices of ``device_type``: the CPU only."""
    if device_type is None or str(device_type).upper() == "CPU":
        return [LogicalDevice("/device:CPU:0", "CPU")]
    return []


def get_visible_devices(device_type=None):
    """The visible devices: all of them, the CPU."""
    return list_physical_devices(device_type)


def set_visible_devices(devices, device_type=None):
    """Accepted: the CPU is always visible.

    Raises:
        ValueError: a device that is not one of :func:`list_physical_devices`.
    """
    listed = devices if isinstance(devices, (list, tuple)) else [devices]
    for device in listed:
        if device != _CPU:
            raise ValueError(
                f"tf.config.set_visible_devices: chainrule has only the CPU ({_CPU}); got "
                f"{device!r}"
            )


def _set_memory_growth(device, enable):
    """Accepted for GPU code: there is no GPU memory to grow."""


def _enable_op_determinism():
    """Make every run compute the same numbers, bit for bit. chainrule's ops are deterministic;
    what can change a dense product's last bit from run to run is the thread count that
    ``fit`` and hand-written loops choose for the BLAS library by timing their steps
    (``chainrule.fast.choice``). This fixes it to the count they would start with, as
    ``CHAINRULE_NUM_THREADS`` does, unless that is set already."""
    os.environ.setdefault("CHAINRULE_NUM_THREADS", str(threads.thread_count()))


def _is_op_determinism_enabled():
    """Whether the thread count is fixed (:func:`_enable_op_determinism`, or
    ``CHAINRULE_NUM_THREADS`` set)."""
    return bool(os.environ.get("CHAINRULE_NUM_THREADS", "").strip())


experimental = types.SimpleNamespace(
    enable_op_determinism=_enable_op_determinism,
    is_op_determinism_enabled=_is_op_determinism_enabled,
    set_memory_growth=_set_memory_growth,
    list_physical_devices=list_physical_devices,
    set_visible_devices=set_visible_devices,
)
