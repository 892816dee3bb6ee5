"""``tf.math``: elementwise math, reductions and comparisons on tensors (``chainrule.math``; the
common ones are also top-level: ``chainrule.reduce_sum``, ``chainrule.exp``...).

Every function accepts Tensors, NumPy arrays or Python numbers, returns a Tensor, and computes
with the engine's primitives, so its gradient is the primitive's VJP. Reductions take TensorFlow's
``axis`` (None: all axes; an int or a list) and ``keepdims``.
"""

from .. import ops
from .core import as_dtype, cast, convert_to_tensor, int64, tensors


def _axis(axis):
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
        return primitive(convert_to_tensor(input_tensor), axis=_axis(axis), keepdims=keepdims)

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

reduce_sum = _reduction(ops.sum, "reduce_sum", "y = sum of x")
reduce_mean = _reduction(ops.mean, "reduce_mean", "y = mean of x")
reduce_max = _reduction(ops.max, "reduce_max", "y = max of x (ties share the gradient)")
reduce_min = _reduction(ops.min, "reduce_min", "y = min of x (ties share the gradient)")


def square(x, name=None):
    """y = x * x, elementwise.   dy/dx = 2x."""
    x = convert_to_tensor(x)
    return x * x


def reduce_logsumexp(input_tensor, axis=None, keepdims=False, name=None):
    """y = log sum e^x over ``axis`` (all axes for None), computed without overflow.
    dL/dx = g softmax(x)."""
    return ops.logsumexp(convert_to_tensor(input_tensor), axis=_axis(axis), keepdims=keepdims)


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
