"""Adafactor (Shazeer & Stern, 2018): second moments kept as row and column averages."""

import math

from ...backend import xp_of
from ..variables import Variable
from .whole import WholeVariableOptimizer


class Adafactor(WholeVariableOptimizer):
    """Adaptive steps with factored second moments, in Keras's formulation.

    With t = iterations + 1, β̂2 = 1 - t^``beta_2_decay``, rms(x) = sqrt(mean(x²)) and
    G = g² + ε1 (elementwise), for a variable w of shape (..., n, k):

        ρ = min(η, 1 / sqrt(t))              (η itself is first capped the same way when it is
                                              a float and ``relative_step``)
        α = max(ε2, rms(w)) ρ
        R <- β̂2 R + (1 - β̂2) mean(G, axis=-1)            shape (..., n)
        C <- β̂2 C + (1 - β̂2) mean(G, axis=-2)            shape (..., k)
        V = (R / mean(R, axis=-1))[..., :, None] C[..., None, :]
        U = g / sqrt(V),   Û = U / max(1, rms(U) / d)     d = ``clip_threshold``
        w <- w - α Û

    A variable of fewer than two dimensions keeps V unfactored: V <- β̂2 V + (1 - β̂2) G.
    The state is R ("r"), C ("c") and V ("velocity"); a variable of fewer than two dimensions
    has an unused int32 0 for R and C, as Keras has (and saves). As in Keras, R and C are named
    after the variable (``kernel``); the unused ones' paths are that name alone, as Keras's are
    when ``fit`` builds the optimizer.

    Args:
        learning_rate: η, default 0.001.  beta_2_decay: default -0.8.
        epsilon_1: ε1, default 1e-30.  epsilon_2: ε2, default 1e-3.
        clip_threshold: d, default 1.0.  relative_step: default True.
    """

    def __init__(
        self,
        learning_rate=0.001,
        beta_2_decay=-0.8,
        epsilon_1=1e-30,
        epsilon_2=1e-3,
        clip_threshold=1.0,
        relative_step=True,
        name=None,
        **kwargs,
    ):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_2_decay, self.epsilon_1, self.epsilon_2 = beta_2_decay, epsilon_1, epsilon_2
        self.clip_threshold, self.relative_step = clip_threshold, relative_step

    def build(self, variables):
        for variable in variables:
            shape, dtype, name = variable.data.shape, variable.data.dtype, variable.name
            if len(shape) >= 2:  # the last two dimensions are factored
                r = self.add_variable(shape[:-1], dtype=dtype, name=name)
                c = self.add_variable(shape[:-2] + shape[-1:], dtype=dtype, name=name)
            else:
                r = Variable(0, dtype="int32", trainable=False, name=name)
                c = Variable(0, dtype="int32", trainable=False, name=name)
                self._variables += [r, c]
            self._slots.setdefault("r", {})[id(variable)] = r.data
            self._slots.setdefault("c", {})[id(variable)] = c.data
            self.add_slot(variable, "velocity")
        super().build(variables)

    def update_step(self, gradient, variable, learning_rate):
        xp = xp_of(variable.data)
        t = self._local_step()
        if self.relative_step and not callable(self._learning_rate):
            learning_rate = min(learning_rate, 1 / math.sqrt(t))
        rho = min(learning_rate, 1 / math.sqrt(t))
        w = variable.data
        alpha = max(self.epsilon_2, _rms(w)) * rho
        squared = gradient * gradient + self.epsilon_1
        decay = 1 - t**self.beta_2_decay
        v = self.slot(variable, "velocity")
        if w.ndim >= 2:
            r, c = self._slots["r"][id(variable)], self._slots["c"][id(variable)]
            r[...] = decay * r + (1 - decay) * squared.mean(axis=-1)
            c[...] = decay * c + (1 - decay) * squared.mean(axis=-2)
            v[...] = (r / r.mean(axis=-1, keepdims=True))[..., :, None] * c[..., None, :]
        else:
            v[...] = decay * v + (1 - decay) * squared
        u = gradient / xp.sqrt(v)
        u /= max(1.0, _rms(u) / self.clip_threshold)
        w -= alpha * u

    def get_config(self):
        return {
            **super().get_config(),
            "beta_2_decay": self.beta_2_decay,
            "epsilon_1": self.epsilon_1,
            "epsilon_2": self.epsilon_2,
            "clip_threshold": self.clip_threshold,
            "relative_step": self.relative_step,
        }


def _rms(x):
    """sqrt(mean(x²)) over all the elements, as a Python float."""
    return math.sqrt(float((x * x).mean()))
