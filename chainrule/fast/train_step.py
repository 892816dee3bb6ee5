"""The training step, and the forward pass of ``evaluate`` and ``predict``, traced once per input
shape and then replayed (see :mod:`.plan`).

The first batch of a given shape runs through the engine while every op is recorded. The second
runs through the engine again and is replayed on the recorded plan as well, with the same random
draws; only if both agree (outputs and gradients) and the step changed no variable on the side
(moving averages, say) are later batches replayed. Otherwise the model keeps training through the
engine: the plan is an optimisation that never changes a result. A step that sums over the
processes of a data-parallel job (``replica_sum``) always runs through the engine, so that every
process makes the same sums in the same order whatever the shape of its part of a batch.
"""

from itertools import islice

import numpy as np

from .. import nest, random
from ..engine import Tensor, grad_arrays, tracing
from ..ops import replica_sum
from . import threads
from .plan import Plan
from .runtime import enabled

_DISABLED = "disabled"
# Plans kept per model: batches of ever new shapes (text padded to each batch's longest
# sequence) run through the engine once this many shapes have plans, so that neither the time
# to trace each new shape nor the plans' memory grows with the number of shapes.
MAX_SHAPES = 8


class _Unverified:
    def __init__(self, plan, structure):
        self.plan = plan
        self.structure = nest.map_structure(lambda _: None, structure)


class _PlansByShape:
    """Plans kept per input shape (see the module): traced on a shape's first batch, checked
    against the engine on its second, replayed from its third."""

    def __init__(self, replay=True):
        self.enabled = replay
        self.plans = {}
        self.packers = {}  # per plan, what packs its outputs as its forward returns them

    def _record(self, key, inputs, outputs, structure, refused, wrt=()):
        """Keep the traced computation of ``outputs`` (flat) from ``inputs`` to be checked on
        the next batch; or never replay it, where ``refused`` (values read into Python, say),
        an output is not a Tensor, or it sums over the processes (which every process must
        run alike, whatever the shape of its part of a batch)."""
        plan = None
        if not refused and all(isinstance(t, Tensor) for t in outputs):
            plan = Plan(inputs, outputs, wrt)
        if plan is not None and not any(step.prim is replica_sum for step in plan.forward):
            self.plans[key] = _Unverified(plan, structure)
        else:
            self.plans[key] = _DISABLED

    def _settle(self, key, unverified, same):
        """Replay the checked plan from now on where it gave the engine's results (``same``),
        else keep the shape's steps in the engine."""
        if same:
            unverified.plan.specialize()
        self.plans[key] = unverified.plan if same else _DISABLED
        self.packers[key] = packer(unverified.structure)


class TrainStepPlans(_PlansByShape):
    """Per-input-shape plans of one model's training step."""

    def __init__(self, replay=True):
        super().__init__(replay)
        self.direct = {}  # per plan, its replay where it returns (loss, y_pred, output losses)
        self.weights = None  # the trainable weights, fixed at the first step

    def step(self, model, arrays, weights, forward=None):
        """Run one forward pass and backward pass: (loss array, outputs, gradients).

        ``forward(*tensors) -> (loss, outputs)`` computes the loss from one Tensor per array
        (by default ``model.forward_loss``, whose outputs are y_pred); ``outputs`` may be any
        structure of Tensors (several outputs, each output's loss) and comes back as the same
        structure of arrays.
        """
        threads.training_step()  # every core or one, for this step (see threads.using_cores)
        forward = forward or model.forward_loss
        if not self.enabled or not enabled():
            return _eager(forward, arrays, weights)
        key = tuple([(a.shape, a.dtype) for a in arrays])  # the weights are fixed per compile
        plan = self.plans.get(key)
        if plan is None and len(self.plans) >= MAX_SHAPES:
            return _eager(forward, arrays, weights)
        if isinstance(plan, _Unverified):
            return self._verify(model, forward, arrays, weights, key, plan)
        if plan is _DISABLED:
            return _eager(forward, arrays, weights)
        if plan is not None:
            (loss, *outputs), grads = plan.run(*arrays)
            return loss, self.packers[key](outputs), grads
        return self._trace(forward, arrays, weights, key)

    def _trace(self, forward, arrays, weights, key):
        inputs = [Tensor(a) for a in arrays]
        with tracing(inputs) as traced:
            loss, outputs = forward(*inputs)
        scalar = isinstance(loss, Tensor) and loss.size == 1 and loss.requires_grad
        refused = traced.values_read or not scalar
        self._record(key, inputs, [loss, *nest.flatten(outputs)], outputs, refused, weights)
        return loss.data, nest.map_structure(_data, outputs), grad_arrays(loss, weights)

    def _verify(self, model, forward, arrays, weights, key, unverified):
        plan = unverified.plan

        def engine():
            loss, outputs, grads = _eager(forward, arrays, weights)
            return [loss, *nest.flatten(outputs)], grads, (loss, outputs, grads)

        (loss, outputs, grads), same = _checked(model, plan, engine, arrays)
        self._settle(key, unverified, same)
        y_pred, *extras = unverified.structure
        if same and plan.complete and not nest.is_nested(y_pred) and len(extras) == 1:
            self.direct[key] = plan.run  # (a third part, the outputs' masks: the full step)
        return loss, outputs, grads


