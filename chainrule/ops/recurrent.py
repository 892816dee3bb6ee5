"""Primitives of sequence models: the lookup of token vectors in an embedding table, and the
SimpleRNN, LSTM and GRU recurrences over a whole sequence, each one primitive whose VJP is
backpropagation through time written out by hand (a loop over the steps from last to first).
"""

import functools
import threading
import weakref

from ..backend import xp_of
from ..engine import Tensor, primitive
from .shape import scatter_add


@primitive
def embedding_lookup(table, indices):
    """y[..., :] = table[indices[...], :]: the row of ``table`` (vocabulary, dim) for each
    integer of ``indices`` (any shape); y has shape indices.shape + (dim,).

    dL/dtable = g scatter-added into the rows picked (a row picked twice gets both gradients);
    the indices are not differentiable.

    Raises:
        TypeError: indices that are not integers.
        ValueError: an index outside [0, vocabulary).
    """
    size = table.shape[0]
    if indices.dtype.kind not in "iu":
        raise TypeError(
            f"embedding_lookup: indices must be integers; got dtype {indices.dtype}. Cast them "
            f"to int32 first."
        )
    if indices.size and (indices.min() < 0 or indices.max() >= size):
        raise ValueError(
            f"embedding_lookup: indices must be in [0, {size}) for a table of {size} rows; got "
            f"indices from {indices.min()} to {indices.max()}. Make input_dim larger than the "
            f"largest index."
        )
    return table[indices]


@embedding_lookup.defvjp(0)
def _embedding_lookup_vjp(g, y, table, indices):
    return scatter_add(g, index=indices, shape=table.shape)


# ----- fused recurrences -------------------------------------------------------------------------
#
# Common shapes: x (B, T, D) inputs; W = kernel (D, k n); U = recurrent_kernel (n, k n); h0, c0
# (B, n) initial states; mask (B, T) booleans or None. Steps run in time order, or from the last
# to the first with go_backwards (then y, like Keras's outputs, is in the order of processing).
# m_t = mask[:, t] (1 = the step counts, 0 = it carries the previous state).


class InOneThread:
    """How a recurrence runs its work here: every row of the batch in one loop (the rows of a
    recurrence never meet: each sequence of the batch has its own states), and the products
    over all steps by the BLAS. :mod:`chainrule.fast` passes a runner that cuts them over its
    threads: ``over_rows(function, n)`` calls ``function(rows)`` for slices ``rows`` that cover
    range(n) and lists the results in order; ``matmul(a, b)`` is a @ b for matrices;
    ``column_sums(a)`` sums a matrix over its rows."""

    @staticmethod
    def over_rows(function, n):
        return [function(slice(0, n))]

    @staticmethod
    def matmul(a, b):
        return a @ b

    @staticmethod
    def column_sums(a):
        return a.sum(axis=0)


def _steps(x, mask, go_backwards):
    """x as (T, B, D) and the mask as (T, B, 1) booleans (or None), in the order of processing."""
    if go_backwards:
        x = x[:, ::-1]
        mask = None if mask is None else mask[:, ::-1]
    xs = x.transpose(1, 0, 2)
    return xs, None if mask is None else mask.T[..., None].astype(bool)


def _input_projection(xs, kernel, bias, matmul=InOneThread.matmul):
    """x_t W + b for every step at once, as (T, B, k n): one product of the (T B, D) inputs by
    (D, k n), the bias riding in it as the weight of a column of ones (:func:`_step_rows`)."""
    steps, batch, _ = xs.shape
    if bias is not None:
        kernel = xp_of(kernel).concatenate([kernel, bias[None].astype(kernel.dtype)])
    return matmul(_step_rows(xs, bias is not None), kernel).reshape(steps, batch, -1)


