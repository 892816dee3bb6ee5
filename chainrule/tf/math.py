"""``tf.math``: elementwise math, reductions and comparisons on tensors (``chainrule.math``; the
common ones are also top-level: ``chainrule.reduce_sum``, ``chainrule.exp``...).

Every function accepts Tensors, NumPy arrays or Python numbers, returns a Tensor, and computes
with the engine's primitives, so its gradient is the primitive's VJP. Reductions take TensorFlow's
``axis`` (None: all axes; an int or a list) and ``keepdims``.
"""

import collections

import numpy as np

from .. import ops
from ..backend import xp_of
from ..engine import Tensor
from .arrays import argsort
from .core import as_dtype, cast, convert_to_tensor, int32, int64, tensors


def reduction_axis(axis):
    """TensorFlow's reduction ``axis`` (None, an int, or a list of ints) as the primitives take it."""
    if axis is None or isinstance(axis, int):
        return axis
    return tuple(int(a) for a in axis)


def _unary(primitive, math):
    def fn(x, name=None):
        return primitive(convert_to_tensor(x))

    fn.__name__ = fn.__qualname__ = primitive.name
    fn.__doc__ = f"{math}, elementwise (the ``{primitive.name}`` primitive)."
    return fn


def _binary(primitive, public_name, math):
    def fn(x, y, name=None):
        return primitive(*tensors(x, y))

    fn.__name__ = fn.__qualname__ = public_name
    fn.__doc__ = f"{math}, elementwise with broadcasting (the ``{primitive.name}`` primitive)."
    return fn


def _reduction(primitive, public_name, math):
    def fn(input_tensor, axis=None, keepdims=False, name=None):
        return primitive(
            convert_to_tensor(input_tensor), axis=reduction_axis(axis), keepdims=keepdims
        )

    fn.__name__ = fn.__qualname__ = public_name
    fn.__doc__ = f"{math} over ``axis`` (all axes for None) (the ``{primitive.name}`` primitive)."
    return fn


exp = _unary(ops.exp, "y = e^x;  dy/dx = y")
log = _unary(ops.log, "y = ln x;  dy/dx = 1/x")
sqrt = _unary(ops.sqrt, "y = sqrt(x);  dy/dx = 1/(2y)")
abs = _unary(ops.abs, "y = |x|;  dy/dx = sign(x)")
negative = _unary(ops.neg, "y = -x")
sign = _unary(ops.sign, "y = -1, 0 or 1 by the sign of x (no gradient)")
sigmoid = _unary(ops.sigmoid, "y = 1 / (1 + e^-x);  dy/dx = y(1 - y)")
tanh = _unary(ops.tanh, "y = tanh x;  dy/dx = 1 - y^2")
softplus = _unary(ops.softplus, "y = log(1 + e^x);  dy/dx = sigmoid(x)")
erf = _unary(ops.erf, "y = erf(x);  dy/dx = (2/sqrt(pi)) e^(-x^2)")
log1p = _unary(ops.log1p, "y = ln(1 + x), exact also for tiny x;  dy/dx = 1 / (1 + x)")
expm1 = _unary(ops.expm1, "y = e^x - 1, exact also for tiny x;  dy/dx = y + 1")
sin = _unary(ops.sin, "y = sin x;  dy/dx = cos x")
cos = _unary(ops.cos, "y = cos x;  dy/dx = -sin x")
tan = _unary(ops.tan, "y = tan x;  dy/dx = 1 + y^2")
asin = _unary(ops.arcsin, "y = arcsin x for |x| <= 1;  dy/dx = 1 / sqrt(1 - x^2)")
acos = _unary(ops.arccos, "y = arccos x for |x| <= 1;  dy/dx = -1 / sqrt(1 - x^2)")
atan = _unary(ops.arctan, "y = arctan x;  dy/dx = 1 / (1 + x^2)")
sinh = _unary(ops.sinh, "y = sinh x;  dy/dx = cosh x")
cosh = _unary(ops.cosh, "y = cosh x;  dy/dx = sinh x")
asinh = _unary(ops.arcsinh, "y = arsinh x;  dy/dx = 1 / sqrt(x^2 + 1)")
acosh = _unary(ops.arccosh, "y = arcosh x for x >= 1;  dy/dx = 1 / sqrt(x^2 - 1)")
atanh = _unary(ops.arctanh, "y = artanh x for |x| < 1;  dy/dx = 1 / (1 - x^2)")
floor = _unary(ops.floor, "y = the largest integer <= x (no gradient: dy/dx = 0)")
ceil = _unary(ops.ceil, "y = the smallest integer >= x (no gradient: dy/dx = 0)")
round = _unary(ops.round, "y = x rounded to the nearest integer, halves to even (no gradient)")
rint = round
is_nan = _unary(ops.isnan, "x is NaN (bool, no gradient)")
is_inf = _unary(ops.isinf, "x is +inf or -inf (bool, no gradient)")
is_finite = _unary(ops.isfinite, "x is neither NaN nor infinite (bool, no gradient)")
logical_not = _unary(ops.logical_not, "not x (bool, no gradient)")

