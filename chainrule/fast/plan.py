"""Trace once, replay: run a recorded computation again on new inputs, without rebuilding its graph.

A training step of a fixed model does the same ops on every batch; only the data changes. A
:class:`Plan` records those ops once (every primitive call, with its parameters) and then replays
them on raw arrays: the same forward functions and the same VJPs as the engine runs, in the same
order as ``backward()`` would run them, so its gradients are those of the engine, bit for bit,
without a Tensor or a Node allocated per op. The replay is written out as Python source
(``plan.source``: the chain rule of this computation, one line per op) and registered with
:mod:`linecache`, so a traceback through a replayed step shows the line that failed.

One rewrite changes the order, not the result: a relu whose only use is a max pooling runs after
the pooling, on the smaller array (:func:`_pool_before_relu`). Once the plan has been checked
against the engine (:meth:`Plan.specialize`), a convolution whose only use is a tiling max
pooling is computed in the pooling's layout, with a relu after the pooling folded into it, and
the block's gradients computed in one call (:func:`_tile_conv_pool_blocks`, see :mod:`.tiled`):
the same outputs, and gradients that differ from the engine's only in the rounding of the
kernel's and bias's sums, which add the same terms in another order. A softmax cross-entropy
loss of a small matrix of logits is then computed with its gradient and the softmax in one call
(:func:`_fuse_softmax_cross_entropy`), which gives the numbers of the kernels ``fit`` computes
those ops with.

A plan is valid for inputs of the traced shapes and dtypes. Values that the traced code computed
outside the primitives from the data (a Python branch on a value, say) would be frozen into the
plan, so :meth:`Plan.matches` lets a caller check a plan against the engine on a fresh batch
before trusting it.
"""

import ast
import itertools
import linecache
import weakref
from typing import NamedTuple

import numpy as np

from .. import ops
from ..engine import Tensor, _topological_order, post_order, unbroadcast
from ..variables import Variable
from . import fused
from .kernels import (
    ROWS_LOOP_UNTIL,
    softmax_cross_entropy_with_gradient,
    sparse_softmax_cross_entropy_with_gradient,
)
from .tiled import conv2d_tiled, tile_max, tiled_conv_gradients

__all__ = ["Plan"]


class Step(NamedTuple):
    """One forward op: slot ``out`` = ``function(*slots arguments, **params)``. ``prim`` is the
    primitive it computes, or None for a function a rewrite put in (whose ``out`` may be a
    tuple of slots, for a function that returns several results)."""

    prim: object
    function: object
    arguments: tuple
    params: dict
    out: int


class Gradient(NamedTuple):
    """One VJP of a backward step: the gradient for slot ``slot`` (its ``shape`` and ``dtype``),
    from input ``argnum`` of the primitive; ``slot``, ``shape`` and ``dtype`` are tuples for a
    function that returns the gradients of several inputs at once."""

    vjp: object
    argnum: object
    slot: object
    shape: object
    dtype: object


class BackStep(NamedTuple):
    """The VJPs of one op: g of slot ``out`` sent back to the op's inputs, each VJP called as
    ``vjp(g, out value, *arguments, **params)``."""

    prim: object
    out: int
    arguments: tuple
    params: dict
    gradients: tuple


_names = itertools.count()