def _step_rows(xs, ones, states=None):
    """A row per step and sequence, (T B, ·): x_t; then 1 if ``ones``; then h_{t-1} if
    ``states`` = (h, h0) is given, h (T, B, n) every step's state and h0 the first one's
    previous. The products by these rows carry the bias, [x_t, 1] [W; b] = x_t W + b, and give
    the weights' gradients together, Σ_t [x_t, 1, h_{t-1}]ᵀ d_t = [dL/dW; dL/db; dL/dU]."""
    steps, batch, features = xs.shape
    if not ones and states is None:
        return xs.reshape(steps * batch, features)
    xp = xp_of(xs)
    width = features + ones + (0 if states is None else states[1].shape[-1])
    dtype = xs.dtype if states is None else xp.result_type(xs, states[0])
    rows = xp.empty((steps, batch, width), dtype=dtype)
    rows[..., :features] = xs
    if ones:
        rows[..., features] = 1
    if states is not None:
        h, h0 = states
        rows[0, :, features + ones :] = h0
        rows[1:, :, features + ones :] = h[:-1]
    return rows.reshape(steps * batch, width)


def _sigmoid_(a):
    """σ(a) in place, as (1 + tanh(a/2)) / 2 (no overflow, one transcendental call)."""
    xp = xp_of(a)
    a *= 0.5
    xp.tanh(a, out=a)
    a *= 0.5
    a += 0.5
    return a


def _previous(states, first):
    """(T, B, n) states s_{t-1}: ``first`` followed by all but the last of ``states``."""
    xp = xp_of(states)
    return xp.concatenate([first[None].astype(states.dtype), states[:-1]])


def _input_gradients(xs, d, kernel, bias, go_backwards, matmul=InOneThread.matmul, states=None):
    """The functions computing dL/dx (dL/dx_t = d_t Wᵀ), dL/dW and dL/db from d (T, B, k n),
    the gradient of the steps' x_t W + b (``bias`` None: no b, and no dL/db), and dL/dU if
    ``states`` (see :func:`_step_rows`) gives the h_{t-1} that U multiplies. dL/dx is one
    product over all steps; the weights' gradients are one other, made once for all of them:
    [dL/dW; dL/db; dL/dU] = Σ_t [x_t, 1, h_{t-1}]ᵀ d_t."""
    steps, batch, features = xs.shape
    flat = d.reshape(steps * batch, -1)
    ones = bias is not None

    def input_gradient():
        dxs = matmul(flat, kernel.T).reshape(steps, batch, features)
        return _batch_major(dxs, go_backwards)

    @functools.cache
    def weight_gradients():
        return matmul(_step_rows(xs, ones, states).T, flat)

    return (
        input_gradient,
        lambda: weight_gradients()[:features],
        lambda: weight_gradients()[features],
        lambda: weight_gradients()[features + ones :],
    )


def _transposed(matrix):
    """matrixᵀ laid out in rows: the products by it, once per step, run faster than by a view."""
    return xp_of(matrix).ascontiguousarray(matrix.T)


def _batch_major(dxs, go_backwards):
    """dL/dx in the layout of x (B, T, D) from its time-major, processing-order form."""
    dx = dxs.transpose(1, 0, 2)
    return dx[:, ::-1] if go_backwards else dx


def _carried(new, old, drop):
    """State_t of a masked step: the new value where m_t = 1, the previous one where m_t = 0."""
    if drop is not None:
        xp_of(new).copyto(new, old, where=drop)


class _LastBackprop(threading.local):
    """The last backpropagation through time of this thread, by its (g, y).

    The engine asks for one input's gradient at a time; the sweep through the steps serves all
    of them, so it runs once per (g, y) and returns one function per input, which the VJPs call:
    the products that only one input's gradient needs (dL/dx = d Wᵀ, say) run only if that
    gradient is asked for. Weak references: the entry goes stale when g or y is freed.
    """

    def __init__(self):
        self.entry = None  # (weak reference to g, to y, the functions)

    def __call__(self, name, backprop, g, y, inputs, params):
        if isinstance(g, Tensor) or isinstance(y, Tensor):
            raise NotImplementedError(
                f"{name}: the backpropagation through time is computed on arrays, so it has "
                f"no gradient of its own (create_graph=True); run the layer's step loop "
                f"instead (a cell in keras.layers.RNN)."
            )
        entry = self.entry
        if entry is not None and entry[0]() is g and entry[1]() is y:
            return entry[2]
        self.entry = None
        gradients = backprop(g, y, *inputs, **params)
        self.entry = (weakref.ref(g), weakref.ref(y), gradients)
        return gradients


