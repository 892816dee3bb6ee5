"""``tf.config``: what TensorFlow programs ask about the devices, answered for one CPU.

chainrule computes with NumPy on the CPU, so there is one physical device, the CPU, and no GPU:
``tf.config.list_physical_devices("GPU")`` is empty, the test programs use to pick a device.
The settings programs make for GPUs (memory growth, visible devices) are accepted and change
nothing; thread counts are the BLAS library's and chainrule's (``CHAINRULE_NUM_THREADS``).
"""

import collections
import types

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


experimental = types.SimpleNamespace(
    set_memory_growth=_set_memory_growth,
    list_physical_devices=list_physical_devices,
    set_visible_devices=set_visible_devices,
)
