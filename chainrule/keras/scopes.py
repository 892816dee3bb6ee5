"""Keras's context managers and wrappers: ``keras.name_scope`` (the paths of the variables made
inside it; see :mod:`.naming`), and ``keras.device``, ``keras.remat`` and ``keras.RematScope``,
whose work has no counterpart in one CPU process.

The last three accept what Keras accepts, so programs that use them run; what they would change
(where tensors live, recomputing activations during the backward pass to save memory) does not
change the numbers a model computes.
"""

from ..tf.core import device
from .naming import name_scope

__all__ = ["RematScope", "device", "name_scope", "remat"]


def remat(f):
    """``f`` itself: Keras recomputes ``f``'s activations in the backward pass to save memory;
    chainrule keeps them, and the values and gradients are the same."""
    return f


class RematScope:
    """``with keras.RematScope(mode=...):`` accepted; see :func:`remat`."""

    def __init__(self, mode="full", output_size_threshold=1024, layer_names=None):
        if mode not in (None, "full", "activations", "larger_than", "list_of_layers"):
            raise ValueError(
                f"RematScope: mode must be one of None, 'full', 'activations', 'larger_than', "
                f"'list_of_layers'; got {mode!r}"
            )
        self.mode, self.output_size_threshold = mode, output_size_threshold
        self.layer_names = layer_names or []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