_last_backprop = _LastBackprop()


class _KeptBeside:
    """Arrays a recurrence keeps for its gradient beside its output, found by the output's
    identity while the output lives: LSTM's gates, which are not an output (no gradient flows
    into them), so that its output holds only the states. Two arrays of about a third and two
    thirds of one packed array each stay under the size above which the C library maps fresh
    pages for every step."""

    def __init__(self):
        self._kept = {}

    def keep(self, output, kept):
        self._kept[id(output)] = kept
        weakref.finalize(output, self._kept.pop, id(output), None)

    def __getitem__(self, output):
        return self._kept[id(output)]


_gates_of = _KeptBeside()


def recurrence_vjp(recurrence, backprop, argnum, **options):
    """The VJP of ``recurrence`` for input ``argnum``: the function that ``backprop`` (called
    with ``options`` too) returns for that input, called."""
    name = recurrence.name

    def vjp(g, y, *inputs, **params):
        return _last_backprop(name, backprop, g, y, inputs, {**params, **options})[argnum]()

    return vjp


def _defvjps(recurrence, backprop, count):
    """Register, for inputs 0 .. count-1 of ``recurrence``, the VJP calling the function that
    ``backprop`` returns for that input."""
    for argnum in range(count):
        recurrence.defvjp(argnum)(recurrence_vjp(recurrence, backprop, argnum))


@primitive
def simple_rnn_sequence(x, kernel, recurrent_kernel, bias, h0, mask=None, *, go_backwards=False):
    """A fully connected RNN over the whole sequence (Keras's SimpleRNN with tanh):

        a_t = x_t W + b + h_{t-1} U,   ĥ_t = tanh(a_t),   h_t = m_t ĥ_t + (1 - m_t) h_{t-1}

    Returns y (T, B, 2 n): y[t] = [ĥ_t, h_t] (the candidate, kept for the gradient, and the
    state). The input product x W is one matmul for all steps; each step adds h_{t-1} U.

    Backpropagation through time (:func:`simple_rnn_backprop`), from t = T-1 down to 0, with
    dh the gradient reaching h_t (g's share plus what step t+1 sends back):

        dĥ = m_t dh,   da_t = dĥ (1 - ĥ_t²),   dh_{t-1} = (1 - m_t) dh + da_t Uᵀ

    then dW = Σ x_tᵀ da_t, dU = Σ h_{t-1}ᵀ da_t, db = Σ da_t, dx_t = da_t Wᵀ, dh0 = dh.
    """
    return simple_rnn_forward(x, kernel, recurrent_kernel, bias, h0, mask, go_backwards)


def simple_rnn_forward(
    x, kernel, recurrent_kernel, bias, h0, mask, go_backwards, runner=InOneThread
):
    """:func:`simple_rnn_sequence`'s forward, its rows and products run by ``runner``."""
    xs, keep = _steps(x, mask, go_backwards)
    drop = None if keep is None else ~keep
    n = recurrent_kernel.shape[0]
    xw = _input_projection(xs, kernel, bias, runner.matmul)
    xp = xp_of(xw)
    y = xp.empty(xw.shape[:2] + (2 * n,), dtype=xw.dtype)

    def run(rows):
        h = h0[rows]
        for t in range(len(xs)):
            a = y[t, rows, :n]
            xp.matmul(h, recurrent_kernel, out=a)
            a += xw[t, rows]
            xp.tanh(a, out=a)
            h_t = y[t, rows, n:]
            h_t[...] = a
            _carried(h_t, h, None if drop is None else drop[t, rows])
            h = h_t

    runner.over_rows(run, len(h0))
    return y


