"""Adam (Kingma & Ba, 2015) in Keras's formulation."""

import math

from ...backend import xp_of
from .base import Optimizer


class Adam(Optimizer):
    """Adaptive moment estimation.

    With t = iterations + 1:
        m <- m + (1 - β1)(g - m),   v <- v + (1 - β2)(g² - v)
        α = η sqrt(1 - β2^t) / (1 - β1^t)
        w <- w - α m / (sqrt(v) + ε)
    Keras puts ε outside the bias correction (as above), unlike the paper's ε / sqrt(1 - β2^t).
    ``amsgrad`` uses the running maximum of v instead of v.

    Args:
        learning_rate: η, default 0.001.  beta_1, beta_2: default 0.9, 0.999.
        epsilon: ε, default 1e-7.  amsgrad: default False.
    """

    def __init__(
        self,
        learning_rate=0.001,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-7,
        amsgrad=False,
        name=None,
        **kwargs,
    ):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_1, self.beta_2, self.epsilon, self.amsgrad = beta_1, beta_2, epsilon, amsgrad

    def build(self, variables):
        self.add_slots(variables, "momentum", "velocity")
        if self.amsgrad:
            self.add_slots(variables, "velocity_hat")
        super().build(variables)

    def update_step(self, gradient, variable, learning_rate):
        xp = xp_of(variable.data)
        alpha = _step_size(self, learning_rate)
        m, v = self.slot(variable, "momentum"), self.slot(variable, "velocity")
        step, root = self.scratch(variable, 2)
        xp.subtract(gradient, m, out=step)  # m <- m + (g - m)(1 - β1), in place
        step *= 1 - self.beta_1
        m += step
        xp.multiply(gradient, gradient, out=step)  # v <- v + (g² - v)(1 - β2)
        step -= v
        step *= 1 - self.beta_2
        v += step
        if self.amsgrad:
            v_hat = self.slot(variable, "velocity_hat")
            xp.maximum(v_hat, v, out=v_hat)
            v = v_hat
        xp.multiply(m, alpha, out=step)  # w <- w - α m / (sqrt(v) + ε)
        xp.sqrt(v, out=root)
        root += self.epsilon
        step /= root
        variable.data -= step

    def fused_update(self, variable, learning_rate):
        m, v = self.slot(variable, "momentum"), self.slot(variable, "velocity")
        v_max = self.slot(variable, "velocity_hat") if self.amsgrad else v
        coefficients = (1 - self.beta_1, 1 - self.beta_2, _step_size(self, learning_rate))
        return "adam", (m, v, v_max), (*coefficients, self.epsilon, bool(self.amsgrad))

    def get_config(self):
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
            "amsgrad": self.amsgrad,
        }


def _step_size(optimizer, learning_rate):
    """α = η sqrt(1 - β2^t) / (1 - β1^t) with t = iterations + 1, for an Adam (or an optimizer
    that runs Adam's step, as Muon does for some variables): a Python float, so that the update
    is computed in the variable's own dtype (as Keras does)."""
    t = optimizer._local_step()
    return learning_rate * math.sqrt(1 - optimizer.beta_2**t) / (1 - optimizer.beta_1**t)