class Plan:
    """A recorded computation from ``inputs`` to ``outputs``, differentiable w.r.t. ``wrt``.

    Args:
        inputs: the Tensors that stand for the data (replaced by new arrays on each run).
        outputs: the Tensors computed from them; ``outputs[0]`` is the one-element loss.
        wrt: the Variables whose gradients :meth:`run` returns (the trainable weights).

    The outputs must have been computed under ``chainrule.engine.tracing()``.

    ``plan.run(*arrays)`` replays it on new input arrays (the compiled function itself) and
    returns (the outputs as arrays, the gradients w.r.t. ``wrt``).
    """

    def __init__(self, inputs, outputs, wrt):
        self.n_inputs = len(inputs)
        slots = {id(t): i for i, t in enumerate(inputs)}
        values = [t.data for t in inputs]
        self.variables = []  # (slot, Variable): read afresh on every run
        self.forward = []  # Steps
        self.shapes = {}  # output slot -> (shape, dtype) of what each op computed when traced

        def slot_of(value):
            if isinstance(value, Tensor):
                known = slots.get(id(value))
                if known is not None:
                    return known
                slots[id(value)] = len(values)
                values.append(value.data)
                if isinstance(value, Variable):
                    self.variables.append((slots[id(value)], value))
                return slots[id(value)]
            values.append(value)  # a raw constant: a Python number or an array
            return len(values) - 1

        for tensor in post_order(outputs, _tensor_inputs):
            node = tensor._node
            if node is None:
                slot_of(tensor)
                continue
            arguments = tuple(slot_of(a) for a in node.inputs)
            slots[id(tensor)] = len(values)
            values.append(None)
            self.forward.append(
                Step(node.prim, node.prim.kernel, arguments, node.params, slots[id(tensor)])
            )
            self.shapes[slots[id(tensor)]] = (tensor.shape, tensor.dtype)
        self.values = values
        self.outputs = [slots[id(t)] for t in outputs]
        self.seed = np.ones_like(outputs[0].data)  # dL/dL = 1; the VJPs never write into it

        # The backward pass: the nodes that need a gradient, in the engine's own order.
        self.backward = []
        for tensor in _topological_order([outputs[0]]):
            node = tensor._node
            if node is None or not node.parents:
                continue
            gradients = tuple(
                Gradient(
                    _vjp_function(node.prim, argnum),
                    argnum,
                    slots[id(parent)],
                    parent.shape,
                    parent.dtype,
                )
                for argnum, parent in node.parents
            )
            arguments = tuple(slot_of(a) for a in node.inputs)
            self.backward.append(
                BackStep(node.prim, slots[id(tensor)], arguments, node.params, gradients)
            )
        self.wrt = [slots.get(id(w)) for w in wrt]
        _pool_before_relu(self)

        self.fixes, self.checked = set(), set()
        self.filename = f"<chainrule plan {next(_names)}>"
        weakref.finalize(self, linecache.cache.pop, self.filename, None)
        self.source, self.run = self._compile()

    def _compile(self, fixes=None):
        """Write the replay as straight-line Python (one line per forward op or VJP) and compile
        it: the same calls as the engine makes, without its per-op bookkeeping.

        The generated source is kept in ``self.source`` and in :mod:`linecache` under
        ``self.filename``, so tracebacks show it. ``fixes`` names the VJP results that need
        summing back to their input's shape or casting to its dtype, by (gradient from, gradient
        to, VJP index); None checks every one and notes in ``self.fixes`` those that did (shapes
        and dtypes are fixed per plan, so one run tells). A result that the checking run did not
        see (one that a rewrite made) keeps its checks.
        """
        namespace = {"unbroadcast": unbroadcast, "fixes": self.fixes}
        namespace["variables"] = [variable for _, variable in self.variables]
        for slot, value in enumerate(self.values):
            namespace[f"v{slot}"] = value  # constants; inputs and results are locals below
        lines = ["def replay(*arrays):"]
        lines.append("    " + ", ".join(f"v{i}" for i in range(self.n_inputs)) + ", = arrays")
        for k, (slot, _) in enumerate(self.variables):
            lines.append(f"    v{slot} = variables[{k}].data")
        for k, step in enumerate(self.forward):
            namespace[f"f{k}"] = step.function
            call = ", ".join(f"v{i}" for i in step.arguments)
            call += _keywords(step.params, f"p{k}", namespace)
            out = f"v{step.out}"
            if type(step.out) is tuple:  # several results: v1, v2 = ... (v1, = ... for one)
                out = ", ".join(f"v{i}" for i in step.out) + ("," if len(step.out) == 1 else "")
            lines.append(f"    {out} = f{k}({call})  # {_label(step)}")
        loss = self.outputs[0]
        namespace["seed"] = self.seed
        lines.append(f"    g{loss} = seed")
        have = {loss}
        for k, back in enumerate(self.backward):
            if back.out not in have:
                continue
            call = ", ".join(f"v{i}" for i in (back.out,) + back.arguments)
            call += _keywords(back.params, f"q{k}", namespace)
            for j, gradient in enumerate(back.gradients):
                name = f"b{k}_{j}"
                namespace[name] = gradient.vjp
                if isinstance(gradient.slot, tuple):  # one call, the gradients of several inputs
                    lines.append(f"    ts = {name}(g{back.out}, {call})  # {gradient.vjp.__name__}")
                    results = [
                        (f"ts[{i}]", *each)
                        for i, each in enumerate(zip(gradient.slot, gradient.shape, gradient.dtype))
                    ]
                else:
                    lines.append(f"    t = {name}(g{back.out}, {call})  # {gradient.vjp.__name__}")
                    results = [("t", gradient.slot, gradient.shape, gradient.dtype)]
                for i, (value, slot, shape, dtype) in enumerate(results):
                    key, label = (back.out, slot, j), f"{name}_{i}"
                    namespace[f"S{label}"], namespace[f"D{label}"] = shape, dtype
                    if value != "t":
                        lines.append(f"    t = {value}")
                    if fixes is None:
                        self.checked.add(key)
                        lines.append(f"    if t.shape != S{label} or t.dtype != D{label}:")
                        lines.append(f"        fixes.add({key!r})")
                    if fixes is None or key in fixes or key not in self.checked:
                        lines.append(f"    if t.shape != S{label}: t = unbroadcast(t, S{label})")
                        lines.append(f"    if t.dtype != D{label}: t = t.astype(D{label})")
                    lines.append(
                        f"    g{slot} = g{slot} + t" if slot in have else f"    g{slot} = t"
                    )
                    have.add(slot)
        outputs = ", ".join(f"v{i}" for i in self.outputs)
        grads = ", ".join(f"g{i}" if i in have else "None" for i in self.wrt)
        self.complete = all(i in have for i in self.wrt)  # a gradient for every weight
        lines.append(f"    return [{outputs}], [{grads}]")
        source = "\n".join(lines) + "\n"
        linecache.cache[self.filename] = (len(source), None, source.splitlines(True), self.filename)
        exec(compile(source, self.filename, "exec"), namespace)
        return source, namespace["replay"]

    def specialize(self):
        """Recompile without the shape and dtype checks that the runs so far showed unneeded,
        with convolutions in their poolings' layout (:func:`_tile_conv_pool_blocks`) and a
        softmax cross-entropy loss computed with its gradient
        (:func:`_fuse_softmax_cross_entropy`)."""
        _tile_conv_pool_blocks(self)
        _fuse_softmax_cross_entropy(self)
        self.source, self.run = self._compile(fixes=set(self.fixes))

    def matches(self, outputs, grads, arrays):
        """True if replaying on ``arrays`` reproduces the engine's ``outputs`` and ``grads``."""
        replayed, replayed_grads = self.run(*arrays)
        pairs = list(zip(replayed, outputs)) + list(zip(replayed_grads, grads))
        return all(_agree(a, b) for a, b in pairs)


