"""Adagrad (Duchi et al., 2011) in Keras's formulation."""

from ...backend import xp_of
from .base import Optimizer


class Adagrad(Optimizer):
    """Per-parameter learning rates that shrink with the sum of the squared gradients seen.

        a <- a + g²                      (a starts at initial_accumulator_value, not 0)
        w <- w - η g / sqrt(a + ε)

    Keras puts ε inside the square root; the paper writes η g / (δ + sqrt(a)).

    Args:
        learning_rate: η, default 0.001 (the paper's form uses 1.0).
        initial_accumulator_value: the starting value of a, default 0.1; must be >= 0.
        epsilon: ε, default 1e-7.
    """

    def __init__(
        self,
        learning_rate=0.001,
        initial_accumulator_value=0.1,
        epsilon=1e-7,
        name=None,
        **kwargs,
    ):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        if initial_accumulator_value < 0:
            raise ValueError(
                f"Adagrad: initial_accumulator_value must be >= 0; got {initial_accumulator_value}"
            )
        self.initial_accumulator_value, self.epsilon = initial_accumulator_value, epsilon

    def build(self, variables):
        self.add_slots(variables, "accumulator", fill=self.initial_accumulator_value)
        super().build(variables)

    def update_step(self, gradient, variable, learning_rate):
        accumulator = self.slot(variable, "accumulator")
        accumulator += gradient * gradient
        variable.data -= learning_rate * gradient / xp_of(gradient).sqrt(accumulator + self.epsilon)

    def fused_update(self, variable, learning_rate):
        accumulator = self.slot(variable, "accumulator")
        return "adagrad", (accumulator,), (learning_rate, self.epsilon)

    def get_config(self):
        return {
            **super().get_config(),
            "initial_accumulator_value": self.initial_accumulator_value,
            "epsilon": self.epsilon,
        }
