"""Schedule-free AdamW (Defazio et al., 2024): no learning-rate schedule needed."""

from ...backend import xp_of
from .base import Optimizer


class ScheduleFreeAdamW(Optimizer):
    """AdamW whose iterate averaging replaces the decay schedule.

    The variable holds y, the point where gradients are taken; the state is z ("momentum",
    starting at the variable's initial value) and v ("velocity"). With t = iterations + 1 and
    η_t = η min(t / ``warmup_steps``, 1) (η_t = η without warmup), each step is elementwise:

        v <- v + (1 - β2)(g² - v)
        z' = z - η_t g / (sqrt(v / (1 - β2^t)) + ε)
        x = (y - (1 - β1) z) / β1                        (the average, recovered from y and z)
        x' = (1 - 1/t) x + z' / t
        y <- (1 - β1) z' + β1 x',   z <- z'

    Weight decay (``weight_decay``) is decoupled, applied to y before the step (as in AdamW).

    Args:
        learning_rate: η, default 0.0025.  beta_1, beta_2: default 0.9, 0.999.
        epsilon: ε, default 1e-8.  warmup_steps: default 0.
    """

    def __init__(
        self,
        learning_rate=0.0025,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        warmup_steps=0,
        name=None,
        **kwargs,
    ):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon
        self.warmup_steps = warmup_steps

    def build(self, variables):
        for variable in variables:
            self.add_slot(variable, "momentum")[...] = variable.data
            self.add_slot(variable, "velocity")
        super().build(variables)

    def update_step(self, gradient, variable, learning_rate):
        xp = xp_of(variable.data)
        t = self._local_step()
        if self.warmup_steps > 0:
            learning_rate *= min(t / self.warmup_steps, 1.0)
        b1, b2 = self.beta_1, self.beta_2
        z, v = self.slot(variable, "momentum"), self.slot(variable, "velocity")
        y = variable.data
        x = (y - (1 - b1) * z) / b1
        v += (gradient * gradient - v) * (1 - b2)
        z -= learning_rate * gradient / (xp.sqrt(v / (1 - b2**t)) + self.epsilon)
        x *= 1 - 1 / t
        x += z / t
        y[...] = (1 - b1) * z + b1 * x

    def get_config(self):
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
            "warmup_steps": self.warmup_steps,
        }
