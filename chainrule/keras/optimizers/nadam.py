"""Nadam (Dozat, 2016): Adam with Nesterov momentum, in Keras's formulation."""

from ...backend import xp_of
from ..variables import Variable
from .base import Optimizer


class Nadam(Optimizer):
    """Adam whose first moment looks one step ahead, with Dozat's momentum schedule.

    With t = iterations + 1 and the momentum schedule μ_t = β1 (1 - 0.5 * 0.96^t), the product
    Π_t = μ_1 ... μ_t is updated once per step, then for each variable:
        m <- m + (1 - β1)(g - m),   v <- v + (1 - β2)(g² - v)
        m̂ = μ_{t+1} m / (1 - Π_t μ_{t+1}) + (1 - μ_t) g / (1 - Π_t)
        v̂ = v / (1 - β2^t)
        w <- w - η m̂ / (sqrt(v̂) + ε)

    Π_t (``u_product``) is computed as a Python float; once built, the optimizer also keeps it
    in a variable of the weights' dtype, the one Keras has (after the slots in ``variables``).

    Args:
        learning_rate: η, default 0.001.  beta_1, beta_2: default 0.9, 0.999.
        epsilon: ε, default 1e-7.
    """

    def __init__(
        self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, name=None, **kwargs
    ):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon
        self._u_product, self._u_product_variable = 1.0, None

    @property
    def u_product(self):
        """Π_t, the product of the momentum schedule over the steps taken (a float)."""
        return self._u_product

    @u_product.setter
    def u_product(self, value):
        self._u_product = float(value)
        if self._u_product_variable is not None:
            self._u_product_variable.assign(self._u_product)

    def _momentum_schedule(self, t):
        return self.beta_1 * (1.0 - 0.5 * 0.96**t)

    def build(self, variables):
        self.add_slots(variables, "momentum", "velocity")
        dtype = variables[0].dtype if variables else None
        # Keras makes this one outside the optimizer's name scope: its path is "variable"
        self._u_product_variable = Variable(self._u_product, dtype=dtype, trainable=False)
        self._variables.append(self._u_product_variable)
        super().build(variables)

    def _backend_update_step(self, grads, variables, learning_rate):
        self.u_product *= self._momentum_schedule(self._local_step())
        super()._backend_update_step(grads, variables, learning_rate)

    def update_step(self, gradient, variable, learning_rate):
        u_t, u_next, u_product_next = self._schedule_terms()
        m, v = self.slot(variable, "momentum"), self.slot(variable, "velocity")
        m += (gradient - m) * (1 - self.beta_1)
        v += (gradient * gradient - v) * (1 - self.beta_2)
        m_hat = u_next * m / (1 - u_product_next) + (1 - u_t) * gradient / (1 - self._u_product)
        v_hat = v / (1 - self.beta_2 ** self._local_step())
        variable.data -= learning_rate * m_hat / (xp_of(v_hat).sqrt(v_hat) + self.epsilon)

    def _schedule_terms(self):
        """(μ_t, μ_{t+1}, Π_t μ_{t+1}) with t = iterations + 1."""
        t = self._local_step()
        u_next = self._momentum_schedule(t + 1)
        return self._momentum_schedule(t), u_next, self._u_product * u_next

    def fused_update(self, variable, learning_rate):
        u_t, u_next, u_product_next = self._schedule_terms()
        m, v = self.slot(variable, "momentum"), self.slot(variable, "velocity")
        divisors = (1 - u_product_next, 1 - u_t, 1 - self._u_product)
        v_divisor = 1 - self.beta_2 ** self._local_step()
        coefficients = (1 - self.beta_1, 1 - self.beta_2, u_next, *divisors, v_divisor)
        return "nadam", (m, v), (*coefficients, learning_rate, self.epsilon)

    def get_config(self):
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
        }