def simple_rnn_backprop(
    g,
    y,
    x,
    kernel,
    recurrent_kernel,
    bias,
    h0,
    mask=None,
    *,
    go_backwards=False,
    runner=InOneThread,
):
    """The backpropagation through time of :func:`simple_rnn_sequence` (the formulas are
    there): the sweep from the last step to the first, then one function per input giving its
    gradient; ``runner`` runs the rows and the products over all steps."""
    xs, keep = _steps(x, mask, go_backwards)
    xp = xp_of(y)
    n = recurrent_kernel.shape[0]
    candidate, states = y[..., :n], y[..., n:]
    slope = 1 - candidate * candidate  # tanh'(a_t) = 1 - ĥ_t²
    da = g[..., :n] * slope  # the part of dL/da_t that comes through ĥ_t as an output of its own
    u_t = _transposed(recurrent_kernel)

    def sweep(rows):
        dh = xp.zeros_like(h0[rows], dtype=y.dtype)
        for t in range(len(xs) - 1, -1, -1):
            dh = dh + g[t, rows, n:]
            dh_new = dh if keep is None else dh * keep[t, rows]
            da[t, rows] += dh_new * slope[t, rows]
            carry = da[t, rows] @ u_t
            dh = carry if keep is None else carry + dh * ~keep[t, rows]
        return dh

    parts = runner.over_rows(sweep, len(h0))
    input_gradient, kernel_gradient, bias_gradient, recurrent_gradient = _input_gradients(
        xs, da, kernel, bias, go_backwards, runner.matmul, states=(states, h0)
    )
    return (
        input_gradient,
        kernel_gradient,
        recurrent_gradient,
        bias_gradient,
        lambda: xp.concatenate(parts),
    )


_defvjps(simple_rnn_sequence, simple_rnn_backprop, 5)


@primitive
def lstm_sequence(x, kernel, recurrent_kernel, bias, h0, c0, mask=None, *, go_backwards=False):
    """A long short-term memory network over the whole sequence (Keras's LSTM, gate order
    i, f, c, o, with σ = sigmoid and tanh):

        z_t = x_t W + b + h_{t-1} U  (B, 4 n),   [i, f, g, o] = [σ, σ, tanh, σ](z_t)
        c̃_t = f c_{t-1} + i g,   h̃_t = o tanh(c̃_t)
        c_t = m_t c̃_t + (1 - m_t) c_{t-1},   h_t = m_t h̃_t + (1 - m_t) h_{t-1}

    Returns y (T, B, 2 n): y[t] = [c_t, h_t], the states; the gates [i, f, g, o] (T, B, 4 n)
    are kept beside y for the gradient. The input product x W is one matmul for all steps; each
    step adds h_{t-1} U.

    Backpropagation through time (:func:`lstm_backprop`), from t = T-1 down to 0, with dh and
    dc the gradients reaching h_t and c_t (g's share plus what step t+1 sends back):

        dh̃ = m_t dh,   dc̃ = m_t dc + dh̃ o (1 - tanh²(c̃_t))
        di = dc̃ g,   df = dc̃ c_{t-1},   dg = dc̃ i,   do = dh̃ tanh(c̃_t)
        dz_t = [di σ'_i, df σ'_f, dg (1 - g²), do σ'_o]  with σ' = σ (1 - σ)
        dc_{t-1} = (1 - m_t) dc + dc̃ f,   dh_{t-1} = (1 - m_t) dh + dz_t Uᵀ

    then dW = Σ x_tᵀ dz_t, dU = Σ h_{t-1}ᵀ dz_t, db = Σ dz_t, dx_t = dz_t Wᵀ, dh0 = dh,
    dc0 = dc. The forget gate is the path along which dc crosses many steps undamped.
    """
    return lstm_forward(x, kernel, recurrent_kernel, bias, h0, c0, mask, go_backwards)


