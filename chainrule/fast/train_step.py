"""The training step, traced once per input shape and then replayed (see :mod:`.plan`).

The first batch of a given shape runs through the engine while every op is recorded. The second
runs through the engine again and is replayed on the recorded plan as well, with the same random
draws; only if both agree (outputs and gradients) and the step changed no variable on the side
(moving averages, say) are later batches replayed. Otherwise the model keeps training through the
engine: the plan is an optimisation that never changes a result.
"""

import numpy as np

from .. import random
from ..engine import Tensor, grad_arrays, tracing
from . import threads
from .plan import Plan
from .runtime import enabled

_DISABLED = "disabled"


class _Unverified:
    def __init__(self, plan):
        self.plan = plan


class TrainStepPlans:
    """Per-input-shape plans of one model's training step."""

    def __init__(self, replay=True):
        self.enabled = replay
        self.plans = {}
        self.weights = None  # the trainable weights, fixed at the first step

    def step(self, model, arrays, weights):
        """Run one forward pass and backward pass: (loss array, y_pred array, gradients)."""
        threads.training_step()  # every core or one, for this step (see threads.using_cores)
        if not self.enabled or not enabled():
            return _eager(model, arrays, weights)
        key = tuple([(a.shape, a.dtype) for a in arrays])  # the weights are fixed per compile
        plan = self.plans.get(key)
        if isinstance(plan, Plan):
            (loss, y_pred), grads = plan.run(*arrays)
            return loss, y_pred, grads
        if plan is None:
            return self._trace(model, arrays, weights, key)
        if plan is _DISABLED:
            return _eager(model, arrays, weights)
        return self._verify(model, arrays, weights, key, plan.plan)

    def _trace(self, model, arrays, weights, key):
        inputs = [Tensor(a) for a in arrays]
        with tracing():
            loss, y_pred = model.forward_loss(*inputs)
        if not isinstance(loss, Tensor) or loss.size != 1 or not loss.requires_grad:
            self.plans[key] = _DISABLED
        else:
            self.plans[key] = _Unverified(Plan(inputs, [loss, y_pred], weights))
        return loss.data, y_pred.data, grad_arrays(loss, weights)

    def _verify(self, model, arrays, weights, key, plan):
        state = random.get_state()
        before = [w.data.copy() for w in model.non_trainable_weights]
        loss, y_pred, grads = _eager(model, arrays, weights)
        after_state = random.get_state()
        side_effects = any(
            not np.array_equal(old, w.data) for old, w in zip(before, model.non_trainable_weights)
        )
        random.set_state(state)
        same = not side_effects and plan.matches([loss, y_pred], grads, arrays)
        random.set_state(after_state)
        if same:
            plan.specialize()
        self.plans[key] = plan if same else _DISABLED
        return loss, y_pred, grads


def _eager(model, arrays, weights):
    loss, y_pred = model.forward_loss(*[Tensor(a) for a in arrays])
    return loss.data, y_pred.data, grad_arrays(loss, weights)
