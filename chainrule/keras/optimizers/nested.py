"""Optimizers written inside other objects' configs (a LossScaleOptimizer's inner optimizer, a
MultiOptimizer's map): Keras's description of one, and the optimizer a description names."""

from ..registry import classes_of, lookup


def serialize(optimizer):
    """Keras's description ``{"module", "class_name", "config", "registered_name"}`` of an
    optimizer (or of an OptimizerMap)."""
    return {
        "module": "keras.optimizers",
        "class_name": type(optimizer).__name__,
        "config": optimizer.get_config(),
        "registered_name": None,
    }


def deserialize(config, custom_objects=None):
    """The optimizer (or OptimizerMap) that :func:`serialize` or Keras describes; an object that
    is already built is returned as it is. ``custom_objects`` maps further class names to
    classes.

    Raises:
        ValueError: an unknown class name (listing the known ones), or neither a description nor
            an optimizer.
    """
    if hasattr(config, "get_config"):
        return config
    if not isinstance(config, dict) or not isinstance(config.get("class_name"), str):
        raise ValueError(
            f"optimizers.deserialize: expected a dict with 'class_name' and 'config' (as "
            f"optimizers.serialize writes); got {config!r:.200}"
        )
    name = config["class_name"]
    custom = custom_objects or {}
    if name in custom:
        cls = custom[name]
    else:
        known = {key.lower(): cls for key, cls in classes_of("keras.optimizers").items()}
        cls = lookup("optimizer", known, name)
    return cls.from_config(dict(config.get("config") or {}))
