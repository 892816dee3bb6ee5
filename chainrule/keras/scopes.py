"""Keras's context managers and wrappers whose work has no counterpart in one CPU process:
``keras.device``, ``keras.name_scope``, ``keras.remat`` and ``keras.RematScope``.

They accept what Keras accepts, so programs that use them run; what they would change (where
tensors live, the names of variables made inside a scope, recomputing activations during the
backward pass to save memory) does not change the numbers a model computes.
"""

import contextlib

from ..tf.core import device

__all__ = ["RematScope", "device", "name_scope", "remat"]


@contextlib.contextmanager
def name_scope(name, **kwargs):
    """A named block, as ``keras.name_scope``; the names of what is made inside are unchanged."""
    if not isinstance(name, str):
        raise TypeError(f"keras.name_scope: the name must be a string; got {type(name).__name__}")
    yield


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