def lstm_forward(x, kernel, recurrent_kernel, bias, h0, c0, mask, go_backwards, runner=InOneThread):
    """:func:`lstm_sequence`'s forward, its rows and products run by ``runner``."""
    xs, keep = _steps(x, mask, go_backwards)
    drop = None if keep is None else ~keep
    n = recurrent_kernel.shape[0]
    xp = xp_of(x)
    dtype = xp.result_type(x, kernel, recurrent_kernel)
    # [σ, σ, tanh, σ](z) = tanh(z s) s + (1 - s) with s = [½, ½, 1, ½] per gate, as
    # σ(a) = (1 + tanh(a / 2)) / 2: one pass over the gates together. z s comes from the
    # weights times s (exact: s is a power of two)
    scale = xp.repeat(xp.asarray([0.5, 0.5, 1.0, 0.5], dtype=dtype), n)
    shift = 1 - scale
    scaled_bias = None if bias is None else bias * scale
    # x_t W + b for all steps, made into the gates step by step, in place
    gates = _input_projection(xs, kernel * scale, scaled_bias, runner.matmul)
    recurrent = recurrent_kernel * scale
    y = xp.empty(gates.shape[:2] + (2 * n,), dtype=gates.dtype)

    def run(rows):
        h, c = h0[rows], c0[rows]
        z_rows, c_rows, h_rows = gates[:, rows], y[:, rows, :n], y[:, rows, n:]
        h_times_u = xp.empty_like(z_rows[0])
        i_times_g = xp.empty_like(c_rows[0])
        for t in range(len(xs)):
            z = z_rows[t]
            xp.matmul(h, recurrent, out=h_times_u)
            z += h_times_u
            xp.tanh(z, out=z)
            z *= scale
            z += shift
            i, f, g, o = z[:, :n], z[:, n : 2 * n], z[:, 2 * n : 3 * n], z[:, 3 * n :]
            c_t, h_t = c_rows[t], h_rows[t]
            xp.multiply(f, c, out=c_t)
            xp.multiply(i, g, out=i_times_g)
            c_t += i_times_g
            xp.tanh(c_t, out=h_t)
            h_t *= o
            if drop is not None:
                _carried(c_t, c, drop[t, rows])
                _carried(h_t, h, drop[t, rows])
            h, c = h_t, c_t

    runner.over_rows(run, len(h0))
    _gates_of.keep(y, gates)
    return y


def lstm_backprop(
    g,
    y,
    x,
    kernel,
    recurrent_kernel,
    bias,
    h0,
    c0,
    mask=None,
    *,
    go_backwards=False,
    runner=InOneThread,
):
    """The backpropagation through time of :func:`lstm_sequence` (the formulas are there): the
    sweep from the last step to the first, then one function per input giving its gradient;
    ``runner`` runs the rows and the products over all steps.

    Only dh and dc pass from step to step; everything they are multiplied by is known from the
    forward pass. The sweep therefore computes those factors for SWEEP_BLOCK steps at a time
    (:func:`_lstm_factors`, a few passes over a block that stays in the cache) and each step
    does seven element-wise passes over (rows, n) and the product by Uᵀ:

        dc̃ = dc + dh a_t,   dz_t = [dc̃ p_i, dc̃ p_f, dc̃ p_g, dh p_o],   dc ← dc̃ f'_t,
        dh ← dz_t Uᵀ + (1 - m_t) dh
    """
    xs, keep = _steps(x, mask, go_backwards)
    xp = xp_of(y)
    n = recurrent_kernel.shape[0]
    steps, batch = y.shape[:2]
    gates = _gates_of[y]
    dz = xp.empty((steps, batch, 4 * n), dtype=y.dtype)
    u_t = _transposed(recurrent_kernel)

    def sweep(rows):
        dh = xp.zeros_like(h0[rows], dtype=y.dtype)
        dc = xp.zeros_like(c0[rows], dtype=y.dtype)
        share, carried = xp.empty_like(dh), xp.empty_like(dh)  # reused at every step
        for end in range(steps, 0, -SWEEP_BLOCK):
            block = slice(max(end - SWEEP_BLOCK, 0), end)
            d = dz[block, rows]  # p_t first, then dz_t = [dc̃, dc̃, dc̃, dh] p_t in place
            a, f = _lstm_factors(y, gates, c0, keep, block, rows, out=d)
            d_i, d_f, d_g, d_o = (d[..., k * n : (k + 1) * n] for k in range(4))
            g_block = g[block, rows]
            g_c, g_h = g_block[..., :n], g_block[..., n:]
            g_c, g_h = (part if part.any() else None for part in (g_c, g_h))
            dropped = None if keep is None else ~keep[block, rows]
            for k in range(block.stop - block.start - 1, -1, -1):
                if g_h is not None:
                    dh += g_h[k]
                if g_c is not None:
                    dc += g_c[k]
                xp.multiply(dh, a[k], out=share)
                dc += share
                d_i[k] *= dc
                d_f[k] *= dc
                d_g[k] *= dc
                d_o[k] *= dh
                dc *= f[k]
                if dropped is None:
                    xp.matmul(d[k], u_t, out=dh)
                else:
                    xp.multiply(dh, dropped[k], out=carried)
                    xp.matmul(d[k], u_t, out=dh)
                    dh += carried
        return dh, dc

    parts = runner.over_rows(sweep, batch)
    input_gradient, kernel_gradient, bias_gradient, recurrent_gradient = _input_gradients(
        xs, dz, kernel, bias, go_backwards, runner.matmul, states=(y[..., n:], h0)
    )
    return (
        input_gradient,
        kernel_gradient,
        recurrent_gradient,
        bias_gradient,
        lambda: xp.concatenate([dh for dh, _ in parts]),
        lambda: xp.concatenate([dc for _, dc in parts]),
    )


