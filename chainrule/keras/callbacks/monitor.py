"""What the callbacks that watch a quantity share: reading it from the logs, and which way
it should move."""

import warnings


def monitored(callback, logs, action):
    """``logs[callback.monitor]``, or None with a warning the first time it is missing (Keras
    repeats the same warning each epoch; Python shows it once)."""
    value = (logs or {}).get(callback.monitor)
    if value is None and not callback._warned_missing:
        callback._warned_missing = True
        warnings.warn(
            f"{action} conditioned on metric `{callback.monitor}` which is not available. "
            f"Available metrics are: {','.join(logs or {})}",
            RuntimeWarning,
            stacklevel=3,
        )
    return value


def check_mode(callback, mode):
    if mode not in ("auto", "min", "max"):
        warnings.warn(
            f"{type(callback).__name__} mode {mode!r} is unknown, fallback to auto mode.",
            stacklevel=3,
        )
        return "auto"
    return mode


def monitor_sign(callback):
    """-1 when ``callback.monitor`` should go down, +1 when up, None when that cannot be told:
    from ``callback.mode``, else losses down and metrics in the direction they declare."""
    if callback.mode != "auto":
        return -1 if callback.mode == "min" else 1
    name = callback.monitor.removeprefix("val_")
    if name == "loss":
        return -1
    found = []
    for metric in getattr(callback.model, "metrics", ()):
        inner = getattr(metric, "metrics", None)  # the compiled metrics, held by one metric
        found += inner if isinstance(inner, list) else [metric]
    for metric in found:
        direction = getattr(metric, "_direction", None)
        if metric.name == name and direction is not None:
            return 1 if direction == "up" else -1
    return None


def improves(sign, value, reference, min_delta=0):
    """Whether ``value`` beats ``reference`` by more than ``min_delta`` in the direction
    ``sign`` (-1: lower is better, +1: higher is better)."""
    return sign * (value - reference) > min_delta