def _agree(a, b):
    """Both None, or arrays of one shape: floats equal to rounding, anything else (integers,
    booleans, strings) equal."""
    if a is None or b is None:
        return a is None and b is None
    if a.shape != b.shape:
        return False
    if a.dtype.kind in "fc" and b.dtype.kind in "fc":
        return np.allclose(a, b, rtol=1e-5, atol=1e-7)
    return np.array_equal(a, b)


def _pool_before_relu(plan):
    """Rewrite every relu whose only use is a max pooling as the pooling, then the relu:

        max_pool(relu(z)) = relu(max_pool(z))

    exactly, since relu is non-decreasing: the same values, and the same gradients (where a
    window's maximum is positive both route g to its first maximum; elsewhere both give 0). The
    relu and its VJP then run on the pooled array, a quarter of the size for 2x2 pools, so the
    usual convolution, relu, pooling block moves much less data.
    """
    uses, makers = _use_counts(plan), _makers(plan)
    kept = set(plan.outputs) | set(plan.wrt)
    for k, pool in enumerate(plan.forward):
        if pool.prim is not ops.max_pool2d:
            continue
        (r,) = pool.arguments
        if uses.get(r) != 1 or r in kept or r not in makers:
            continue
        j = makers[r]
        relu = plan.forward[j]
        grads = _gradient_entries(plan)
        if relu.prim is not ops.relu or relu.params or (pool.out in grads) != (r in grads):
            continue
        (z,) = relu.arguments
        t = _new_slot(plan, plan.shapes[pool.out])  # the pooled pre-activation
        plan.forward[j] = pool._replace(arguments=(z,), out=t)
        plan.forward[k] = relu._replace(arguments=(t,), out=pool.out)
        if pool.out in grads:  # dL/dt = relu's VJP at t, then dL/dz = the pooling's VJP at z
            pool_back, relu_back = plan.backward[grads[pool.out]], plan.backward[grads[r]]
            (pool_gradient,), (relu_gradient,) = pool_back.gradients, relu_back.gradients
            t_shape, t_dtype = plan.shapes[t]
            plan.backward[grads[pool.out]] = relu_back._replace(
                out=pool.out,
                arguments=(t,),
                gradients=(relu_gradient._replace(slot=t, shape=t_shape, dtype=t_dtype),),
            )
            plan.backward[grads[r]] = pool_back._replace(
                out=t,
                arguments=(z,),
                gradients=(
                    pool_gradient._replace(
                        slot=z, shape=relu_gradient.shape, dtype=relu_gradient.dtype
                    ),
                ),
            )