#: Steps of the LSTM's backward sweep whose factors are computed together: for 32 rows of 128
#: units, the block's arrays take about a megabyte, in the cache of one core.
SWEEP_BLOCK = 16


def _lstm_factors(y, gates, c0, keep, block, rows, out):
    """What the LSTM's backward sweep multiplies dh and dc by at the steps of ``block`` for
    ``rows``, from the forward pass's states y and gates [i, f, g, o]: (a, f'), each (steps,
    rows, n), and p written to ``out`` (steps, rows, 4 n):

        a_t = m_t o (1 - tanh²(c̃_t))                            (dc̃ = dc + dh a_t)
        p_t = m_t [g σ'_i, c_{t-1} σ'_f, i (1 - g²), tanh(c̃_t) σ'_o]   (dz_t = [dc̃, dc̃, dc̃, dh] p_t)
        f'_t = m_t f + 1 - m_t                                  (dc_{t-1} = dc̃ f'_t)

    with σ' = σ (1 - σ), the slopes read from the activations' values; m_t = 1 without a mask.
    Where m_t = 0, c_t = c_{t-1} and tanh(c_t) stands for tanh(c̃_t), which only meets m_t.
    """
    xp = xp_of(y)
    n = y.shape[-1] // 2
    z = gates[block, rows]
    c, h = y[block, rows, :n], y[block, rows, n:]
    if block.start:
        c_previous = y[block.start - 1 : block.stop - 1, rows, :n]
    else:
        c_previous = xp.concatenate([c0[rows][None].astype(y.dtype), c[:-1]])
    i, f, g, o = (z[..., k * n : (k + 1) * n] for k in range(4))
    tanh_c = xp.tanh(c)
    # slopes from the activations' values: σ' = σ - σ² for i, f, o and tanh' = 1 - g² for g
    p = xp.multiply(z, z, out=out)
    for gate in (slice(0, 2 * n), slice(3 * n, 4 * n)):
        xp.subtract(z[..., gate], p[..., gate], out=p[..., gate])
    xp.subtract(1, p[..., 2 * n : 3 * n], out=p[..., 2 * n : 3 * n])
    p[..., :n] *= g
    p[..., n : 2 * n] *= c_previous
    p[..., 2 * n : 3 * n] *= i
    p[..., 3 * n :] *= tanh_c
    a = xp.multiply(h, tanh_c, out=tanh_c)  # o (1 - tanh²(c̃)) = o - h̃ tanh(c̃), h̃ = h_t
    xp.subtract(o, a, out=a)
    if keep is None:
        return a, f
    m = keep[block, rows].astype(y.dtype)
    a *= m
    p *= m
    return a, (f - 1) * m + 1


_defvjps(lstm_sequence, lstm_backprop, 6)


