"""Adamax (Kingma & Ba, 2015, section 7.1): Adam with the infinity norm, in Keras's formulation."""

from ...backend import xp_of
from .base import Optimizer


class Adamax(Optimizer):
    """Adam whose second moment is an exponentially weighted infinity norm.

    With t = iterations + 1:
        m <- m + (1 - β1)(g - m)
        u <- max(β2 u, |g|)
        w <- w - η m / ((1 - β1^t)(u + ε))

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
        self.add_slots(variables, "momentum", "norm")
        super().build(variables)

    def update_step(self, gradient, variable, learning_rate):
        xp = xp_of(gradient)
        m, u = self.slot(variable, "momentum"), self.slot(variable, "norm")
        m += (gradient - m) * (1 - self.beta_1)
        xp.maximum(u * self.beta_2, xp.abs(gradient), out=u)
        bias_correction = self._bias_correction()
        variable.data -= learning_rate * m / (bias_correction * (u + self.epsilon))

    def _bias_correction(self):
        """1 - β1^t, t = iterations + 1."""
        return 1 - self.beta_1 ** self._local_step()

    def fused_update(self, variable, learning_rate):
        m, u = self.slot(variable, "momentum"), self.slot(variable, "norm")
        coefficients = (1 - self.beta_1, self.beta_2, learning_rate, self._bias_correction())
        return "adamax", (m, u), (*coefficients, self.epsilon)

    def get_config(self):
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
        }