add = _binary(ops.add, "add", "z = x + y")
subtract = _binary(ops.sub, "subtract", "z = x - y")
multiply = _binary(ops.mul, "multiply", "z = x * y")
divide = _binary(ops.div, "divide", "z = x / y")
pow = _binary(ops.pow, "pow", "z = x ** y")
maximum = _binary(ops.maximum, "maximum", "z = max(x, y) (ties send the gradient to x)")
minimum = _binary(ops.minimum, "minimum", "z = min(x, y) (ties send the gradient to x)")
equal = _binary(ops.equal, "equal", "x == y (bool, no gradient)")
not_equal = _binary(ops.not_equal, "not_equal", "x != y (bool, no gradient)")
less = _binary(ops.less, "less", "x < y (bool, no gradient)")
less_equal = _binary(ops.less_equal, "less_equal", "x <= y (bool, no gradient)")
greater = _binary(ops.greater, "greater", "x > y (bool, no gradient)")
greater_equal = _binary(ops.greater_equal, "greater_equal", "x >= y (bool, no gradient)")
logical_and = _binary(ops.logical_and, "logical_and", "x and y (bool, no gradient)")
logical_or = _binary(ops.logical_or, "logical_or", "x or y (bool, no gradient)")
logical_xor = _binary(ops.logical_xor, "logical_xor", "x xor y (bool, no gradient)")
floordiv = _binary(ops.floor_divide, "floordiv", "z = floor(x / y) (no gradient)")

reduce_sum = _reduction(ops.sum, "reduce_sum", "y = sum of x")
reduce_mean = _reduction(ops.mean, "reduce_mean", "y = mean of x")
reduce_max = _reduction(ops.max, "reduce_max", "y = max of x (ties share the gradient)")
reduce_min = _reduction(ops.min, "reduce_min", "y = min of x (ties share the gradient)")


def atan2(y, x, name=None):
    """z = the angle of the point (x, y) in (-pi, pi], elementwise with broadcasting (the
    ``arctan2`` primitive).   dz/dy = x / (x^2 + y^2),  dz/dx = -y / (x^2 + y^2)."""
    return ops.arctan2(*tensors(y, x))


def square(x, name=None):
    """y = x * x, elementwise.   dy/dx = 2x."""
    x = convert_to_tensor(x)
    return x * x


def reduce_logsumexp(input_tensor, axis=None, keepdims=False, name=None):
    """y = log sum e^x over ``axis`` (all axes for None), computed without overflow.
    dL/dx = g softmax(x)."""
    return ops.logsumexp(
        convert_to_tensor(input_tensor), axis=reduction_axis(axis), keepdims=keepdims
    )


def matmul(a, b, transpose_a=False, transpose_b=False, name=None):
    """c = op(a) @ op(b), op transposing the last two axes when asked; batched over leading axes.

    dL/da = g @ op(b)ᵀ (transposed back), dL/db = op(a)ᵀ @ g (transposed back).
    """
    a, b = convert_to_tensor(a), convert_to_tensor(b)
    if transpose_a:
        a = a.mT
    if transpose_b:
        b = b.mT
    return ops.matmul(a, b)


def _arg_extremum(primitive, input, axis, output_type):
    x = convert_to_tensor(input)
    index = primitive(x, axis=0 if axis is None else int(axis))
    return cast(index, output_type) if index.dtype != as_dtype(output_type) else index


def argmax(input, axis=None, output_type=int64, name=None):
    """The index of the largest value along ``axis`` (axis 0 when None, as in TensorFlow),
    int64 by default; the first among ties. No gradient."""
    return _arg_extremum(ops.argmax, input, axis, output_type)


