"""Adadelta (Zeiler, 2012) in Keras's formulation."""

from ...backend import xp_of
from .base import Optimizer


class Adadelta(Optimizer):
    """Steps scaled by the ratio of running RMS of past updates to running RMS of gradients.

        E[g²] <- ρ E[g²] + (1 - ρ) g²
        Δ = -sqrt(E[Δ²] + ε) / sqrt(E[g²] + ε) * g
        E[Δ²] <- ρ E[Δ²] + (1 - ρ) Δ²
        w <- w + η Δ

    The paper has no learning rate (η = 1); Keras keeps one, default 0.001.

    Args:
        learning_rate: η, default 0.001.  rho: ρ, default 0.95.  epsilon: ε, default 1e-7.
    """

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.rho, self.epsilon = rho, epsilon

    def build(self, variables):
        self.add_slots(variables, "accumulated_grad", "accumulated_delta_var")
        super().build(variables)

    def update_step(self, gradient, variable, learning_rate):
        xp, rho = xp_of(gradient), self.rho
        accumulated_grad = self.slot(variable, "accumulated_grad")
        accumulated_delta = self.slot(variable, "accumulated_delta_var")
        accumulated_grad *= rho
        accumulated_grad += (1 - rho) * gradient * gradient
        delta = (
            -xp.sqrt(accumulated_delta + self.epsilon)
            * gradient
            / xp.sqrt(accumulated_grad + self.epsilon)
        )
        accumulated_delta *= rho
        accumulated_delta += (1 - rho) * delta * delta
        variable.data += learning_rate * delta

    def fused_update(self, variable, learning_rate):
        accumulated_grad = self.slot(variable, "accumulated_grad")
        accumulated_delta = self.slot(variable, "accumulated_delta_var")
        coefficients = (self.rho, 1 - self.rho, self.epsilon, learning_rate)
        return "adadelta", (accumulated_grad, accumulated_delta), coefficients

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}
