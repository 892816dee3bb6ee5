"""Trace once, replay: run a recorded computation again on new inputs, without rebuilding its graph.

A training step of a fixed model does the same ops on every batch; only the data changes. A
:class:`Plan` records those ops once (every primitive call, with its parameters) and then replays
them on raw arrays: the same forward functions and the same VJPs from the primitive registry, in
the same order as ``backward()`` would run them, so its gradients are those of the engine, bit for
bit, without a Tensor or a Node allocated per op. One rewrite changes the order, not the result:
a relu whose only use is a max pooling runs after the pooling, on the smaller array (see
``_pool_before_relu``). Two more are made once the plan has been checked against the engine
(:meth:`Plan.specialize`): a convolution whose only use is a tiling max pooling computes its
output in the pooling's layout (``_pool_tiles``), and the relu after such a pooling runs inside
it (``_relu_into_tile_max``). They give the same outputs, and gradients that differ from the
engine's only in the rounding of the kernel's and bias's sums, which add the same terms in
another order.

A plan is valid for inputs of the traced shapes and dtypes. Values that the traced code computed
outside the primitives from the data (a Python branch on a value, say) would be frozen into the
plan, so :meth:`Plan.matches` lets a caller check a plan against the engine on a fresh batch
before trusting it.
"""

import ast

import numpy as np

from .. import ops
from ..engine import Tensor, _topological_order, post_order, tracing, unbroadcast
from ..variables import Variable

__all__ = ["Plan", "tracing"]


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
        self.forward = []  # (forward function, argument slots, params, output slot)
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
            self.forward.append((node.prim.forward, arguments, node.params, slots[id(tensor)]))
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
            arguments = tuple(slot_of(a) for a in node.inputs)
            parents = tuple(
                (_vjp_function(node.prim, argnum), slots[id(parent)], parent.shape, parent.dtype)
                for argnum, parent in node.parents
            )
            self.backward.append((slots[id(tensor)], arguments, node.params, parents))
        self.wrt = [slots.get(id(w)) for w in wrt]
        _pool_before_relu(self)

        self.fixes, self.checked = set(), set()
        self.source, self.run = self._compile()

    def _compile(self, fixes=None):
        """Write the replay as straight-line Python (one line per forward op or VJP) and compile
        it: the same calls as the engine makes, without its per-op bookkeeping.

        The generated source is kept in ``self.source``: the chain rule of this computation,
        written out. ``fixes`` names the VJP results that need summing back to their input's
        shape or casting to its dtype, by (gradient from, gradient to, parent index); None checks
        every one and notes in ``self.fixes`` those that did (shapes and dtypes are fixed per
        plan, so one run tells). A result that the checking run did not see (one that a rewrite
        made) keeps its checks.

        An entry's parent whose slot is a tuple is one VJP function computing the gradients of
        several inputs at once, returned in that order.
        """
        namespace = {"unbroadcast": unbroadcast, "fixes": self.fixes}
        namespace["variables"] = [variable for _, variable in self.variables]
        for slot, value in enumerate(self.values):
            namespace[f"v{slot}"] = value  # constants; inputs and results are locals below
        lines = ["def replay(*arrays):"]
        lines.append("    " + ", ".join(f"v{i}" for i in range(self.n_inputs)) + ", = arrays")
        for k, (slot, _) in enumerate(self.variables):
            lines.append(f"    v{slot} = variables[{k}].data")
        for k, (forward, arguments, params, out) in enumerate(self.forward):
            namespace[f"f{k}"] = forward
            call = ", ".join(f"v{i}" for i in arguments) + _keywords(params, f"p{k}", namespace)
            lines.append(f"    v{out} = f{k}({call})  # {forward.__name__}")
        loss = self.outputs[0]
        namespace["seed"] = self.seed
        lines.append(f"    g{loss} = seed")
        have = {loss}
        for k, (out, arguments, params, parents) in enumerate(self.backward):
            if out not in have:
                continue
            call = ", ".join(f"v{i}" for i in (out,) + arguments)
            call += _keywords(params, f"q{k}", namespace)
            for j, (vjp, slot, shape, dtype) in enumerate(parents):
                name = f"b{k}_{j}"
                namespace[name] = vjp
                if isinstance(slot, tuple):  # one call, the gradients of several inputs
                    lines.append(f"    ts = {name}(g{out}, {call})  # {vjp.__name__}")
                    results = [
                        (f"ts[{i}]", *each) for i, each in enumerate(zip(slot, shape, dtype))
                    ]
                else:
                    lines.append(f"    t = {name}(g{out}, {call})  # {vjp.__name__}")
                    results = [("t", slot, shape, dtype)]
                for i, (value, slot, shape, dtype) in enumerate(results):
                    key, label = (out, slot, j), f"{name}_{i}"
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
        lines.append(f"    return [{outputs}], [{grads}]")
        source = "\n".join(lines) + "\n"
        exec(compile(source, "<chainrule plan>", "exec"), namespace)  # noqa: S102 (our own code)
        return source, namespace["replay"]

    def specialize(self):
        """Recompile without the shape and dtype checks that the runs so far showed unneeded,
        with convolutions in their poolings' layout (``_pool_tiles``, ``_relu_into_tile_max``,
        ``_tiled_conv_gradients``)."""
        _pool_tiles(self)
        _relu_into_tile_max(self)
        _tiled_conv_gradients(self)
        self.source, self.run = self._compile(fixes=set(self.fixes))

    def matches(self, outputs, grads, arrays):
        """True if replaying on ``arrays`` reproduces the engine's ``outputs`` and ``grads``."""
        replayed, replayed_grads = self.run(*arrays)
        pairs = list(zip(replayed, outputs)) + list(zip(replayed_grads, grads))
        return all(
            (a is None and b is None)
            or (
                a is not None
                and b is not None
                and a.shape == b.shape
                and np.allclose(a, b, rtol=1e-5, atol=1e-7)
            )
            for a, b in pairs
        )


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
    for k, (forward, arguments, params, p) in enumerate(plan.forward):
        if forward is not ops.max_pool2d.forward:
            continue
        (r,) = arguments
        if uses.get(r) != 1 or r in kept or r not in makers:
            continue
        j = makers[r]
        relu_forward, relu_arguments, relu_params, _ = plan.forward[j]
        grads = {entry[0]: i for i, entry in enumerate(plan.backward)}
        if relu_forward is not ops.relu.forward or relu_params or (p in grads) != (r in grads):
            continue
        (z,) = relu_arguments
        t = len(plan.values)  # the pooled pre-activation
        plan.values.append(None)
        plan.shapes[t] = plan.shapes[p]
        plan.forward[j] = (forward, (z,), params, t)
        plan.forward[k] = (relu_forward, (t,), {}, p)
        if p in grads:  # dL/dt = relu's VJP at t, then dL/dz = the pooling's VJP at z
            ((pool_vjp, *_),) = plan.backward[grads[p]][3]
            ((relu_vjp, _, *z_like),) = plan.backward[grads[r]][3]
            plan.backward[grads[p]] = (p, (t,), {}, ((relu_vjp, t, *plan.shapes[t]),))
            plan.backward[grads[r]] = (t, (z,), params, ((pool_vjp, z, *z_like),))


