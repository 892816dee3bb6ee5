"""RMSprop (Hinton's lecture 6e) in Keras's formulation."""

import numpy as np

from .base import Optimizer


class RMSprop(Optimizer):
    """Divide the gradient by a running root-mean-square of recent gradients.

        v <- ρ v + (1 - ρ) g²
        centered:  ḡ <- ρ ḡ + (1 - ρ) g,   d = v - ḡ² + ε;   otherwise d = v + ε
        Δ = η g / sqrt(d)
        momentum μ > 0:  s <- μ s + Δ,  w <- w - s;   otherwise w <- w - Δ

    Args:
        learning_rate: η, default 0.001.  rho: ρ, default 0.9.  momentum: μ, default 0.
        epsilon: ε, default 1e-7.  centered: default False.
    """

    def __init__(
        self,
        learning_rate=0.001,
        rho=0.9,
        momentum=0.0,
        epsilon=1e-7,
        centered=False,
        name=None,
        **kwargs,
    ):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        for argument, value in (("rho", rho), ("momentum", momentum)):
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"RMSprop: {argument} must be in [0, 1]; got {argument}={value}")
        if epsilon <= 0:
            raise ValueError(f"RMSprop: epsilon must be positive; got epsilon={epsilon}")
        self.rho, self.momentum, self.epsilon, self.centered = rho, momentum, epsilon, centered

    def build(self, variables):
        self.add_slots(variables, "velocity")
        if self.momentum > 0:
            self.add_slots(variables, "momentum")
        if self.centered:
            self.add_slots(variables, "average_gradient")
        super().build(variables)

    def update_step(self, gradient, variable, learning_rate):
        velocity = self.slot(variable, "velocity")
        velocity *= self.rho
        velocity += (1 - self.rho) * gradient * gradient
        denominator = velocity + self.epsilon
        if self.centered:
            average = self.slot(variable, "average_gradient")
            average *= self.rho
            average += (1 - self.rho) * gradient
            denominator = denominator - average * average
        increment = learning_rate * gradient / np.sqrt(denominator)
        if self.momentum > 0:
            momentum = self.slot(variable, "momentum")
            momentum *= self.momentum
            momentum += increment
            increment = momentum
        variable.data -= increment

    def fused_update(self, variable, learning_rate):
        velocity = self.slot(variable, "velocity")
        average = self.slot(variable, "average_gradient") if self.centered else velocity
        momentum = self.slot(variable, "momentum") if self.momentum > 0 else velocity
        coefficients = (self.rho, 1 - self.rho, self.epsilon, learning_rate, self.momentum)
        flags = (bool(self.centered), bool(self.momentum > 0))
        return "rmsprop", (velocity, average, momentum), (*coefficients, *flags)

    def get_config(self):
        return {
            **super().get_config(),
            "rho": self.rho,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "centered": self.centered,
        }