def argmin(input, axis=None, output_type=int64, name=None):
    """The index of the smallest value along ``axis`` (axis 0 when None), int64 by default."""
    return _arg_extremum(ops.argmin, input, axis, output_type)


def log_softmax(logits, axis=None, name=None):
    """y_i = x_i - log sum_j e^(x_j) along ``axis`` (the last by default)."""
    return ops.log_softmax(convert_to_tensor(logits), axis=-1 if axis is None else axis)


def softmax(logits, axis=None, name=None):
    """y_i = e^(x_i) / sum_j e^(x_j) along ``axis`` (the last by default).
    dL/dx = y (g - sum_j g_j y_j)."""
    return ops.softmax(convert_to_tensor(logits), axis=-1 if axis is None else axis)


def reduce_prod(input_tensor, axis=None, keepdims=False, name=None):
    """y = the product of x over ``axis`` (all axes for None) (the ``prod`` primitive, whose
    gradient is exact also where x holds zeros: dy/dx_i = the product of the other elements)."""
    return ops.prod(convert_to_tensor(input_tensor), axis=reduction_axis(axis), keepdims=keepdims)


def _scan(primitive, identity, x, axis, exclusive, reverse):
    """A running reduction along ``axis``, TensorFlow's way: from the end when ``reverse``;
    shifted by one place, ``identity`` first, when ``exclusive``."""
    x = convert_to_tensor(x)
    axis = int(axis) % x.ndim
    if reverse:
        x = ops.flip(x, axis=axis)
    y = primitive(x, axis=axis)
    if exclusive:
        before = tuple((1, 0) if a == axis else (0, 0) for a in range(x.ndim))
        shifted = ops.pad(y, pad_width=before, constant_values=identity)
        y = shifted[(slice(None),) * axis + (slice(0, x.shape[axis]),)]
    return ops.flip(y, axis=axis) if reverse else y


def cumsum(x, axis=0, exclusive=False, reverse=False, name=None):
    """The running sum along ``axis`` (the ``cumsum`` primitive): y_i = x_0 + ... + x_i;
    ``exclusive``: y_i = x_0 + ... + x_(i-1) (y_0 = 0); ``reverse``: summed from the end.
    dL/dx_i = the sum of g over the outputs that x_i enters."""
    return _scan(ops.cumsum, 0, x, axis, exclusive, reverse)


def cumprod(x, axis=0, exclusive=False, reverse=False, name=None):
    """The running product along ``axis`` (the ``cumprod`` primitive): y_i = x_0 ... x_i;
    ``exclusive``: y_i = x_0 ... x_(i-1) (y_0 = 1); ``reverse``: multiplied from the end.
    dL/dx_i = sum over the outputs y_k that x_i enters of g_k y_k / x_i (x non-zero)."""
    return _scan(ops.cumprod, 1, x, axis, exclusive, reverse)


def _boolean(input_tensor, op):
    x = convert_to_tensor(input_tensor)
    if x.dtype != bool:
        raise TypeError(
            f"{op}: input must be boolean; got dtype {x.dtype}. Compare first, e.g. "
            f"{op}(x > 0), or cast with tf.cast(x, tf.bool)."
        )
    return x.data


def reduce_any(input_tensor, axis=None, keepdims=False, name=None):
    """The logical or of a boolean tensor over ``axis`` (all axes for None). No gradient."""
    data = _boolean(input_tensor, "reduce_any")
    return Tensor(xp_of(data).any(data, axis=reduction_axis(axis), keepdims=keepdims))


def reduce_all(input_tensor, axis=None, keepdims=False, name=None):
    """The logical and of a boolean tensor over ``axis`` (all axes for None). No gradient."""
    data = _boolean(input_tensor, "reduce_all")
    return Tensor(xp_of(data).all(data, axis=reduction_axis(axis), keepdims=keepdims))


def reduce_variance(input_tensor, axis=None, keepdims=False, name=None):
    """var = mean((x - mean(x))^2) over ``axis`` (the population variance, divided by n).
    dvar/dx_i = 2 (x_i - mean) / n.

    Raises:
        TypeError: an integer input (TensorFlow takes floats only).
    """
    x = convert_to_tensor(input_tensor)
    if x.dtype.kind != "f":
        raise TypeError(
            f"reduce_variance: input must be floating point; got dtype {x.dtype}. Cast it with "
            f"tf.cast(x, tf.float32)."
        )
    deviations = x - ops.mean(x, axis=reduction_axis(axis), keepdims=True)
    return ops.mean(deviations * deviations, axis=reduction_axis(axis), keepdims=keepdims)


