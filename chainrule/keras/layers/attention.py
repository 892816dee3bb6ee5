"""Attention layers: Attention (Luong), AdditiveAttention (Bahdanau), MultiHeadAttention and
GroupedQueryAttention, with Keras 3's arguments, weights, masks and configs.

Each computes weights a = softmax(scores) over the value positions and returns a v, the
weighted sum of the values. Masks are boolean: a False entry of a value (or key) mask, of an
``attention_mask`` or of the causal mask removes that position from the softmax; a False entry
of a query mask zeroes that query's output. Masks are bookkeeping, not inputs of the gradient:
dL/dq, dL/dk, dL/dv flow through the scores, the softmax and the weighted sum by the engine.

chainrule does not carry Keras's implicit ``_keras_mask`` on tensors, so the masks are passed
explicitly (``mask=[query_mask, value_mask]`` for Attention, ``query_mask=``, ``value_mask=``,
``key_mask=`` for MultiHeadAttention).
"""

import math
import string

import numpy as np

from ... import ops
from ...engine import ShapeError, Tensor, as_array
from ...ops import noise
from .. import constraints as constraints_module
from .. import initializers as initializers_module
from .. import registry
from .. import regularizers as regularizers_module
from ..keras_tensor import is_symbolic
from ..losses import get_keras_mask, set_keras_mask
from ..ops.nn import dot_product_attention
from .base import Layer
from .core import check_positive_int
from .einsum_dense import EinsumDense
from .regularization import Dropout

# What a masked score becomes before the softmax: Keras's "large negative number".
_MASKED_SCORE = {np.dtype("float16"): -3e4}


def _query_mask(previous_mask):
    """An attention layer's output mask: the query's (the output has the query's positions),
    or None."""
    if not previous_mask or previous_mask[0] is None:
        return None
    return previous_mask[0]


def boolean_mask(mask):
    """A mask (Tensor, array or list) as booleans: True keeps; floats keep where > 0.5 (as
    Keras's Softmax), other numbers where nonzero. A Tensor's mask is a Tensor made by ops, so
    that a replayed step computes each batch's own; anything else a bool ndarray."""
    if mask is None:
        return None
    if isinstance(mask, Tensor):
        if mask.dtype.kind == "f":
            return mask > 0.5
        return mask if mask.dtype == bool else ops.cast(mask, bool)
    array = as_array(mask)
    if array.dtype.kind == "f":
        return array > 0.5
    return array.astype(bool)


def _shape(mask):
    return None if mask is None else tuple(np.shape(as_array(mask)))


def causal_mask(query_length, key_length):
    """(1, T, S), True where key s <= query t: a query sees itself and what came before it."""
    return np.tril(np.ones((query_length, key_length), dtype=bool))[None]


def masked_softmax(scores, mask, axes):
    """softmax of ``scores`` over the trailing ``axes`` axes, with False entries of ``mask``
    (broadcast to the scores) removed: they get the score -1e9 (float16: -3e4) and, after the
    softmax, the weight 0, so a row with every entry masked has all weights 0 (Keras's Softmax
    layer with a mask)."""
    if mask is not None:
        low = _MASKED_SCORE.get(scores.dtype, -1e9)
        scores = ops.where(mask, scores, low)
    if axes == 1:
        weights = ops.softmax(scores, axis=-1)
    else:
        weights = ops.exp(
            scores - ops.logsumexp(scores, axis=tuple(range(-axes, 0)), keepdims=True)
        )
    if mask is not None:
        weights = ops.where(mask, weights, 0.0)
    return weights


