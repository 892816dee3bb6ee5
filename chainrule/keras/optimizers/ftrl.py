"""FTRL-Proximal (McMahan et al., 2013), in Keras's formulation."""

from ...backend import xp_of
from .base import Optimizer


class Ftrl(Optimizer):
    """Follow The Regularized Leader, with L1, L2 and L2-shrinkage regularization.

    With accumulator n (starting at ``initial_accumulator_value``), linear term z (starting
    at 0), p = -``learning_rate_power``, λ1, λ2 the L1 and L2 strengths, λs the L2-shrinkage
    strength and λ2' = λ2 + β / (2η), each step is elementwise:

        ĝ = g + 2 λs w
        n' = n + g²
        z <- z + ĝ - (n'^p - n^p) / η · w
        w <- (clip(z, -λ1, λ1) - z) / (n'^p / η + 2 λ2')
        n <- n'

    so that w = 0 wherever |z| <= λ1 (sparse weights).

    Args:
        learning_rate: η, default 0.001.  learning_rate_power: -p, default -0.5, <= 0.
        initial_accumulator_value: default 0.1, >= 0.
        l1_regularization_strength: λ1, default 0, >= 0; ``l2_regularization_strength`` (λ2)
            and ``l2_shrinkage_regularization_strength`` (λs) likewise.
        beta: β, default 0.

    Raises:
        ValueError: a negative accumulator value or strength, or a positive power.
    """

    def __init__(
        self,
        learning_rate=0.001,
        learning_rate_power=-0.5,
        initial_accumulator_value=0.1,
        l1_regularization_strength=0.0,
        l2_regularization_strength=0.0,
        l2_shrinkage_regularization_strength=0.0,
        beta=0.0,
        name=None,
        **kwargs,
    ):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        if learning_rate_power > 0:
            raise ValueError(
                f"Ftrl: learning_rate_power must be negative or zero; got "
                f"learning_rate_power={learning_rate_power}"
            )
        for argument, value in (
            ("initial_accumulator_value", initial_accumulator_value),
            ("l1_regularization_strength", l1_regularization_strength),
            ("l2_regularization_strength", l2_regularization_strength),
            ("l2_shrinkage_regularization_strength", l2_shrinkage_regularization_strength),
        ):
            if value < 0:
                raise ValueError(
                    f"Ftrl: {argument} must be positive or zero; got {argument}={value}"
                )
        self.learning_rate_power = learning_rate_power
        self.initial_accumulator_value = initial_accumulator_value
        self.l1_regularization_strength = l1_regularization_strength
        self.l2_regularization_strength = l2_regularization_strength
        self.l2_shrinkage_regularization_strength = l2_shrinkage_regularization_strength
        self.beta = beta

    def build(self, variables):
        for variable in variables:  # each one's two slots together, as Keras makes them
            self.add_slot(variable, "accumulator", fill=self.initial_accumulator_value)
            self.add_slot(variable, "linear")
        super().build(variables)

    def update_step(self, gradient, variable, learning_rate):
        xp = xp_of(variable.data)
        n, z = self.slot(variable, "accumulator"), self.slot(variable, "linear")
        w = variable.data
        p, l1, l2 = self._coefficients(learning_rate)
        new_n = n + gradient * gradient
        new_n_power = new_n**p
        z += gradient + (2 * self.l2_shrinkage_regularization_strength) * w
        z -= (new_n_power - n**p) / learning_rate * w
        w[...] = (xp.clip(z, -l1, l1) - z) / (new_n_power / learning_rate + 2 * l2)
        n[...] = new_n

    def _coefficients(self, learning_rate):
        """(p, λ₁, λ₂ + β / 2η): the power of the accumulator (p = -learning_rate_power) and
        the two regularisation strengths."""
        l2 = self.l2_regularization_strength + self.beta / (2.0 * learning_rate)
        return -self.learning_rate_power, self.l1_regularization_strength, l2

    def fused_update(self, variable, learning_rate):
        n, z = self.slot(variable, "accumulator"), self.slot(variable, "linear")
        p, l1, l2 = self._coefficients(learning_rate)
        shrinkage = 2 * self.l2_shrinkage_regularization_strength
        return "ftrl", (n, z), (p, bool(p == 0.5), l1, 2 * l2, shrinkage, learning_rate)

    def get_config(self):
        return {
            **super().get_config(),
            "learning_rate_power": self.learning_rate_power,
            "initial_accumulator_value": self.initial_accumulator_value,
            "l1_regularization_strength": self.l1_regularization_strength,
            "l2_regularization_strength": self.l2_regularization_strength,
            "l2_shrinkage_regularization_strength": self.l2_shrinkage_regularization_strength,
            "beta": self.beta,
        }
