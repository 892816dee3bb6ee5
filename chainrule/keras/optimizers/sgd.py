"""Stochastic gradient descent, the article's update W <- W - η dL/dW, with Keras's momentum."""

from .base import Optimizer


class SGD(Optimizer):
    """Gradient descent with optional (Nesterov) momentum, in Keras's formulation.

    Without momentum:  w <- w - η g.
    With momentum μ:   v <- μ v - η g;   w <- w + v,
    Nesterov:          v <- μ v - η g;   w <- w + μ v - η g.

    Args:
        learning_rate: η, default 0.01 (Keras's default).
        momentum: μ in [0, 1], default 0.
        nesterov: use Nesterov momentum.
    """

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f"SGD: momentum must be between 0 and 1; got {momentum}")
        self.momentum, self.nesterov = float(momentum), bool(nesterov)

    def build(self, variables):
        if self.momentum:
            self.add_slots(variables, "momentum")
        super().build(variables)

    def update_step(self, gradient, variable, learning_rate):
        w = variable.data
        if not self.momentum:
            # w <- w - η g, in place; η as a scalar of w's dtype, which NumPy would make of the
            # Python float anyway, a third of a microsecond sooner (the article's step has four)
            w -= gradient * w.dtype.type(learning_rate)
            return
        velocity = self.slot(variable, "momentum")
        velocity *= self.momentum
        velocity -= learning_rate * gradient
        if self.nesterov:
            w += self.momentum * velocity - learning_rate * gradient
        else:
            w += velocity

    def fused_update(self, variable, learning_rate):
        if not self.momentum:
            return None  # w - g η is two NumPy passes already
        velocity = self.slot(variable, "momentum")
        return "sgd_momentum", (velocity,), (self.momentum, learning_rate, self.nesterov)

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}