class BaseDenseAttention(Layer):
    """Shared by Attention and AdditiveAttention: inputs [query, value] or [query, value, key],
    scores (B, Tq, Tv) from :meth:`scores`, masked softmax, dropout, weighted sum of the values.

    Args:
        use_scale: whether the scores get a trainable scale.
        dropout: the fraction of the attention weights dropped in training.
        seed: the dropout's seed.
    """

    def __init__(self, use_scale=False, dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.use_scale, self.dropout, self.seed = use_scale, float(dropout), seed
        self.scale = None
        # the weights' dropout draws from here (no Dropout sublayer, which Keras has not either)
        self._generator = None if seed is None else np.random.default_rng(seed)

    def _validate(self, inputs, mask=None):
        name = type(self).__name__
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(
                f"{name} layer must be called on a list of inputs, namely [query, value] or "
                f"[query, value, key]. Received: inputs of type {type(inputs).__name__}."
            )
        if not 2 <= len(inputs) <= 3:
            raise ValueError(
                f"{name} layer accepts inputs list of length 2 or 3, namely [query, value] or "
                f"[query, value, key]. Received length: {len(inputs)}."
            )
        if mask is not None and (not isinstance(mask, (list, tuple)) or not 2 <= len(mask) <= 3):
            raise ValueError(
                f"{name} layer mask must be a list of length 2 or 3, namely "
                f"[query_mask, value_mask]. Received: mask={mask!r}"[:300]
            )

    def build(self, input_shape):
        self._validate(input_shape)
        self.built = True

    def check_input(self, x):
        self._validate(x)
        query, value = x[0], x[1]
        key = x[2] if len(x) > 2 else value
        if query.shape[-1] != key.shape[-1] or key.shape[:-1] != value.shape[:-1]:
            raise ShapeError(
                f'Layer "{self.name}" ({type(self).__name__}): query and key must have the same '
                f"last axis, and key and value the same batch and length; received query "
                f"{tuple(query.shape)}, value {tuple(value.shape)}, key {tuple(key.shape)}."
            )

    def scores(self, query, key):
        """The (B, Tq, Tv) scores of each query against each key."""
        raise NotImplementedError

    def call(
        self,
        inputs,
        mask=None,
        training=False,
        return_attention_scores=False,
        use_causal_mask=False,
    ):
        self._validate(inputs, mask)
        query, value = inputs[0], inputs[1]
        key = inputs[2] if len(inputs) > 2 else value
        query_mask, value_mask = (None, None) if not mask else (mask[0], mask[1])
        scores = self.scores(query, key)
        keep = boolean_mask(value_mask)
        if keep is not None and keep.ndim == scores.ndim - 1:
            keep = keep[..., None, :]
        if use_causal_mask:
            causal = causal_mask(*scores.shape[-2:])
            keep = causal if keep is None else keep & causal
        if keep is not None:  # Keras subtracts 1e9 from masked scores (65504 for float16)
            low = 65504.0 if scores.dtype == np.float16 else 1.0e9
            scores = ops.where(keep, scores, scores - low)
        weights = ops.softmax(scores, axis=-1)
        dropped = weights
        if training and self.dropout:
            mask = noise.dropout_mask(
                weights, shape=weights.shape, rate=self.dropout, rng=self._generator
            )
            dropped = weights * mask
        output = dropped @ value
        query_keep = boolean_mask(query_mask)
        if query_keep is not None:
            output = ops.where(query_keep[..., None], output, 0.0)
        return (output, weights) if return_attention_scores else output

    def compute_mask(self, inputs, previous_mask):
        return _query_mask(previous_mask)

    def compute_output_shape(self, input_shape):
        return (*tuple(input_shape[0])[:-1], tuple(input_shape[1])[-1])

    def get_config(self):
        config = super().get_config()
        config.update(use_scale=self.use_scale, dropout=self.dropout, seed=self.seed)
        return config


@registry.serializable("keras.layers")
class Attention(BaseDenseAttention):
    """Dot-product (Luong) attention on [query (B, Tq, d), value (B, Tv, dv), key (B, Tv, d)]
    (key defaults to value):

        scores = scale q kᵀ ('dot')  or  c sum_d tanh(scale (q_t + k_s)) ('concat'),
        output = softmax(scores) v                                      (B, Tq, dv)

    Args:
        use_scale: a trainable scalar ``scale`` (initialised to 1) multiplies the scores.
        score_mode: 'dot' (default) or 'concat' (a trainable scalar ``concat_score_weight`` c,
            initialised to 1).
        dropout, seed: dropout of the attention weights in training.

    Call arguments: ``inputs``, ``mask=[query_mask (B, Tq), value_mask (B, Tv)]``,
    ``return_attention_scores`` (also return the (B, Tq, Tv) weights), ``use_causal_mask``.
    """

    def __init__(self, use_scale=False, score_mode="dot", dropout=0.0, seed=None, **kwargs):
        super().__init__(use_scale=use_scale, dropout=dropout, seed=seed, **kwargs)
        if score_mode not in ("dot", "concat"):
            raise ValueError(
                f'Attention layer "{self.name}": invalid value for argument score_mode. '
                f"Expected one of {{'dot', 'concat'}}. Received: score_mode={score_mode!r}"
            )
        self.score_mode = score_mode
        self.concat_score_weight = None

    def build(self, input_shape):
        self._validate(input_shape)
        if self.use_scale:
            self.scale = self.add_weight((), "ones", name="scale")
        if self.score_mode == "concat":
            self.concat_score_weight = self.add_weight((), "ones", name="concat_score_weight")
        self.built = True

    def scores(self, query, key):
        if self.score_mode == "dot":
            scores = query @ ops.swapaxes(key, -2, -1)
            return scores if self.scale is None else scores * self.scale
        pairs = ops.expand_dims(query, axis=-2) + ops.expand_dims(key, axis=-3)
        if self.scale is not None:
            pairs = self.scale * pairs
        return self.concat_score_weight * ops.sum(ops.tanh(pairs), axis=-1)

    def get_config(self):
        config = super().get_config()
        config["score_mode"] = self.score_mode
        return config


@registry.serializable("keras.layers")
class AdditiveAttention(BaseDenseAttention):
    """Additive (Bahdanau) attention on [query (B, Tq, d), value (B, Tv, dv), key (B, Tv, d)]:

        scores[b, t, s] = sum_d w_d tanh(q[b, t, d] + k[b, s, d]),   output = softmax(scores) v

    with w the trainable ``scale`` of shape (d,) (glorot_uniform), or 1 when
    ``use_scale=False``. Masks and call arguments as for :class:`Attention`.

    Args:
        use_scale: default True.
        dropout, seed: dropout of the attention weights in training.
    """

    def __init__(self, use_scale=True, dropout=0.0, seed=None, **kwargs):
        super().__init__(use_scale=use_scale, dropout=dropout, seed=seed, **kwargs)

    def build(self, input_shape):
        self._validate(input_shape)
        if self.use_scale:
            self.scale = self.add_weight((input_shape[0][-1],), "glorot_uniform", name="scale")
        self.built = True

    def scores(self, query, key):
        pairs = ops.tanh(ops.expand_dims(query, axis=-2) + ops.expand_dims(key, axis=-3))
        return ops.sum(pairs if self.scale is None else self.scale * pairs, axis=-1)


def projection_equation(free_dims, bound_dims, output_dims):
    """The einsum of a projection inside multi-head attention: ``free_dims`` input axes kept
    (the batch first), ``bound_dims`` contracted with the kernel, ``output_dims`` new ones.
    Returns (equation, bias axes, output rank)."""
    letters = iter(string.ascii_lowercase)
    free = "".join(next(letters) for _ in range(free_dims))
    bound = "".join(next(letters) for _ in range(bound_dims))
    new = "".join(next(letters) for _ in range(output_dims))
    return f"{free}{bound},{bound}{new}->{free}{new}", new, free_dims + output_dims


def attention_equations(rank, attention_axes):
    """For projected tensors of ``rank`` axes (B, ..., N heads, H), the einsums of the scores
    (key, query -> (batch axes, N, query attention axes, key attention axes)) and of the
    weighted sum (scores, value -> query's layout), and the number of attention axes."""
    letters = string.ascii_lowercase
    target = letters[:rank]
    source = list(target)
    for i, axis in enumerate(attention_axes):
        source[axis] = letters[rank + i]
    source = "".join(source)
    batch = [a for a in range(rank - 1) if a not in attention_axes]
    product = (
        "".join(target[a] for a in batch)
        + "".join(target[a] for a in attention_axes)
        + "".join(source[a] for a in attention_axes)
    )
    return f"{source},{target}->{product}", f"{product},{source}->{target}"


def _copy(initializer):
    """A new initializer of the same class and config."""
    return type(initializer).from_config(initializer.get_config())


@registry.serializable("keras.layers")
class MultiHeadAttention(Layer):
    """Multi-head attention (Vaswani et al.): N heads each attend with their own projections.

    For query (B, T, dq), value (B, S, dv), key (B, S, dk) (key defaults to value):

        q = query W_q + b_q   (B, T, N, key_dim)     k = key W_k + b_k     (B, S, N, key_dim)
        v = value W_v + b_v   (B, S, N, value_dim)
        a[b, n, t, s] = softmax_s(q[b, t, n] . k[b, s, n] / sqrt(key_dim), masked)
        o[b, t, n] = sum_s a[b, n, t, s] v[b, s, n]
        y = sum_{n, h} o[b, t, n, h] W_o[n, h] + b_o                          (B, T, dq)

    The four projections are EinsumDense sublayers named query, key, value, attention_output,
    created in that order (kernels (dq, N, key_dim), (dk, N, key_dim), (dv, N, value_dim),
    (N, value_dim, dq); biases (N, key_dim), (N, key_dim), (N, value_dim), (dq,)).

    Args:
        num_heads: N.  key_dim: the size of each head for query and key.
        value_dim: the size of each head for value (default key_dim).
        dropout: dropout of the attention weights in training.
        use_bias: whether the projections have biases (default True).
        output_shape: the output's last axes (default: the query's last axis).
        attention_axes: the axes attended over (default: all axes but batch, heads and features,
            i.e. axis 1 for sequences).
        use_gate: multiply o by sigmoid(query W_g + b_g) (a "gate" projection like the
            query's) before the output projection.
        sliding_window: if set, query t sees only keys s with |t - s| < sliding_window.
        kernel_initializer: for every projection, like ``bias_initializer``, the
            regularizers (kernel, bias, activity) and the constraints (kernel, bias).
        seed: the dropout's seed.

    Call: ``layer(query, value, key=None, query_mask=None, value_mask=None, key_mask=None,
    attention_mask=None, return_attention_scores=False, training=None, use_causal_mask=False)``;
    masks (B, T), (B, S), (B, S), attention_mask (B, T, S), all True where kept. Returns y, or
    (y, a) with a (B, N, T, S) when ``return_attention_scores``.
    """

    def __init__(
        self,
        num_heads,
        key_dim,
        value_dim=None,
        dropout=0.0,
        use_bias=True,
        output_shape=None,
        attention_axes=None,
        flash_attention=None,
        sliding_window=None,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        use_gate=False,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        owner = f'MultiHeadAttention layer "{self.name}"'
        check_positive_int(owner, "num_heads", num_heads)
        check_positive_int(owner, "key_dim", key_dim)
        if flash_attention:
            raise ValueError(f"{owner}: flash_attention is not supported; leave it None.")
        if sliding_window is not None and (
            not isinstance(sliding_window, int) or sliding_window <= 0
        ):
            raise ValueError(
                f"{owner}: `sliding_window` must be `None` or a positive integer. "
                f"Received: sliding_window={sliding_window!r}"
            )
        if output_shape:
            output_shape = (output_shape,) if isinstance(output_shape, int) else output_shape
            if not isinstance(output_shape, (tuple, list)):
                raise ValueError(
                    f"{owner}: invalid `output_shape`: {output_shape!r}. When specified, the "
                    f"`output_shape` should be of type tuple, list, or int."
                )
            output_shape = tuple(output_shape)
        if isinstance(attention_axes, int):
            attention_axes = (attention_axes,)
        elif attention_axes is not None and not isinstance(attention_axes, (list, tuple)):
            raise ValueError(
                f"{owner}: `attention_axes` must be an int, list, or tuple. Received: "
                f"attention_axes={attention_axes!r}"
            )
        self.num_heads, self.key_dim = num_heads, key_dim
        self.value_dim = value_dim if value_dim else key_dim
        self.dropout, self.use_bias, self.use_gate = float(dropout), use_bias, use_gate
        self._output_shape, self.sliding_window, self.seed = output_shape, sliding_window, seed
        self._attention_axes = None if attention_axes is None else tuple(attention_axes)
        self.kernel_initializer = initializers_module.get(kernel_initializer)
        self.bias_initializer = initializers_module.get(bias_initializer)
        self._sublayer_options = dict(
            kernel_regularizer=regularizers_module.get(kernel_regularizer),
            bias_regularizer=regularizers_module.get(bias_regularizer),
            activity_regularizer=regularizers_module.get(activity_regularizer),
            kernel_constraint=constraints_module.get(kernel_constraint),
            bias_constraint=constraints_module.get(bias_constraint),
        )
        self._inverse_sqrt_key_dim = 1.0 / math.sqrt(float(self.key_dim))

    @property
    def attention_axes(self):
        """The axes attended over (None until built, when not given)."""
        return self._attention_axes

    # ----- call packing: the query, value and key travel together as one list of inputs ---------
    spreads_inputs = True  # Keras records a call's query, value and key as positional args

    def __call__(self, query, value=None, key=None, **kwargs):
        """``layer(query, value, key=None, **options)``. The three tensors are handed to
        :class:`Layer` as one list, so that a functional model records all of them as inputs."""
        if value is None and isinstance(query, (list, tuple)) and len(query) in (2, 3):
            inputs = list(query)  # a recorded call replayed by a model
        elif value is None:
            raise ValueError(
                f'MultiHeadAttention layer "{self.name}" needs a query and a value: call '
                f"layer(query, value) (value=query for self-attention)."
            )
        else:
            inputs = [query, value] if key is None else [query, value, key]
        if not self.built and not is_symbolic(inputs):
            self.build(*[(None,) + tuple(np.shape(as_array(x)))[1:] for x in inputs])
        return super().__call__(inputs, **kwargs)

    def _kv_heads(self):
        """The number of key and value heads."""
        return self.num_heads

    def compute_mask(self, inputs, previous_mask):
        return _query_mask(previous_mask)

    def _common(self):
        """The options of each projection: fresh copies of the initializers (so that an unseeded
        one draws other values for each projection, as in Keras) and the shared penalties."""
        return dict(
            dtype=self.dtype,
            kernel_initializer=_copy(self.kernel_initializer),
            bias_initializer=_copy(self.bias_initializer),
            **self._sublayer_options,
        )

    def build(self, query_shape, value_shape=None, key_shape=None):
        if (
            value_shape is None
            and isinstance(query_shape, list)
            and not isinstance(query_shape[0], (int, type(None)))
        ):
            query_shape, value_shape, key_shape = (list(query_shape) + [None])[:3]
        key_shape = value_shape if key_shape is None else key_shape
        query_shape, value_shape, key_shape = map(tuple, (query_shape, value_shape, key_shape))
        if query_shape[-1] is None or value_shape[-1] is None or key_shape[-1] is None:
            raise ValueError(
                f'MultiHeadAttention layer "{self.name}": the last axis of query, value and key '
                f"must be known; received {query_shape}, {value_shape}, {key_shape}."
            )
        query_rank = len(query_shape)
        self._query_dense = self._projection(query_shape, self.num_heads, self.key_dim, "query")
        self._key_dense = self._projection(key_shape, self._kv_heads(), self.key_dim, "key")
        if self.use_gate:  # between key and value, as Keras orders the weights
            self._gate_dense = self._projection(
                query_shape, self.num_heads, self.value_dim, "gate", activation="sigmoid"
            )
        self._value_dense = self._projection(value_shape, self._kv_heads(), self.value_dim, "value")
        # made here even when the rate is 0, as Keras makes it: the next Dropout is dropout_1
        self._dropout_layer = Dropout(rate=self.dropout, seed=self.seed, dtype=self.dtype)
        output_shape = self._output_shape or (query_shape[-1],)
        equation, bias_axes, rank = projection_equation(query_rank - 1, 2, len(output_shape))
        self._output_dense = EinsumDense(
            equation,
            output_shape=(None,) * (rank - 1 - len(output_shape)) + tuple(output_shape),
            bias_axes=bias_axes if self.use_bias else None,
            name="attention_output",
            **self._common(),
        )
        self._output_dense.build(
            self._query_dense.compute_output_shape(query_shape)[:-1] + (self.value_dim,)
        )
        rank = query_rank + 1
        axes = self._attention_axes or tuple(range(1, rank - 2))
        self._attention_axes = tuple(a % (rank - 1) if a < 0 else a for a in axes)
        self._dot_product_equation, self._combine_equation = attention_equations(
            rank, self._attention_axes
        )
        self.built = True

    def _projection(self, input_shape, heads, size, name, activation=None):
        equation, bias_axes, rank = projection_equation(len(input_shape) - 1, 1, 2)
        layer = EinsumDense(
            equation,
            output_shape=(None,) * (rank - 3) + (heads, size),
            bias_axes=bias_axes if self.use_bias else None,
            activation=activation,
            name=name,
            **self._common(),
        )
        layer.build(input_shape)
        return layer

    @property
    def query_dense(self):
        """The EinsumDense projecting the query to (B, T, N, key_dim)."""
        return self._query_dense

    @property
    def key_dense(self):
        """The EinsumDense projecting the key to (B, S, N, key_dim)."""
        return self._key_dense

    @property
    def value_dense(self):
        """The EinsumDense projecting the value to (B, S, N, value_dim)."""
        return self._value_dense

    @property
    def output_dense(self):
        """The EinsumDense from (B, T, N, value_dim) back to the output's features."""
        return self._output_dense

    def check_input(self, x):
        query, value = x[0], x[1]
        key = x[2] if len(x) > 2 else value
        for tensor, dense, label in (
            (query, self._query_dense, "query"),
            (key, self._key_dense, "key"),
            (value, self._value_dense, "value"),
        ):
            if tensor.shape[-1] != dense.kernel.shape[0]:
                raise ShapeError(
                    f'Layer "{self.name}" (MultiHeadAttention): the {label} was built with '
                    f"{dense.kernel.shape[0]} features on its last axis, but received a {label} "
                    f"of shape {tuple(tensor.shape)}."
                )
        if key.shape[:-1] != value.shape[:-1]:
            raise ShapeError(
                f'Layer "{self.name}" (MultiHeadAttention): key and value must have the same '
                f"shape up to the last axis; received key {tuple(key.shape)} and value "
                f"{tuple(value.shape)}."
            )

    def attention_mask(
        self, query, value, query_mask, value_mask, key_mask, attention_mask, use_causal_mask
    ):
        """The boolean mask of the scores, (B or 1, T, S): the AND of the query mask (B, T, 1),
        the value and key masks (B, 1, S), the causal (1, T, S) and sliding-window masks and
        ``attention_mask``; None when there is none."""
        parts = []
        if query_mask is not None:
            parts.append(boolean_mask(query_mask)[..., None])
        for mask in (value_mask, key_mask):
            if mask is not None:
                parts.append(boolean_mask(mask)[..., None, :])
        length_t, length_s = query.shape[1], value.shape[1]
        if use_causal_mask:
            parts.append(causal_mask(length_t, length_s))
        if self.sliding_window is not None:
            offsets = np.arange(length_t)[:, None] - np.arange(length_s)[None, :]
            parts.append((np.abs(offsets) < self.sliding_window)[None])
        if attention_mask is not None:
            parts.append(boolean_mask(attention_mask))
        if not parts:
            return None
        expected = (query.shape[0], *query.shape[1:-1], *value.shape[1:-1])
        try:
            keep = parts[0]
            for part in parts[1:]:
                keep = keep & part
            if self._attention_axes == tuple(range(1, query.ndim - 1)):
                np.broadcast_shapes(keep.shape, expected)
        except ValueError:
            raise ShapeError(
                f'Layer "{self.name}" ({type(self).__name__}): the masks must broadcast to '
                f"(batch, query positions, value positions) = {expected}: query_mask (batch, "
                f"query positions), value_mask and key_mask (batch, value positions), "
                f"attention_mask (batch, query positions, value positions); received "
                f"query_mask {_shape(query_mask)}, value_mask {_shape(value_mask)}, key_mask "
                f"{_shape(key_mask)}, attention_mask {_shape(attention_mask)}."
            ) from None
        return keep

    def call(
        self,
        inputs,
        query_mask=None,
        value_mask=None,
        key_mask=None,
        attention_mask=None,
        return_attention_scores=False,
        training=None,
        use_causal_mask=False,
    ):
        query, value = inputs[0], inputs[1]
        key = inputs[2] if len(inputs) > 2 else value
        # As Keras's Layer.__call__ fills each <tensor>_mask argument left None with that
        # tensor's mask (an Embedding(mask_zero=True) before, say); the key's only when given
        query_mask = get_keras_mask(query) if query_mask is None else query_mask
        value_mask = get_keras_mask(value) if value_mask is None else value_mask
        if key_mask is None and len(inputs) > 2:
            key_mask = get_keras_mask(key)
        for tensor in (query, value, key):  # as Keras: handled here, not by the projections
            set_keras_mask(tensor, None)
        keep = self.attention_mask(
            query, value, query_mask, value_mask, key_mask, attention_mask, use_causal_mask
        )
        gate = self._gate_dense(query) if self.use_gate else None
        q, k, v = self._query_dense(query), self._key_dense(key), self._value_dense(value)
        output, scores = self.compute_attention(q, k, v, keep, training, return_attention_scores)
        if gate is not None:
            output = output * gate
        output = self._output_dense(output)
        return (output, scores) if return_attention_scores else output

    def compute_attention(self, query, key, value, keep, training, return_attention_scores):
        """The attention of projected query (B, T, N, H), key (B, S, K, H), value (B, S, K, Hv)
        under the boolean mask ``keep``: (output (B, T, N, Hv), weights (B, N, T, S) or None).

        As Keras: with no dropout and no weights asked for, sequences take the fused
        :func:`dot_product_attention` (where a row with every key masked averages the values);
        otherwise the scores are computed and softmaxed explicitly (such a row gives 0)."""
        fused = not (self.dropout > 0 or return_attention_scores or query.ndim != 4)
        if fused:
            mask = None if keep is None else keep[:, None] if keep.ndim == 3 else keep
            output = dot_product_attention(
                query, key, value, mask=mask, scale=self._inverse_sqrt_key_dim
            )
            return output, None
        key, value = self._share_heads(key), self._share_heads(value)
        query = query * self._inverse_sqrt_key_dim
        scores = ops.einsum(self._dot_product_equation, key, query)
        axes = len(self._attention_axes)
        if keep is not None:
            while keep.ndim < scores.ndim:
                keep = ops.expand_dims(keep, -2 * axes - 1)
        weights = masked_softmax(scores, keep, axes)
        dropped = weights
        if training and self.dropout:
            dropped = self._dropout_layer(weights, training=True)
        return ops.einsum(self._combine_equation, dropped, value), weights

    def _share_heads(self, x):
        """Key or value heads repeated so that each of the query's heads has one."""
        return x

    def compute_output_shape(self, query_shape, value_shape=None, key_shape=None):
        if (
            value_shape is None
            and isinstance(query_shape, list)
            and not isinstance(query_shape[0], (int, type(None)))
        ):
            query_shape, value_shape = query_shape[0], query_shape[1]
        query_shape = tuple(query_shape)
        if self._output_shape:
            return query_shape[:-1] + tuple(self._output_shape)
        return query_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            num_heads=self.num_heads,
            key_dim=self.key_dim,
            value_dim=self.value_dim,
            dropout=self.dropout,
            use_bias=self.use_bias,
            use_gate=self.use_gate,
            output_shape=self._output_shape,
            attention_axes=self._attention_axes,
            sliding_window=self.sliding_window,
            kernel_initializer=initializers_module.serialize(self.kernel_initializer),
            bias_initializer=initializers_module.serialize(self.bias_initializer),
            seed=self.seed,
            **{
                k: (
                    regularizers_module if k.endswith("regularizer") else constraints_module
                ).serialize(v)
                for k, v in self._sublayer_options.items()
            },
        )
        return config


@registry.serializable("keras.layers", public_name="GroupQueryAttention")
class GroupedQueryAttention(MultiHeadAttention):
    """Grouped-query attention (Ainslie et al.): ``num_query_heads`` query heads share
    ``num_key_value_heads`` key and value heads, query head n reading key/value head
    n // (num_query_heads / num_key_value_heads). Otherwise as :class:`MultiHeadAttention`
    with key_dim = value_dim = ``head_dim`` (the scores are scaled by 1 / sqrt(head_dim)).

    Weights: query (dq, Nq, H), key (dk, Nkv, H), value (dv, Nkv, H), attention_output
    (Nq, H, dq), each with a bias of its trailing shape when ``use_bias``.

    Args:
        head_dim: H.  num_query_heads: Nq.  num_key_value_heads: Nkv, dividing Nq.
        dropout: as for MultiHeadAttention, like ``use_bias``, ``sliding_window``,
            ``use_gate``, the initializers, penalties and constraints, and ``seed``.
    """

    def __init__(self, head_dim, num_query_heads, num_key_value_heads, **kwargs):
        if (
            not isinstance(num_key_value_heads, int)
            or num_key_value_heads <= 0
            or not isinstance(num_query_heads, int)
            or num_query_heads % num_key_value_heads
        ):
            raise ValueError(
                f"GroupedQueryAttention: `num_query_heads` must be divisible by "
                f"`num_key_value_heads`; received num_query_heads={num_query_heads!r}, "
                f"num_key_value_heads={num_key_value_heads!r}."
            )
        super().__init__(num_heads=num_query_heads, key_dim=head_dim, **kwargs)
        self.head_dim, self.num_query_heads = head_dim, num_query_heads
        self.num_key_value_heads = num_key_value_heads
        self.num_repeats = num_query_heads // num_key_value_heads

    # Keras's GroupQueryAttention has no public properties for its projections (its files
    # store them at _query_dense/vars...), so neither has this one.
    query_dense = key_dense = value_dense = output_dense = None

    def _kv_heads(self):
        return self.num_key_value_heads

    def _share_heads(self, x):
        return ops.repeat(x, self.num_repeats, axis=2)

    def get_config(self):
        config = super().get_config()
        for key in ("num_heads", "key_dim", "value_dim", "output_shape", "attention_axes"):
            del config[key]
        config.update(
            head_dim=self.head_dim,
            num_query_heads=self.num_query_heads,
            num_key_value_heads=self.num_key_value_heads,
        )
        return config