class InferencePlans(_PlansByShape):
    """Per-input-shape plans of a model's forward pass without gradients: ``evaluate``'s loss
    and outputs, ``predict``'s outputs. Traced, checked against the engine and replayed as the
    training step's are (see the module), the replay computing no gradient; a step that changes
    a variable on the side (a stateful layer's state) keeps running through the engine."""

    def run(self, model, arrays, forward):
        """``forward(*tensors)``, a structure of Tensors computed from one Tensor per array,
        as the same structure of arrays."""
        if not self.enabled or not enabled():
            return _forward_eagerly(forward, arrays)
        key = tuple([(a.shape, a.dtype) for a in arrays])
        plan = self.plans.get(key)
        if plan is None:
            if len(self.plans) >= MAX_SHAPES:
                return _forward_eagerly(forward, arrays)
            return self._trace(forward, arrays, key)
        if isinstance(plan, _Unverified):
            return self._verify(model, forward, arrays, key, plan)
        if plan is _DISABLED:
            return _forward_eagerly(forward, arrays)
        return self.packers[key](plan.run(*arrays)[0])

    def _trace(self, forward, arrays, key):
        inputs = [Tensor(a) for a in arrays]
        with tracing(inputs) as traced:
            outputs = forward(*inputs)
        flat = nest.flatten(outputs)
        self._record(key, inputs, flat, outputs, traced.values_read or not flat)
        return nest.map_structure(_data, outputs)

    def _verify(self, model, forward, arrays, key, unverified):
        def engine():
            outputs = _forward_eagerly(forward, arrays)
            return nest.flatten(outputs), [], outputs

        outputs, same = _checked(model, unverified.plan, engine, arrays)
        self._settle(key, unverified, same)
        return outputs


def _checked(model, plan, engine, arrays):
    """Run the engine's step, ``engine() -> (flat outputs, gradients, result)``, then replay
    ``plan`` on ``arrays`` with the same random draws: (result, True where the replay gave the
    same outputs and gradients and the step changed none of the model's non-trainable
    variables)."""
    state = random.get_state()
    before = [w.data.copy() for w in model.non_trainable_weights]
    outputs, grads, result = engine()
    after_state = random.get_state()
    side_effects = any(
        not np.array_equal(old, w.data) for old, w in zip(before, model.non_trainable_weights)
    )
    random.set_state(state)
    same = (
        not side_effects
        and len(outputs) == len(plan.outputs)
        and plan.matches(outputs, grads, arrays)
    )
    random.set_state(after_state)
    return result, same


class DirectStep:
    """One training step on the usual batch, ``(x, y, sample_weight)`` of arrays (the weights
    None or an array), with every part called directly: the checked plan's replay (one whose
    forward returns one output, y_pred, and gives every weight a gradient), then
    ``apply(grads)``, ``add_loss(loss, batch size)`` and each of the metrics' updates as
    ``update(y, y_pred)``: ``metric_updates`` for a batch without sample weights,
    ``weighted_updates`` for one with them (None where a metric would take the weights: such
    a batch takes the full step). These are what the training step would call, found once (an
    epoch) by its caller instead of on every step.

    ``run_for(batch)`` gives the replay to pass to ``step(run, batch)``, or None, having done
    nothing, for a batch of another kind or of shapes without such a plan (the first batches of
    a shape, a last smaller batch): that batch takes the full step.
    """

    def __init__(self, plans, apply, add_loss, metric_updates, weighted_updates=None):
        self.direct = plans.direct if plans.enabled else {}
        self.apply, self.add_loss = apply, add_loss
        self.metric_updates, self.weighted_updates = metric_updates, weighted_updates

    def run_for(self, batch):
        x, y, sample_weight = batch
        if type(x) is not np.ndarray or type(y) is not np.ndarray:
            return None
        if sample_weight is None:
            return self.direct.get(((x.shape, x.dtype), (y.shape, y.dtype)))
        if self.weighted_updates is None or type(sample_weight) is not np.ndarray:
            return None
        weights = (sample_weight.shape, sample_weight.dtype)
        return self.direct.get(((x.shape, x.dtype), (y.shape, y.dtype), weights))

    def step(self, run, batch):
        x, y, sample_weight = batch
        threads.training_step()  # as TrainStepPlans.step does first
        if sample_weight is None:
            (loss, y_pred, *_), grads = run(x, y)
            updates = self.metric_updates
        else:
            (loss, y_pred, *_), grads = run(x, y, sample_weight)
            updates = self.weighted_updates
        self.apply(grads)
        self.add_loss(loss, len(x))
        for update in updates:
            update(y, y_pred)


def _data(value):
    return value.data if isinstance(value, Tensor) else value


def _eager(forward, arrays, weights):
    loss, outputs = forward(*[Tensor(a) for a in arrays])
    return loss.data, nest.map_structure(_data, outputs), grad_arrays(loss, weights)


def _forward_eagerly(forward, arrays):
    return nest.map_structure(_data, forward(*[Tensor(a) for a in arrays]))


def packer(structure):
    """A function of a list of leaves that returns ``nest.pack_like(structure, leaves)``, for a
    structure packed again and again (a replayed training step's outputs and losses): a list or
    tuple of leaves and flat lists or tuples of leaves, the usual one, is read once here instead
    of walked on every call."""

    def flat(item):
        return type(item) in (list, tuple) and not any(nest.is_nested(v) for v in item)

    if type(structure) not in (list, tuple) or not all(
        flat(item) or not nest.is_nested(item) for item in structure
    ):
        return lambda leaves: nest.pack_like(structure, leaves)
    kind = type(structure)
    parts = [(type(item), len(item)) if nest.is_nested(item) else None for item in structure]

    def pack(leaves):
        taken = iter(leaves)
        return kind(
            [next(taken) if part is None else part[0](islice(taken, part[1])) for part in parts]
        )

    return pack
