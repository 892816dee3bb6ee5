"""Optimizers whose step reads a whole variable at once (its norm, its mean, its matrix)."""

from .base import Optimizer


class WholeVariableOptimizer(Optimizer):
    """An optimizer whose ``update_step`` is not elementwise: each variable is updated whole,
    never in the blocks an ``update_loop`` would cut it into (a norm or a matrix product over a
    block is not the block of the whole's)."""

    def _backend_update_step(self, grads, variables, learning_rate):
        for g, v in zip(grads, variables):
            self.update_step(g, v, learning_rate)