def _pool_tiles(plan):
    """Rewrite every convolution whose only use is a max pooling with windows that tile its
    output (strides equal to the pool size, 'valid') as the convolution in the tiled layout,
    then the maximum over each tile:

        max_pool2d(conv2d(x, K, b)) = tile_max(conv2d(x, K, b, tiles=pool_size))

    The convolution computes the same numbers in the order the pooling reads them (and not the
    rows and columns no window reads), so the pooling's passes and its gradient's run over whole
    contiguous arrays, and the gradient reaches the kernel without a full-size scatter.
    """

    uses, makers, grads = _use_counts(plan), _makers(plan), _gradient_entries(plan)
    kept = set(plan.outputs) | set(plan.wrt)
    for k, (forward, arguments, params, p) in enumerate(plan.forward):
        if forward is not ops.max_pool2d.forward or not _tiles_output(params):
            continue
        (z,) = arguments
        j = makers.get(z)
        if j is None or uses.get(z) != 1 or z in kept or (p in grads) != (z in grads):
            continue
        conv_forward, conv_arguments, conv_params, _ = plan.forward[j]
        if conv_forward is not ops.conv2d.forward or conv_params.get("tiles") is not None:
            continue
        (n, ho, wo, f), dtype = plan.shapes[z]
        ph, pw = params["pool_size"]
        t = len(plan.values)  # the convolution's output, tiled
        plan.values.append(None)
        plan.shapes[t] = ((n, ph * pw, ho // ph, wo // pw, f), dtype)
        tiled_params = {**conv_params, "tiles": (ph, pw)}
        plan.forward[j] = (conv_forward, conv_arguments, tiled_params, t)
        plan.forward[k] = (ops.tile_max.forward, (t,), {}, p)
        if p in grads:
            vjp = (_vjp_function(ops.tile_max, 0), t, *plan.shapes[t])
            plan.backward[grads[p]] = (p, (t,), {}, (vjp,))
            _, _, _, parents = plan.backward[grads[z]]
            plan.backward[grads[z]] = (t, conv_arguments, tiled_params, parents)


def _relu_into_tile_max(plan):
    """Rewrite every tile_max whose only use is a relu as one tile_max(relu=True): the relu
    and its VJP run in the pooling's own passes, over each thread's part of the batch (the same
    numbers: max(y, 0), and g routed only where y > 0)."""

    uses, makers, grads = _use_counts(plan), _makers(plan), _gradient_entries(plan)
    kept = set(plan.outputs) | set(plan.wrt)
    dropped_forward, dropped_backward = set(), set()
    for k, (forward, arguments, params, r) in enumerate(plan.forward):
        if forward is not ops.relu.forward or params:
            continue
        (p,) = arguments
        j = makers.get(p)
        if j is None or uses.get(p) != 1 or p in kept or (p in grads) != (r in grads):
            continue
        pool_forward, pool_arguments, pool_params, _ = plan.forward[j]
        if pool_forward is not ops.tile_max.forward or pool_params.get("relu"):
            continue
        (t,) = pool_arguments
        plan.forward[k] = (pool_forward, pool_arguments, {"relu": True}, r)
        dropped_forward.add(j)
        if r in grads:
            pool_entry = plan.backward[grads[p]]
            plan.backward[grads[r]] = (r, (t,), {"relu": True}, pool_entry[3])
            dropped_backward.add(grads[p])
    plan.forward = [e for i, e in enumerate(plan.forward) if i not in dropped_forward]
    plan.backward = [e for i, e in enumerate(plan.backward) if i not in dropped_backward]


def _tiled_conv_gradients(plan):
    """Rewrite the VJPs of every tile_max of a tiled convolution, and the convolution's own VJPs,
    as one call of ``tiled_conv_gradients``: the same gradients (the bias's summed over the
    pooling's gradient instead of the convolution's, which adds only zeros more), computed by
    each thread for its part of the batch in one go rather than op by op."""

    names = {id(ops.conv2d.vjps[argnum]): name for argnum, name in enumerate(("x", "kernel", "bias"))}
    tile_max_vjp = _vjp_function(ops.tile_max, 0)
    grads = _gradient_entries(plan)
    dropped = set()
    for k, (r, arguments, params, parents) in enumerate(plan.backward):
        if len(parents) != 1 or parents[0][0] is not tile_max_vjp:
            continue
        (t,) = arguments
        conv = grads.get(t)
        if conv is None:
            continue
        _, conv_arguments, conv_params, conv_parents = plan.backward[conv]
        wrt = tuple(names.get(id(vjp)) for vjp, *_ in conv_parents)
        if None in wrt or conv_params.get("tiles") is None:
            continue
        slots, shapes, dtypes = zip(
            *((slot, shape, dtype) for _, slot, shape, dtype in conv_parents)
        )
        params = {**conv_params, "relu": params.get("relu", False), "wrt": wrt}
        together = (ops.tiled_conv_gradients, slots, shapes, dtypes)
        plan.backward[k] = (r, (t,) + conv_arguments[:2], params, (together,))
        dropped.add(conv)
    plan.backward = [e for i, e in enumerate(plan.backward) if i not in dropped]


def _use_counts(plan):
    """slot -> how many forward ops read it."""
    uses = {}
    for _, arguments, _, _ in plan.forward:
        for slot in arguments:
            uses[slot] = uses.get(slot, 0) + 1
    return uses


def _makers(plan):
    """slot -> the index of the forward op that computes it."""
    return {entry[3]: j for j, entry in enumerate(plan.forward)}


def _gradient_entries(plan):
    """slot -> the index of the backward entry that sends its gradient on."""
    return {entry[0]: i for i, entry in enumerate(plan.backward)}


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
    if argnum not in prim.vjps:
        raise TypeError(f"{prim.name}: input {argnum} is not differentiable")
    return prim.vjps[argnum]


def _tensor_inputs(node):
    return [value for value in node.inputs if isinstance(value, Tensor)]