_CONV_INPUTS = ("x", "kernel", "bias")  # conv2d's inputs by position, as tiled_conv_gradients


def _tile_conv_pool_blocks(plan):
    """Rewrite every convolution whose only use is a max pooling with windows that tile its
    output (strides equal to the pool size, 'valid') as the convolution in the tiled layout,
    then the maximum over each tile, and the block's VJPs as one call:

        max_pool2d(conv2d(x, K, b))   ->   tile_max(conv2d_tiled(x, K, b, tiles=pool_size))

    A relu whose only use is such a pooling's output is folded into it (``relu=True``). The
    convolution computes the same numbers in the order the pooling reads them (and not the rows
    and columns no window reads), so the pooling's passes and its gradient's run over whole
    contiguous arrays, and the gradient reaches the kernel without a full-size scatter
    (:func:`.tiled.tiled_conv_gradients`).
    """
    kept = set(plan.outputs) | set(plan.wrt)
    dropped_forward, dropped_backward = set(), set()
    for k, pool in enumerate(plan.forward):
        uses, makers, grads = _use_counts(plan), _makers(plan), _gradient_entries(plan)
        if pool.prim is not ops.max_pool2d or not _tiles_output(pool.params):
            continue
        (z,) = pool.arguments
        j = makers.get(z)
        if j is None or uses.get(z) != 1 or z in kept or (pool.out in grads) != (z in grads):
            continue
        conv = plan.forward[j]
        if conv.prim is not ops.conv2d:
            continue
        (n, ho, wo, f), dtype = plan.shapes[z]
        ph, pw = pool.params["pool_size"]
        t = _new_slot(plan, ((n, ph * pw, ho // ph, wo // pw, f), dtype))
        tiled_params = {**conv.params, "tiles": (ph, pw)}
        plan.forward[j] = Step(None, conv2d_tiled, conv.arguments, tiled_params, t)
        out, relu = pool.out, {}
        r = makers.get(_only_user(plan, pool.out, uses))
        if r is not None and pool.out not in kept:
            follower = plan.forward[r]
            if follower.prim is ops.relu and not follower.params:
                if (follower.out in grads) == (pool.out in grads):
                    dropped_forward.add(k)
                    dropped_backward.update([grads[pool.out]] if pool.out in grads else [])
                    k, out, relu = r, follower.out, {"relu": True}
        plan.forward[k] = Step(None, tile_max, (t,), relu, out)
        if out in grads:
            conv_back = plan.backward[grads[z]]
            wrt = tuple(_CONV_INPUTS[gradient.argnum] for gradient in conv_back.gradients)
            slots, shapes, dtypes = zip(
                *(
                    (gradient.slot, gradient.shape, gradient.dtype)
                    for gradient in conv_back.gradients
                )
            )
            together = Gradient(tiled_conv_gradients, None, slots, shapes, dtypes)
            params = {**tiled_params, **relu, "wrt": wrt}
            plan.backward[grads[out]] = BackStep(
                None, out, (t,) + conv.arguments[:2], params, (together,)
            )
            dropped_backward.add(grads[z])
    plan.forward = [e for i, e in enumerate(plan.forward) if i not in dropped_forward]
    plan.backward = [e for i, e in enumerate(plan.backward) if i not in dropped_backward]


def _fuse_softmax_cross_entropy(plan):
    """Where the loss is the mean softmax cross-entropy of logits z, with labels t given as a
    distribution per row or as class indices, and the model's output may be softmax(z):

        [p = softmax(z)];  loss = mean_softmax_cross_entropy(z, t[, p])            or
        [p = softmax(z)];  loss = mean(sparse_softmax_cross_entropy(z, t))

    with the loss's VJPs down to z, compute all of it in one call
    (:func:`.kernels.softmax_cross_entropy_with_gradient` or its sparse twin), placed where the
    first of those ops was: one compiled pass over each row where Numba is installed, instead
    of a call per op. The loss's incoming gradient is the seed, 1, so the gradient the call
    made is dL/dz. For the matrices of :data:`.kernels.ROWS_LOOP_UNTIL` numbers or fewer that
    it takes, each op's kernel runs the same pass, so the numbers are the same, bit for bit.
    Left as they are without Numba, for larger or other shapes than matrices with the classes
    on the last axis, where the labels need a gradient too, or where another op reads an
    intermediate result.
    """
    loss = plan.outputs[0]
    makers, grads, uses = _makers(plan), _gradient_entries(plan), _use_counts(plan)
    if loss not in makers or loss not in grads:
        return
    kept = set(plan.outputs[1:]) | set(plan.wrt)
    dropped = [makers[loss]]  # the forward steps the call replaces
    last = plan.forward[makers[loss]]
    if last.prim is ops.mean_softmax_cross_entropy:
        if last.params.get("axis", -1) not in (-1, 1):
            return
        z, labels, p = (last.arguments + (None,))[:3]
        sparse, losses, function = False, None, softmax_cross_entropy_with_gradient
    elif last.prim is ops.mean and not last.params:
        (losses,) = last.arguments
        per_sample = plan.forward[makers[losses]] if losses in makers else None
        if per_sample is None or per_sample.prim is not ops.sparse_softmax_cross_entropy:
            return
        if uses.get(losses) != 1 or losses in kept or losses not in grads:
            return
        dropped.append(makers[losses])
        (z, labels), p = per_sample.arguments, None
        sparse, function = True, sparse_softmax_cross_entropy_with_gradient
    else:
        return
    if p is None:  # a softmax of z that the model outputs, if any, is made by the call too
        p = next(
            (s.out for s in plan.forward if s.prim is ops.softmax and s.arguments == (z,)), None
        )
    if p is not None:
        softmax = plan.forward[makers[p]] if p in makers else None
        if (
            softmax is None
            or softmax.prim is not ops.softmax
            or softmax.arguments != (z,)
            or softmax.params.get("axis", -1) not in (-1, 1)
        ):
            return
        dropped.append(makers[p])
    shape, dtype = plan.shapes.get(z, (None, None))
    label_shape = plan.shapes[labels][0] if labels in plan.shapes else np.shape(plan.values[labels])
    if shape is None or len(shape) != 2 or label_shape != (shape[:1] if sparse else shape):
        return
    if shape[0] * shape[1] > ROWS_LOOP_UNTIL:  # where NumPy's passes are as fast
        return
    at = min(dropped)
    if makers.get(labels, -1) > at:  # the labels must be ready where the call goes
        return
    to_logits = plan.backward[grads[losses if sparse else loss]]
    if [gradient.argnum for gradient in to_logits.gradients] != [0] or fused.compiled() is None:
        return  # (Numba is imported only for a loss that it would compute)
    probabilities = p if p is not None else _new_slot(plan, (shape, dtype))
    gradient = _new_slot(plan, (shape, dtype))
    call = Step(None, function, (z, labels), {}, (probabilities, loss, gradient))
    plan.forward = [
        call if k == at else step
        for k, step in enumerate(plan.forward)
        if k == at or k not in dropped
    ]
    (to_z,) = to_logits.gradients
    computed = BackStep(
        None, loss, (gradient,), {}, (to_z._replace(vjp=_computed_gradient, argnum=None),)
    )
    plan.backward[grads[losses if sparse else loss]] = computed
    if sparse:  # the mean's VJP, which the call's gradient includes
        del plan.backward[grads[loss]]


def _computed_gradient(g, y, gradient):
    """The gradient that the forward call computed, for the loss's own incoming gradient 1."""
    return gradient


def _only_user(plan, slot, uses):
    """The slot computed by the one forward op that reads ``slot``, or None."""
    if uses.get(slot) != 1:
        return None
    return next(step.out for step in plan.forward if slot in step.arguments)


def _new_slot(plan, shape_and_dtype):
    """A new slot for an intermediate result that a rewrite adds."""
    plan.values.append(None)
    slot = len(plan.values) - 1
    plan.shapes[slot] = shape_and_dtype
    return slot


def _use_counts(plan):
    """slot -> how many forward ops read it."""
    uses = {}
    for step in plan.forward:
        for slot in step.arguments:
            uses[slot] = uses.get(slot, 0) + 1
    return uses


def _makers(plan):
    """slot -> the index of the forward op that computes it."""
    return {step.out: j for j, step in enumerate(plan.forward)}


def _gradient_entries(plan):
    """slot -> the index of the backward step that sends its gradient on."""
    return {back.out: i for i, back in enumerate(plan.backward)}


def _tiles_output(params):
    """True for max_pool2d parameters whose windows tile the input: strides equal to the pool
    size, given as pairs, with no padding."""
    pool, strides = params.get("pool_size"), params.get("strides")
    return (
        isinstance(pool, tuple)
        and len(pool) == 2
        and strides in (None, pool)
        and params.get("padding", "valid") == "valid"
    )


def _label(step):
    """The comment after a forward line: the primitive's name, or the rewrite's function's."""
    return step.prim.name if step.prim is not None else step.function.__name__


def _keywords(params, name, namespace):
    """The keyword arguments of a generated call: written out when every value is a literal
    that reads back equal (``axis=-1``), else passed as ``**name`` from the namespace."""
    if not params:
        return ""
    try:
        literal = all(ast.literal_eval(repr(v)) == v for v in params.values())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        literal = False
    if literal and all(key.isidentifier() for key in params):
        return "".join(f", {key}={value!r}" for key, value in params.items())
    namespace[name] = params
    return f", **{name}"


def _vjp_function(prim, argnum):
    """The VJP of ``prim`` for input ``argnum`` as a function of (g, y, *inputs, **params)."""
    if prim.variadic_vjp is not None:
        return lambda g, y, *inputs, **params: prim.variadic_vjp(argnum, g, y, *inputs, **params)
    if argnum not in prim.vjp_kernels:
        raise TypeError(f"{prim.name}: input {argnum} is not differentiable")
    return prim.vjp_kernels[argnum]


def _tensor_inputs(node):
    return [value for value in node.inputs if isinstance(value, Tensor)]