def reduce_std(input_tensor, axis=None, keepdims=False, name=None):
    """std = sqrt(reduce_variance(x)) over ``axis``.   dstd/dx_i = (x_i - mean) / (n std)."""
    return ops.sqrt(reduce_variance(input_tensor, axis=axis, keepdims=keepdims))


TopKV2 = collections.namedtuple("TopKV2", ["values", "indices"])


def top_k(input, k=1, sorted=True, index_type=int32, name=None):
    """The ``k`` largest entries along the last axis and their indices (ties: the lower index
    first), largest first: ``values, indices = top_k(x, k)``, shapes (..., k).

    dL/dx = g scattered back to the positions of the chosen entries.

    Raises:
        ValueError: k larger than the last axis, or negative.
    """
    x = convert_to_tensor(input)
    k = int(k)
    if x.ndim == 0 or not 0 <= k <= x.shape[-1]:
        raise ValueError(
            f"top_k: k={k} must be between 0 and the size of the last axis of input of shape "
            f"{x.shape}."
        )
    order = argsort(x, axis=-1, direction="DESCENDING")[..., :k]
    values = ops.take_along_axis(x, order, axis=-1)
    return TopKV2(values, cast(order, index_type))


def clip_by_value(t, clip_value_min, clip_value_max, name=None):
    """y = min(max(t, lo), hi), computed as maximum(minimum(t, hi), lo) as TensorFlow does:
    dL/dt = g where lo <= t <= hi (both ends included), else 0; tensor bounds get the rest."""
    t = convert_to_tensor(t)
    return ops.maximum(ops.minimum(t, clip_value_max), clip_value_min)


def _squared_norm(t, axes=None, keepdims=None):
    """The sum of t^2 over ``axes`` (all for None), kept as size 1 where axes are given unless
    ``keepdims`` says otherwise."""
    keepdims = axes is not None if keepdims is None else keepdims
    return ops.sum(t * t, axis=reduction_axis(axes), keepdims=keepdims)


def clip_by_norm(t, clip_norm, axes=None, name=None):
    """t scaled so that its L2 norm (over ``axes``, all by default) is at most ``clip_norm``:

        y = t clip_norm / max(||t||, clip_norm)      (t unchanged when ||t|| <= clip_norm)

    Differentiable in t through the norm too. A zero t stays zero (no division by zero).
    """
    t = convert_to_tensor(t)
    squared = _squared_norm(t, axes)
    positive = ops.greater(squared, 0)
    safe = ops.where(positive, squared, 1)
    norm = ops.where(positive, ops.sqrt(safe), squared)
    return t * clip_norm / ops.maximum(norm, clip_norm)


def global_norm(t_list, name=None):
    """sqrt(sum over the tensors of sum t^2): the L2 norm of all of them as one vector
    (None entries skipped)."""
    tensors_ = [convert_to_tensor(t) for t in t_list if t is not None]
    total = _squared_norm(tensors_[0])
    for t in tensors_[1:]:
        total = total + _squared_norm(t)
    return ops.sqrt(total)


def clip_by_global_norm(t_list, clip_norm, use_norm=None, name=None):
    """The tensors scaled together so that their global norm is at most ``clip_norm``:

        y_i = t_i clip_norm / max(global_norm, clip_norm)

    Returns ``(list_clipped, global_norm)``; None entries stay None. A non-finite global norm
    makes every output NaN, as in TensorFlow.
    """
    norm = global_norm(t_list) if use_norm is None else convert_to_tensor(use_norm)
    scale = clip_norm * ops.minimum(1.0 / norm, 1.0 / clip_norm)
    scale = ops.where(ops.all(ops.isfinite(norm)), scale, np.nan)
    clipped = [None if t is None else convert_to_tensor(t) * scale for t in t_list]
    return clipped, norm


# ----- composed of the primitives: their gradients follow from the primitives' -----------------


def rsqrt(x, name=None):
    """y = 1 / sqrt(x).   dy/dx = -y^3 / 2."""
    return 1 / ops.sqrt(convert_to_tensor(x))