@primitive
def gru_sequence(
    x, kernel, recurrent_kernel, bias, h0, mask=None, *, reset_after=True, go_backwards=False
):
    """A gated recurrent unit over the whole sequence (Keras's GRU, gate order z, r, h, with
    σ = sigmoid and tanh). With ``reset_after`` (Keras 3's default) the bias is (2, 3 n),
    [b_x, b_h], and

        [x_z, x_r, x_h] = x_t W + b_x,   [u_z, u_r, u_h] = h_{t-1} U + b_h
        z = σ(x_z + u_z),   r = σ(x_r + u_r),   ĥ = tanh(x_h + r u_h)

    without it the bias is (3 n,), added to x_t W, and u_h = (r h_{t-1}) U_h (U_h = U[:, 2n:]),
    with z and r from h_{t-1} U[:, :2n]. In both:

        h̃_t = z h_{t-1} + (1 - z) ĥ,   h_t = m_t h̃_t + (1 - m_t) h_{t-1}

    Returns y (T, B, 5 n) = [z, r, ĥ, u_h, h_t] per step with ``reset_after``, else (T, B, 4 n)
    = [z, r, ĥ, h_t] (the gates, kept for the gradient, and the state).

    Backpropagation through time (:func:`gru_backprop`), from t = T-1 down to 0, with dh the
    gradient reaching h_t (g's share plus what step t+1 sends back):

        dh̃ = m_t dh,   da_z = dh̃ (h_{t-1} - ĥ) σ'(z),   da_h = dh̃ (1 - z) (1 - ĥ²)
        reset_after:  da_r = da_h u_h σ'(r),   du_h = da_h r,
                      dh_{t-1} = (1 - m_t) dh + dh̃ z + [da_z, da_r, du_h] Uᵀ
        otherwise:    d(r h) = da_h U_hᵀ,   da_r = d(r h) h_{t-1} σ'(r),
                      dh_{t-1} = (1 - m_t) dh + dh̃ z + d(r h) r + [da_z, da_r] U[:, :2n]ᵀ

    then dW = Σ x_tᵀ [da_z, da_r, da_h], dx_t = [da_z, da_r, da_h] Wᵀ, db_x = Σ [da_z, da_r,
    da_h], and dU = Σ h_{t-1}ᵀ [da_z, da_r, du_h], db_h = Σ [da_z, da_r, du_h] (reset_after),
    or dU = [Σ h_{t-1}ᵀ [da_z, da_r], Σ (r h_{t-1})ᵀ da_h] (otherwise); dh0 = dh.
    """
    return gru_forward(x, kernel, recurrent_kernel, bias, h0, mask, reset_after, go_backwards)


def gru_forward(
    x, kernel, recurrent_kernel, bias, h0, mask, reset_after, go_backwards, runner=InOneThread
):
    """:func:`gru_sequence`'s forward, its rows and products run by ``runner``."""
    xs, keep = _steps(x, mask, go_backwards)
    drop = None if keep is None else ~keep
    n = recurrent_kernel.shape[0]
    input_bias = bias if bias is None or not reset_after else bias[0]
    xw = _input_projection(xs, kernel, input_bias, runner.matmul)
    xp = xp_of(xw)
    y = xp.empty(xw.shape[:2] + ((5 if reset_after else 4) * n,), dtype=xw.dtype)

    def run(rows):
        h = h0[rows]
        for t in range(len(xs)):
            a = y[t, rows, : 3 * n]
            zr, z, r, candidate = a[:, : 2 * n], a[:, :n], a[:, n : 2 * n], a[:, 2 * n :]
            if reset_after:
                u = h @ recurrent_kernel
                if bias is not None:
                    u += bias[1]
                y[t, rows, 3 * n : 4 * n] = u[:, 2 * n :]
                xp.add(xw[t, rows, : 2 * n], u[:, : 2 * n], out=zr)
                _sigmoid_(zr)
                xp.multiply(r, u[:, 2 * n :], out=candidate)
            else:
                xp.matmul(h, recurrent_kernel[:, : 2 * n], out=zr)
                zr += xw[t, rows, : 2 * n]
                _sigmoid_(zr)
                xp.matmul(r * h, recurrent_kernel[:, 2 * n :], out=candidate)
            candidate += xw[t, rows, 2 * n :]
            xp.tanh(candidate, out=candidate)
            h_t = y[t, rows, -n:]
            xp.subtract(h, candidate, out=h_t)  # h̃ = ĥ + z (h_{t-1} - ĥ)
            h_t *= z
            h_t += candidate
            _carried(h_t, h, None if drop is None else drop[t, rows])
            h = h_t

    runner.over_rows(run, len(h0))
    return y


