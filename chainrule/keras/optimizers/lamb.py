"""LAMB (You et al., 2020): Adam's step rescaled per variable by a trust ratio."""

import math

from ...backend import xp_of
from .whole import WholeVariableOptimizer


class Lamb(WholeVariableOptimizer):
    """Layer-wise adaptive moments: Adam's direction, with a step as long as the weights.

    With t = iterations + 1, for each variable w (all its elements together):

        m <- m + (1 - β1)(g - m),   v <- v + (1 - β2)(g² - v)
        u = (m / (1 - β1^t)) / (sqrt(v / (1 - β2^t)) + ε)
        r = ||w|| / ||u||  if both norms are > 0, else 1      (L2 norms over the variable)
        w <- w - η r u

    Args:
        learning_rate: η, default 0.001.  beta_1, beta_2: default 0.9, 0.999.
        epsilon: ε, default 1e-7.
    """

    def __init__(
        self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, name=None, **kwargs
    ):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon

    def build(self, variables):
        self.add_slots(variables, "momentum", "velocity")
        super().build(variables)

    def update_step(self, gradient, variable, learning_rate):
        xp = xp_of(variable.data)
        t = self._local_step()
        m, v = self.slot(variable, "momentum"), self.slot(variable, "velocity")
        m += (gradient - m) * (1 - self.beta_1)
        v += (gradient * gradient - v) * (1 - self.beta_2)
        update = m / (1 - self.beta_1**t)
        update /= xp.sqrt(v / (1 - self.beta_2**t)) + self.epsilon
        w = variable.data
        w_norm = math.sqrt(float((w * w).sum()))
        u_norm = math.sqrt(float((update * update).sum()))
        ratio = w_norm / u_norm if w_norm > 0 and u_norm > 0 else 1.0
        w -= update * (ratio * learning_rate)

    def get_config(self):
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
        }