def reciprocal(x, name=None):
    """y = 1 / x.   dy/dx = -1 / x^2."""
    return 1 / convert_to_tensor(x)


def squared_difference(x, y, name=None):
    """z = (x - y)^2, elementwise with broadcasting.   dz/dx = 2 (x - y) = -dz/dy."""
    difference = ops.sub(*tensors(x, y))
    return difference * difference


def floormod(x, y, name=None):
    """z = x - floor(x / y) y, the remainder with the sign of y (Python's %).
    dz/dx = 1,   dz/dy = -floor(x / y)."""
    x, y = tensors(x, y)
    return x - ops.floor_divide(x, y) * y


mod = floormod


def _both_tensors(x, y):
    """x and y as Tensors, a Python number taking the other's dtype (as TensorFlow converts)."""
    x, y = tensors(x, y)
    if not isinstance(x, Tensor):
        x = convert_to_tensor(x, dtype=y.dtype)
    if not isinstance(y, Tensor):
        y = convert_to_tensor(y, dtype=x.dtype)
    return x, y


def truediv(x, y, name=None):
    """z = x / y, integers divided as floats (int8 and int16 in float32, wider in float64), as
    TensorFlow's ``truediv``."""
    x, y = _both_tensors(x, y)
    if x.dtype.kind in "iu" and y.dtype.kind in "iu":
        wide = max(x.dtype.itemsize, y.dtype.itemsize) > 2
        x, y = (cast(t, np.float64 if wide else np.float32) for t in (x, y))
    return ops.div(x, y)


def divide_no_nan(x, y, name=None):
    """z = x / y, and 0 where y is 0 (x / 0 included).   dz/dx = 1 / y and dz/dy = -x / y^2
    where y is not 0; 0 where it is."""
    x, y = _both_tensors(x, y)
    zero = ops.equal(y, 0)
    return ops.where(zero, 0, x / ops.where(zero, 1, y))


def scalar_mul(scalar, x, name=None):
    """y = scalar x."""
    return convert_to_tensor(scalar) * convert_to_tensor(x)


def add_n(inputs, name=None):
    """The elementwise sum of a list of tensors of one shape and dtype.   dy/dx_i = 1 for each.

    Raises:
        ValueError: an empty list, or tensors of different shapes.
    """
    terms = [convert_to_tensor(t) for t in inputs]
    if not terms or len({t.shape for t in terms}) > 1:
        raise ValueError(
            f"add_n: inputs must be a non-empty list of tensors of one shape; got shapes "
            f"{[t.shape for t in terms]}."
        )
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return total


def count_nonzero(input, axis=None, keepdims=False, dtype=int64, name=None):
    """The number of non-zero entries over ``axis`` (all axes for None), int64 by default. No
    gradient."""
    x = convert_to_tensor(input)
    axis = reduction_axis(axis)
    count = ops.count_nonzero(x, axis=axis)
    if keepdims:
        counted = range(x.ndim) if axis is None else {a % x.ndim for a in np.atleast_1d(axis)}
        count = ops.reshape(count, [1 if a in counted else n for a, n in enumerate(x.shape)])
    return cast(count, dtype)


def reduce_euclidean_norm(input_tensor, axis=None, keepdims=False, name=None):
    """y = sqrt(sum of x^2) over ``axis`` (all axes for None).   dy/dx = x / y."""
    return ops.sqrt(_squared_norm(convert_to_tensor(input_tensor), axis, keepdims))


def l2_normalize(x, axis=None, epsilon=1e-12, name=None):
    """y = x / sqrt(max(sum of x^2 over ``axis``, epsilon)) (all axes for None): x scaled to
    unit L2 norm, and a zero x stays zero.   Differentiable through the norm too."""
    x = convert_to_tensor(x)
    squared = _squared_norm(x, axis, keepdims=True)
    return x * rsqrt(ops.maximum(squared, epsilon))


def log_sigmoid(x, name=None):
    """y = log(1 / (1 + e^-x)) = -softplus(-x), without overflow.   dy/dx = sigmoid(-x)."""
    return -ops.softplus(-convert_to_tensor(x))


def softsign(features, name=None):
    """y = x / (1 + |x|).   dy/dx = 1 / (1 + |x|)^2."""
    x = convert_to_tensor(features)
    return x / (ops.abs(x) + 1)
