"""Lion (Chen et al., 2023): sign updates with two momentum rates, in Keras's formulation."""

from ...backend import xp_of
from .base import Optimizer


class Lion(Optimizer):
    """EvoLved sIgn mOmeNtum: every element moves by exactly ±η (or 0) each step.

        w <- w - η sign(β1 m + (1 - β1) g)
        m <- β2 m + (1 - β2) g

    Its updates have a larger norm than Adam's, so its learning rate is typically 3-10x smaller
    (and a weight decay 3-10x larger) than AdamW's.

    Args:
        learning_rate: η, default 0.001.  beta_1: default 0.9, in (0, 1].  beta_2: default 0.99.

    Raises:
        ValueError: beta_1 outside (0, 1] (Lion would degenerate to sign SGD).
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.99, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        if beta_1 <= 0 or beta_1 > 1:
            raise ValueError(
                f"Lion: beta_1 must be in (0, 1]; otherwise the optimizer degenerates to "
                f"SignSGD. Received: beta_1={beta_1}"
            )
        self.beta_1, self.beta_2 = beta_1, beta_2

    def build(self, variables):
        self.add_slots(variables, "momentum")
        super().build(variables)

    def update_step(self, gradient, variable, learning_rate):
        m = self.slot(variable, "momentum")
        direction = xp_of(gradient).sign(m * self.beta_1 + gradient * (1 - self.beta_1))
        variable.data -= learning_rate * direction
        m *= self.beta_2
        m += gradient * (1 - self.beta_2)

    def fused_update(self, variable, learning_rate):
        m = self.slot(variable, "momentum")
        betas = (self.beta_1, 1 - self.beta_1, self.beta_2, 1 - self.beta_2)
        return "lion", (m,), (*betas, learning_rate)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2}
