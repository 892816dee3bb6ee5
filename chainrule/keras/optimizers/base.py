"""The Optimizer: turns gradients into weight updates, W <- W - step(dL/dW).

``apply(grads, variables)`` runs Keras 3's sequence: build the per-variable state on first use,
clip the gradients (``clipvalue``, ``clipnorm``, ``global_clipnorm``), decay the weights, call the
subclass's ``update_step(gradient, variable, learning_rate)`` for each pair, apply constraints,
and count the step in ``iterations``. Updates are written in place into the variables' arrays.
"""

import math

import numpy as np

from ...engine import Tensor


class Optimizer:
    """Base class of the optimizers.

    Args:
        learning_rate: a float, or a schedule: a callable of the step number (``iterations``).
        weight_decay: if set, each step first applies W <- W - learning_rate * weight_decay * W.
        clipnorm: clip each gradient to this L2 norm.
        clipvalue: clip each gradient's elements to [-clipvalue, clipvalue].
        global_clipnorm: scale all gradients together so their joint L2 norm is at most this.
        name: the optimizer's name.
    """

    def __init__(self, learning_rate=0.001, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, name=None, **kwargs):
        if kwargs:
            raise TypeError(
                f"Unrecognized keyword arguments passed to {type(self).__name__}: {kwargs}"
            )
        if clipnorm is not None and global_clipnorm is not None:
            raise ValueError("Only one of clipnorm and global_clipnorm can be set.")
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.clipnorm, self.clipvalue, self.global_clipnorm = clipnorm, clipvalue, global_clipnorm
        self.name = name or type(self).__name__.lower()
        self.iterations = 0
        self.built = False
        self._slots = {}

    # ----- the learning rate -------------------------------------------------------------------
    @property
    def learning_rate(self):
        """The learning rate at the current step (a schedule is evaluated at ``iterations``)."""
        if callable(self._learning_rate):
            return float(self._learning_rate(self.iterations))
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        if not callable(value):
            value = float(value)
            if value < 0 or math.isnan(value):
                raise ValueError(
                    f"{type(self).__name__}: the learning rate must be a non-negative number; "
                    f"got {value}"
                )
        self._learning_rate = value

    lr = learning_rate

    # ----- state -------------------------------------------------------------------------------
    def build(self, variables):
        """Create the per-variable state (moments, velocities); subclasses extend this."""
        self.built = True

    def add_slot(self, variable, name):
        """A zero-initialised array shaped like ``variable``, kept for it under ``name``."""
        array = np.zeros_like(variable.data)
        self._slots.setdefault(name, {})[id(variable)] = array
        return array

    def slot(self, variable, name):
        return self._slots[name][id(variable)]

    # ----- one step ----------------------------------------------------------------------------
    def apply_gradients(self, grads_and_vars):
        """Apply ``[(gradient, variable), ...]`` (TensorFlow's spelling of :meth:`apply`)."""
        grads, variables = zip(*grads_and_vars) if grads_and_vars else ((), ())
        return self.apply(list(grads), list(variables))

    def apply(self, grads, trainable_variables):
        """One optimisation step: update each variable from its gradient (None is skipped)."""
        pairs = [
            (g.data if isinstance(g, Tensor) else np.asarray(g), v)
            for g, v in zip(grads, trainable_variables)
            if g is not None
        ]
        if not self.built:
            self.build(list(trainable_variables))
        for g, v in pairs:
            if g.shape != v.shape:
                raise ValueError(
                    f"{type(self).__name__}: gradient of shape {g.shape} for variable "
                    f"{getattr(v, 'path', None) or v.name!r} of shape {v.shape}"
                )
        pairs = self._clip(pairs)
        learning_rate = self.learning_rate
        for g, v in pairs:
            if self.weight_decay:
                v.data -= v.data * (learning_rate * self.weight_decay)
            self.update_step(g, v, learning_rate)
            constraint = getattr(v, "constraint", None)
            if constraint is not None:
                v.assign(constraint(v.data))
        self.iterations += 1

    def _clip(self, pairs):
        if self.clipvalue is not None:
            pairs = [(np.clip(g, -self.clipvalue, self.clipvalue), v) for g, v in pairs]
        if self.clipnorm is not None:
            pairs = [(_scale_to_norm(g, float(np.sqrt(np.sum(g * g))), self.clipnorm), v)
                     for g, v in pairs]
        if self.global_clipnorm is not None:
            norm = float(np.sqrt(sum(np.sum(g * g) for g, _ in pairs)))
            pairs = [(_scale_to_norm(g, norm, self.global_clipnorm), v) for g, v in pairs]
        return pairs

    def update_step(self, gradient, variable, learning_rate):
        raise NotImplementedError

    # ----- configuration -----------------------------------------------------------------------
    def get_config(self):
        rate = self._learning_rate
        return {
            "name": self.name,
            "learning_rate": rate.get_config() if hasattr(rate, "get_config") else rate,
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "clipvalue": self.clipvalue,
            "global_clipnorm": self.global_clipnorm,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _scale_to_norm(g, norm, limit):
    """g scaled down so that its norm (``norm``) is at most ``limit``."""
    return g * (limit / norm) if norm > limit else g