def gru_backprop(
    g,
    y,
    x,
    kernel,
    recurrent_kernel,
    bias,
    h0,
    mask=None,
    *,
    reset_after=True,
    go_backwards=False,
    runner=InOneThread,
):
    """The backpropagation through time of :func:`gru_sequence` (the formulas are there): the
    sweep from the last step to the first, then one function per input giving its gradient;
    ``runner`` runs the rows and the products over all steps."""
    xs, keep = _steps(x, mask, go_backwards)
    n = recurrent_kernel.shape[0]
    steps, batch = y.shape[:2]
    xp = xp_of(y)
    z, r, candidate, states = y[..., :n], y[..., n : 2 * n], y[..., 2 * n : 3 * n], y[..., -n:]
    previous = _previous(states, h0)
    slope_z, slope_r = z * (1 - z), r * (1 - r)
    slope_h = 1 - candidate * candidate
    to_z = (previous - candidate) * slope_z  # da_z = dh̃ to_z
    to_h = (1 - z) * slope_h  # da_h = dh̃ to_h
    # the gates' own shares of g: [da_z, da_r, da_h] from g_z, g_r, g_ĥ
    da = xp.concatenate(
        [g[..., :n] * slope_z, g[..., n : 2 * n] * slope_r, g[..., 2 * n : 3 * n] * slope_h],
        axis=-1,
    )
    da_z, da_r, da_h = da[..., :n], da[..., n : 2 * n], da[..., 2 * n : 3 * n]
    if reset_after:
        u_h = y[..., 3 * n : 4 * n]
        du_h = g[..., 3 * n : 4 * n].copy()
        du = xp.concatenate([da[..., : 2 * n], du_h], axis=-1)  # [da_z, da_r, du_h], filled below
        u_t = _transposed(recurrent_kernel)
    else:
        previous_r = previous * slope_r  # da_r = d(r h) previous_r
        u_zr_t = _transposed(recurrent_kernel[:, : 2 * n])
        u_h_t = _transposed(recurrent_kernel[:, 2 * n :])

    def sweep(rows):
        dh = xp.zeros_like(h0[rows], dtype=y.dtype)
        for t in range(steps - 1, -1, -1):
            dh = dh + g[t, rows, -n:]
            kept = None if keep is None else keep[t, rows]
            dh_new = dh if kept is None else dh * kept
            da_z[t, rows] += dh_new * to_z[t, rows]
            da_h[t, rows] += dh_new * to_h[t, rows]
            if reset_after:
                da_r[t, rows] += da_h[t, rows] * u_h[t, rows] * slope_r[t, rows]
                du[t, rows, : 2 * n] = da[t, rows, : 2 * n]
                du[t, rows, 2 * n :] += da_h[t, rows] * r[t, rows]
                carry = du[t, rows] @ u_t
            else:
                d_rh = da_h[t, rows] @ u_h_t
                da_r[t, rows] += d_rh * previous_r[t, rows]
                carry = d_rh * r[t, rows] + da[t, rows, : 2 * n] @ u_zr_t
            carry += dh_new * z[t, rows]
            dh = carry if kept is None else carry + dh * ~kept
        return dh

    parts = runner.over_rows(sweep, batch)
    flat_previous = previous.reshape(steps * batch, n)
    flat = (du if reset_after else da).reshape(steps * batch, 3 * n)

    def recurrent_gradient():
        if reset_after:
            return runner.matmul(flat_previous.T, flat)
        reset_previous = (r * previous).reshape(steps * batch, n)
        return xp.concatenate(
            [
                runner.matmul(flat_previous.T, flat[:, : 2 * n]),
                runner.matmul(reset_previous.T, flat[:, 2 * n :]),
            ],
            axis=1,
        )

    input_bias = bias if bias is None or not reset_after else bias[0]
    input_gradient, kernel_gradient, input_bias_gradient, _ = _input_gradients(
        xs, da, kernel, input_bias, go_backwards, runner.matmul
    )

    def bias_gradient():  # reset_after: the input bias's over the recurrent bias's
        if reset_after:
            return xp.stack([input_bias_gradient(), runner.column_sums(flat)])
        return input_bias_gradient()

    return (
        input_gradient,
        kernel_gradient,
        recurrent_gradient,
        bias_gradient,
        lambda: xp.concatenate(parts),
    )


_defvjps(gru_sequence, gru_backprop, 5)
