"""keras.ops.numpy: Keras 3's NumPy-like functions on chainrule Tensors.

Each function takes Tensors, arrays, Python scalars or lists, gives its result Keras 3's dtype
(``result_type``: an int32 tensor plus 1.5 is float32, the sine of an int tensor float32, the
sum of bools int32), and returns a Tensor. Differentiable functions are built from the primitives
of ``chainrule.ops``, so their gradients come from the engine; the others (comparisons, logical
and bitwise functions, rounding, indices, counts) compute on the arrays and return Tensors that
carry no gradient, as their derivative is zero or undefined.

chainrule has no complex dtype: ``real``, ``imag``, ``conj``, ``angle`` and ``isreal`` give
Keras's results for real inputs, and complex data raises a TypeError on conversion.
"""

import builtins
import math

import numpy as np

from ... import ops
from ...engine import ShapeError, Tensor, values_of
from .. import config
from .dispatch import keras_op
from .dtypes import convert_to_tensor, result_type, standardize_dtype

__all__ = []  # filled by _export, in the order of definition


def _export(fn):
    """Make ``fn`` a Keras op and list it in ``__all__``."""
    op = keras_op(fn)
    __all__.append(fn.__name__)
    return op


# ----- conversion helpers --------------------------------------------------------------------


def _tensor(x, dtype=None):
    return convert_to_tensor(x, dtype)


def _name(x):
    """The Keras dtype name of a Tensor."""
    return x.dtype.name


def _cast(x, dtype):
    """The Tensor ``x`` in ``dtype`` (itself when it already is; the cast is differentiable)."""
    return x if x.dtype == np.dtype(dtype) else ops.cast(x, dtype=dtype)


def _pair(x1, x2, *extra):
    """Both operands as Tensors of their Keras result dtype (``extra``: more dtypes to join,
    e.g. ``float`` for ops whose result is always floating)."""
    dtype = result_type(x1, x2, *extra)
    return _tensor(x1, dtype), _tensor(x2, dtype)


def _floating(x):
    """``x`` as a Tensor of a floating dtype: ints and bools become float32."""
    x = _tensor(x)
    return _cast(x, result_type(x.dtype, float))


def _arrays(*tensors):
    return [values_of(t) for t in tensors]


def _constant(array, dtype=None):
    """A Tensor that carries no gradient, from an array computed outside the engine."""
    return Tensor(array, dtype=dtype)


def _accumulating(dtype):
    """The dtype Keras sums and multiplies ``dtype`` in: small ints widen to 32 bits."""
    if dtype in ("bool", "int8", "int16"):
        return "int32"
    if dtype in ("uint8", "uint16"):
        return "uint32"
    return dtype


def _int_pair(x1, x2):
    """x1 and x2 in their common dtype, with two bools made int32 (Keras's arithmetic on bools)."""
    x1, x2 = _pair(x1, x2)
    if _name(x1) == "bool":
        x1, x2 = _cast(x1, "int32"), _cast(x2, "int32")
    return x1, x2


def _remainder(x1, x2, exact, rounding):
    """x1 - rounding(x1 / x2) x2: ``exact`` (np.mod or np.fmod) on integers, without gradient;
    on floats through the engine, so dL/dx1 = g and dL/dx2 = -g rounding(x1 / x2)."""
    x1, x2 = _int_pair(x1, x2)
    if x1.dtype.kind != "f":
        return _constant(exact(*_arrays(x1, x2)))
    return x1 - rounding(x1 / x2) * x2


# ----- elementwise: arithmetic -----------------------------------------------------------------


@_export
def add(x1, x2):
    """y = x1 + x2, broadcast.   dL/dx1 = g, dL/dx2 = g (summed over broadcast axes)."""
    return ops.add(*_pair(x1, x2))


@_export
def subtract(x1, x2):
    """y = x1 - x2, broadcast.   dL/dx1 = g, dL/dx2 = -g."""
    return ops.sub(*_pair(x1, x2))


@_export
def multiply(x1, x2):
    """y = x1 * x2, broadcast.   dL/dx1 = g x2, dL/dx2 = g x1."""
    return ops.mul(*_pair(x1, x2))


@_export
def divide(x1, x2):
    """y = x1 / x2 in a floating dtype (ints give float32).   dL/dx1 = g / x2,
    dL/dx2 = -g x1 / x2^2."""
    return ops.div(*_pair(x1, x2, float))


@_export
def true_divide(x1, x2):
    """y = x1 / x2 (the same as ``divide``)."""
    return divide(x1, x2)


@_export
def divide_no_nan(x1, x2):
    """y = x1 / x2 where x2 != 0, and 0 where x2 == 0 (no inf or NaN).
    dL/dx1 = g / x2 and dL/dx2 = -g x1 / x2^2 where x2 != 0, and 0 where x2 == 0."""
    x1, x2 = _pair(x1, x2, float)
    zero = x2 == 0
    return ops.where(zero, 0, ops.div(x1, ops.where(zero, 1, x2)))


@_export
def negative(x):
    """y = -x.   dL/dx = -g."""
    return ops.neg(_tensor(x))


@_export
def power(x1, x2):
    """y = x1 ** x2 (two bools give int32).   dL/dx1 = g x2 x1^(x2-1),
    dL/dx2 = g y ln x1 (0 where x1 <= 0)."""
    return ops.pow(*_int_pair(x1, x2))


@_export
def square(x):
    """y = x^2 (bools become int32).   dL/dx = 2 g x."""
    x = _tensor(x)
    x = _cast(x, "int32") if _name(x) == "bool" else x
    return ops.mul(x, x)


@_export
def reciprocal(x):
    """y = 1 / x (ints give float32).   dL/dx = -g / x^2."""
    x = _floating(x)
    return ops.div(_tensor(1, _name(x)), x)


@_export
def floor_divide(x1, x2):
    """y = floor(x1 / x2) (no gradient: piecewise constant)."""
    return ops.floor_divide(*_pair(x1, x2))


@_export
def mod(x1, x2):
    """y = x1 - floor(x1 / x2) x2, the sign of x2 (Python's %; bools become int32).
    dL/dx1 = g,   dL/dx2 = -g floor(x1 / x2)."""
    return _remainder(x1, x2, np.mod, ops.floor)


@_export
def fmod(x1, x2):
    """y = x1 - trunc(x1 / x2) x2, the sign of x1 (C's fmod; bools become int32).
    dL/dx1 = g,   dL/dx2 = -g trunc(x1 / x2)."""
    return _remainder(x1, x2, np.fmod, ops.trunc)


@_export
def maximum(x1, x2):
    """y = max(x1, x2), elementwise.   dL/dx1 = g where x1 >= x2, dL/dx2 = g elsewhere."""
    return ops.maximum(*_pair(x1, x2))


@_export
def minimum(x1, x2):
    """y = min(x1, x2), elementwise.   dL/dx1 = g where x1 <= x2, dL/dx2 = g elsewhere."""
    return ops.minimum(*_pair(x1, x2))


@_export
def fmax(x1, x2):
    """y = max(x1, x2), ignoring a NaN on either side (NaN only where both are).
    The gradient goes to the operand chosen."""
    x1, x2 = _pair(x1, x2)
    if x1.dtype.kind != "f":
        return ops.maximum(x1, x2)
    return ops.where(isnan(x2), x1, ops.where(isnan(x1), x2, ops.maximum(x1, x2)))


@_export
def fmin(x1, x2):
    """y = min(x1, x2), ignoring a NaN on either side (NaN only where both are).
    The gradient goes to the operand chosen."""
    x1, x2 = _pair(x1, x2)
    if x1.dtype.kind != "f":
        return ops.minimum(x1, x2)
    return ops.where(isnan(x2), x1, ops.where(isnan(x1), x2, ops.minimum(x1, x2)))


@_export
def clip(x, x_min, x_max):
    """y = min(max(x, x_min), x_max) in x's dtype (bools become int32).
    dL/dx = g where x_min <= x <= x_max, else 0."""
    x = _tensor(x)
    x = _cast(x, "int32") if _name(x) == "bool" else x
    lo = values_of(x_min) if isinstance(x_min, Tensor) else x_min
    hi = values_of(x_max) if isinstance(x_max, Tensor) else x_max
    return _cast(ops.clip(x, lo, hi), x.dtype)


@_export
def abs(x):
    """y = |x|.   dL/dx = g sign(x)."""
    return ops.abs(_tensor(x))


@_export
def absolute(x):
    """y = |x| (the same as ``abs``)."""
    return abs(x)


@_export
def fabs(x):
    """y = |x| in a floating dtype (ints give float32).   dL/dx = g sign(x)."""
    return ops.abs(_floating(x))


@_export
def sign(x):
    """y = -1, 0 or 1 by the sign of x, in x's dtype (no gradient)."""
    return ops.sign(_tensor(x))


@_export
def heaviside(x1, x2):
    """y = 0 where x1 < 0, x2 where x1 == 0, 1 where x1 > 0 (ints give float32; no gradient)."""
    x1, x2 = _pair(x1, x2)
    dtype = config.floatx() if _name(x1).startswith(("int", "uint")) else _name(x1)
    return _constant(np.heaviside(*_arrays(x1, x2)), dtype)


@_export
def hypot(x1, x2):
    """y = sqrt(x1^2 + x2^2) (ints give float32).   dL/dx1 = g x1 / y,   dL/dx2 = g x2 / y."""
    x1, x2 = _pair(x1, x2, float)
    return ops.sqrt(x1 * x1 + x2 * x2)


@_export
def logaddexp(x1, x2):
    """y = ln(e^x1 + e^x2) = max + ln(1 + e^-|x1 - x2|), without overflow.
    dL/dx1 = g e^(x1 - y),   dL/dx2 = g e^(x2 - y)."""
    x1, x2 = _pair(x1, x2, float)
    return ops.maximum(x1, x2) + ops.log1p(ops.exp(-ops.abs(x1 - x2)))


@_export
def logaddexp2(x1, x2):
    """y = log2(2^x1 + 2^x2) = logaddexp(x1 ln 2, x2 ln 2) / ln 2.   dL/dx1 = g 2^(x1 - y)."""
    x1, x2 = _pair(x1, x2, float)
    return logaddexp(x1 * math.log(2), x2 * math.log(2)) / math.log(2)


@_export
def ldexp(x1, x2):
    """y = x1 * 2^x2 (x2 integer; ints give float32).   dL/dx1 = g 2^x2."""
    x2 = _tensor(x2)
    if x2.dtype.kind not in "iub":
        raise TypeError(f"ldexp: the exponent must be an integer tensor; got {_name(x2)}")
    dtype = result_type(x1, x2, float)
    return _tensor(x1, dtype) * _constant(np.exp2(values_of(x2).astype(dtype)))


@_export
def nextafter(x1, x2):
    """y = the next floating-point value after x1 towards x2 (no gradient)."""
    x1, x2 = _pair(x1, x2, float)
    return _constant(np.nextafter(*_arrays(x1, x2)))


@_export
def gcd(x1, x2):
    """y = the greatest common divisor of the integers x1 and x2 (no gradient)."""
    x1, x2 = _pair(x1, x2)
    return _constant(np.gcd(*_arrays(x1, x2)))


@_export
def lcm(x1, x2):
    """y = the least common multiple of the integers x1 and x2 (no gradient)."""
    x1, x2 = _pair(x1, x2)
    return _constant(np.lcm(*_arrays(x1, x2)))


# ----- elementwise: transcendental functions (ints and bools give float32) --------------------


def _float_unary(name, primitive, math_doc):
    """A Keras op y = primitive(x) computed in x's floating dtype (float32 for ints, bools)."""

    def op(x):
        return primitive(_floating(x))

    op.__name__ = op.__qualname__ = name
    op.__doc__ = math_doc
    return _export(op)


sin = _float_unary("sin", ops.sin, "y = sin x.   dL/dx = g cos x.")
cos = _float_unary("cos", ops.cos, "y = cos x.   dL/dx = -g sin x.")
tan = _float_unary("tan", ops.tan, "y = tan x.   dL/dx = g (1 + y^2).")
arcsin = _float_unary("arcsin", ops.arcsin, "y = arcsin x.   dL/dx = g / sqrt(1 - x^2).")
arccos = _float_unary("arccos", ops.arccos, "y = arccos x.   dL/dx = -g / sqrt(1 - x^2).")
arctan = _float_unary("arctan", ops.arctan, "y = arctan x.   dL/dx = g / (1 + x^2).")
sinh = _float_unary("sinh", ops.sinh, "y = sinh x.   dL/dx = g cosh x.")
cosh = _float_unary("cosh", ops.cosh, "y = cosh x.   dL/dx = g sinh x.")
tanh = _float_unary("tanh", ops.tanh, "y = tanh x.   dL/dx = g (1 - y^2).")
arcsinh = _float_unary("arcsinh", ops.arcsinh, "y = arsinh x.   dL/dx = g / sqrt(x^2 + 1).")
arccosh = _float_unary("arccosh", ops.arccosh, "y = arcosh x.   dL/dx = g / sqrt(x^2 - 1).")
arctanh = _float_unary("arctanh", ops.arctanh, "y = artanh x.   dL/dx = g / (1 - x^2).")
exp = _float_unary("exp", ops.exp, "y = e^x.   dL/dx = g y.")
expm1 = _float_unary("expm1", ops.expm1, "y = e^x - 1, accurate near 0.   dL/dx = g (y + 1).")
log = _float_unary("log", ops.log, "y = ln x.   dL/dx = g / x.")
log1p = _float_unary("log1p", ops.log1p, "y = ln(1 + x), accurate near 0.   dL/dx = g / (1 + x).")
sqrt = _float_unary("sqrt", ops.sqrt, "y = sqrt(x).   dL/dx = g / (2 y).")
cbrt = _float_unary("cbrt", ops.cbrt, "y = the real cube root of x.   dL/dx = g / (3 y^2).")


@_export
def arctan2(x1, x2):
    """y = the angle of the point (x2, x1), in (-pi, pi].
    dL/dx1 = g x2 / (x1^2 + x2^2),   dL/dx2 = -g x1 / (x1^2 + x2^2)."""
    return ops.arctan2(*_pair(x1, x2, float))


@_export
def exp2(x):
    """y = 2^x (ints give float32).   dL/dx = g y ln 2."""
    x = _floating(x)
    return ops.pow(_tensor(2, _name(x)), x)


@_export
def log2(x):
    """y = log2 x = ln x / ln 2.   dL/dx = g / (x ln 2)."""
    return ops.log(_floating(x)) / math.log(2)


@_export
def log10(x):
    """y = log10 x = ln x / ln 10.   dL/dx = g / (x ln 10)."""
    return ops.log(_floating(x)) / math.log(10)


@_export
def deg2rad(x):
    """y = x pi / 180.   dL/dx = g pi / 180."""
    return _floating(x) * (math.pi / 180)


@_export
def rad2deg(x):
    """y = x 180 / pi.   dL/dx = g 180 / pi."""
    return _floating(x) * (180 / math.pi)


@_export
def sinc(x):
    """y = sin(pi x) / (pi x), with y = 1 at x = 0.
    dL/dx = g (cos(pi x) - y) / x, and 0 at x = 0."""
    x = _floating(x)
    zero = x == 0
    px = ops.where(zero, 1, x) * math.pi
    return ops.where(zero, 1, ops.sin(px) / px)


@_export
def i0(x):
    """y = I0(x), the modified Bessel function of the first kind, order 0 (no gradient)."""
    x = _floating(x)
    return _constant(np.i0(values_of(x)).astype(x.dtype))


# ----- elementwise: rounding (no gradient) ---------------------------------------------------


def _rounding(name, fn, doc):
    def op(x):
        return fn(_floating(x))

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return _export(op)


floor = _rounding("floor", ops.floor, "y = the largest integer <= x, as a float (no gradient).")
ceil = _rounding("ceil", ops.ceil, "y = the smallest integer >= x, as a float (no gradient).")


@_export
def trunc(x):
    """y = x rounded towards zero, in x's dtype (no gradient)."""
    x = _tensor(x)
    return ops.trunc(x) if x.dtype.kind == "f" else x


@_export
def round(x, decimals=0):
    """y = x rounded to ``decimals`` decimals, halves to even, in x's dtype (no gradient)."""
    return ops.round(_tensor(x), decimals=decimals)


# ----- elementwise: comparisons, tests, logic and bits (no gradient) ---------------------------


def _compare(name, fn, doc):
    def op(x1, x2):
        return fn(*_pair(x1, x2))

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc + " (no gradient)."
    return _export(op)


equal = _compare("equal", ops.equal, "x1 == x2, elementwise, as bools")
not_equal = _compare("not_equal", ops.not_equal, "x1 != x2, elementwise, as bools")
greater = _compare("greater", ops.greater, "x1 > x2, elementwise, as bools")
greater_equal = _compare("greater_equal", ops.greater_equal, "x1 >= x2, elementwise, as bools")
less = _compare("less", ops.less, "x1 < x2, elementwise, as bools")
less_equal = _compare("less_equal", ops.less_equal, "x1 <= x2, elementwise, as bools")
logical_and = _compare("logical_and", ops.logical_and, "x1 and x2 (non-zero is true), as bools")
logical_or = _compare("logical_or", ops.logical_or, "x1 or x2 (non-zero is true), as bools")
logical_xor = _compare("logical_xor", ops.logical_xor, "x1 xor x2 (non-zero is true), as bools")


def _on_arrays(fn):
    """``fn`` of the operands' arrays, as a Tensor without gradient (a read of their values)."""
    return lambda *tensors: _constant(fn(*_arrays(*tensors)))


def _integers(name, fn, doc):
    def op(x, y):
        x, y = _pair(x, y)
        if x.dtype.kind not in "iub":
            raise TypeError(f"{name}: needs integer or bool tensors; got {_name(x)}")
        return fn(x, y)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc + " (integers and bools; no gradient)."
    return _export(op)


bitwise_and = _integers("bitwise_and", ops.bitwise_and, "x & y, bit by bit")
bitwise_or = _integers("bitwise_or", ops.bitwise_or, "x | y, bit by bit")
bitwise_xor = _integers("bitwise_xor", ops.bitwise_xor, "x ^ y, bit by bit")
bitwise_left_shift = _integers("bitwise_left_shift", _on_arrays(np.left_shift), "x << y")
bitwise_right_shift = _integers("bitwise_right_shift", _on_arrays(np.right_shift), "x >> y")
left_shift = _integers(
    "left_shift", _on_arrays(np.left_shift), "x << y (as ``bitwise_left_shift``)"
)
right_shift = _integers(
    "right_shift", _on_arrays(np.right_shift), "x >> y (as ``bitwise_right_shift``)"
)


@_export
def bitwise_invert(x):
    """~x, every bit flipped (``not`` for bools; no gradient)."""
    x = _tensor(x)
    if x.dtype.kind not in "iub":
        raise TypeError(f"bitwise_invert: needs an integer or bool tensor; got {_name(x)}")
    return ops.invert(x)


@_export
def bitwise_not(x):
    """~x (the same as ``bitwise_invert``)."""
    return bitwise_invert(x)


@_export
def logical_not(x):
    """not x (non-zero is true), as bools (no gradient)."""
    return ops.logical_not(_tensor(x))


def _test(name, fn, doc):
    def op(x):
        return fn(_tensor(x))

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc + ", elementwise, as bools (no gradient)."
    return _export(op)


isnan = _test("isnan", ops.isnan, "x is NaN")
isinf = _test("isinf", ops.isinf, "x is +inf or -inf")
isfinite = _test("isfinite", ops.isfinite, "x is neither NaN nor infinite")
isneginf = _test("isneginf", lambda x: ops.logical_and(ops.isinf(x), ops.signbit(x)), "x is -inf")
isposinf = _test(
    "isposinf",
    lambda x: ops.logical_and(ops.isinf(x), ops.logical_not(ops.signbit(x))),
    "x is +inf",
)
signbit = _test("signbit", ops.signbit, "x's sign bit is set (x < 0, or -0.0)")
isreal = _test(
    "isreal", lambda a: _constant(np.ones(a.shape, bool)), "x has no imaginary part (always)"
)


@_export
def isclose(x1, x2, rtol=1e-5, atol=1e-8, equal_nan=False):
    """|x1 - x2| <= atol + rtol |x2|, elementwise, as bools (no gradient)."""
    x1, x2 = _pair(x1, x2)
    return _constant(np.isclose(*_arrays(x1, x2), rtol=rtol, atol=atol, equal_nan=equal_nan))


@_export
def allclose(x1, x2, rtol=1e-5, atol=1e-8, equal_nan=False):
    """True when ``isclose`` holds everywhere: a scalar bool Tensor (no gradient)."""
    return ops.all(isclose(x1, x2, rtol, atol, equal_nan))


@_export
def isin(x1, x2, assume_unique=False, invert=False):
    """Whether each element of x1 occurs in x2 (or does not, with ``invert``), as bools."""
    x1, x2 = _pair(x1, x2)
    return _constant(np.isin(*_arrays(x1, x2), assume_unique=assume_unique, invert=invert))


# ----- complex parts, for real data ------------------------------------------------------------


@_export
def real(x):
    """The real part: x itself for real x (chainrule has no complex dtype)."""
    return _tensor(x)


@_export
def imag(x):
    """The imaginary part: zeros of x's shape and dtype for real x (no gradient)."""
    x = _tensor(x)
    return _constant(np.zeros(x.shape, x.dtype))


@_export
def conjugate(x):
    """The complex conjugate: x itself for real x."""
    return _tensor(x)


@_export
def conj(x):
    """The complex conjugate (the same as ``conjugate``)."""
    return conjugate(x)


@_export
def angle(x):
    """The complex argument, for real x: 0 for x >= 0 and pi for x < 0 (ints give float32;
    no gradient)."""
    x = _floating(x)
    return _constant(np.angle(values_of(x)).astype(x.dtype))


@_export
def nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    """x with NaN replaced by ``nan`` and +-inf by ``posinf``/``neginf`` (the dtype's largest
    finite values by default).   dL/dx = g where x was finite, 0 where it was replaced."""
    x = _tensor(x)
    if x.dtype.kind != "f":
        return x
    info = np.finfo(x.dtype)
    x = ops.where(isnan(x), nan, x)
    x = ops.where(isposinf(x), info.max if posinf is None else posinf, x)
    return _cast(ops.where(isneginf(x), info.min if neginf is None else neginf, x), x.dtype)


# ----- reductions ------------------------------------------------------------------------------


@_export
def sum(x, axis=None, keepdims=False):
    """y = the sum of x over ``axis`` (bools and small ints sum in int32).
    dL/dx = g broadcast back over the summed axes."""
    x = _tensor(x)
    return ops.sum(_cast(x, _accumulating(_name(x))), axis=axis, keepdims=keepdims)


@_export
def mean(x, axis=None, keepdims=False):
    """y = the mean of x over ``axis`` (ints and bools give float32).
    dL/dx = g / n broadcast back, n the number of elements per mean."""
    x = _tensor(x)
    if x.dtype.kind != "f":
        x = _cast(x, result_type(x.dtype, "float32"))
    return ops.mean(x, axis=axis, keepdims=keepdims)


def _extremum(name, primitive):
    def op(x, axis=None, keepdims=False, initial=None):
        x = _tensor(x)
        y = primitive(x, axis=axis, keepdims=keepdims)
        if initial is not None:
            combine = ops.maximum if name == "max" else ops.minimum
            y = _cast(combine(y, _tensor(initial, _name(x))), x.dtype)
        return y

    op.__name__ = op.__qualname__ = name
    op.__doc__ = (
        f"y = the {name}imum of x over ``axis`` (and ``initial``, when given).\n"
        f"    dL/dx = g at the {name}imum (ties share it equally), 0 elsewhere."
    )
    return _export(op)


max = _extremum("max", ops.max)
min = _extremum("min", ops.min)


@_export
def amax(x, axis=None, keepdims=False):
    """y = the maximum of x over ``axis`` (the same as ``max``)."""
    return max(x, axis=axis, keepdims=keepdims)


@_export
def amin(x, axis=None, keepdims=False):
    """y = the minimum of x over ``axis`` (the same as ``min``)."""
    return min(x, axis=axis, keepdims=keepdims)


@_export
def ptp(x, axis=None, keepdims=False):
    """y = max - min of x over ``axis``.   dL/dx = g at the maximum, -g at the minimum."""
    x = _tensor(x)
    return ops.max(x, axis=axis, keepdims=keepdims) - ops.min(x, axis=axis, keepdims=keepdims)


@_export
def prod(x, axis=None, keepdims=False, dtype=None):
    """y = the product of x over ``axis`` (bools and small ints multiply in int32).
    dL/dx_i = g times the product of the other elements."""
    x = _tensor(x)
    dtype = standardize_dtype(dtype) if dtype is not None else _accumulating(_name(x))
    return ops.prod(_cast(x, dtype), axis=axis, keepdims=keepdims)


@_export
def all(x, axis=None, keepdims=False):
    """True where every element over ``axis`` is non-zero, as bools (no gradient)."""
    return ops.all(_tensor(x), axis=_axis_tuple(axis), keepdims=keepdims)


@_export
def any(x, axis=None, keepdims=False):
    """True where some element over ``axis`` is non-zero, as bools (no gradient)."""
    return ops.any(_tensor(x), axis=_axis_tuple(axis), keepdims=keepdims)


def _axis_tuple(axis):
    return tuple(axis) if isinstance(axis, list) else axis


@_export
def count_nonzero(x, axis=None):
    """The number of non-zero elements over ``axis``, as int32 (no gradient)."""
    return _cast(ops.count_nonzero(_tensor(x), axis=_axis_tuple(axis)), "int32")


def _arg(name, fn, doc):
    def op(x, axis=None, keepdims=False):
        x = _tensor(x)
        index = _cast(fn(x, axis=axis), "int32")
        if not keepdims:
            return index
        if axis is None:
            return ops.reshape(index, shape=(1,) * x.ndim)
        return ops.expand_dims(index, axis=axis)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc + " along ``axis`` (of the flattened x for None), int32 (no gradient)."
    return _export(op)


argmax = _arg("argmax", ops.argmax, "The index of the largest element (the first of ties)")
argmin = _arg("argmin", ops.argmin, "The index of the smallest element (the first of ties)")
nanargmax = _arg(
    "nanargmax",
    lambda x, axis: _constant(np.nanargmax(values_of(x), axis=axis)),
    "The index of the largest element, NaNs ignored",
)
nanargmin = _arg(
    "nanargmin",
    lambda x, axis: _constant(np.nanargmin(values_of(x), axis=axis)),
    "The index of the smallest element, NaNs ignored",
)


def _variance(x, axis, keepdims):
    x = _tensor(x)
    x = _cast(x, result_type(x.dtype, "float32")) if x.dtype.kind != "f" else x
    centred = x - ops.mean(x, axis=axis, keepdims=True)
    return ops.mean(centred * centred, axis=axis, keepdims=keepdims)


@_export
def var(x, axis=None, keepdims=False):
    """y = mean((x - mean(x))^2) over ``axis`` (the population variance; ints give float32).
    dL/dx = 2 g (x - mean(x)) / n."""
    return _variance(x, axis, keepdims)


@_export
def std(x, axis=None, keepdims=False):
    """y = sqrt(var(x)) over ``axis``.   dL/dx = g (x - mean(x)) / (n y)."""
    return ops.sqrt(_variance(x, axis, keepdims))


@_export
def average(x, axis=None, weights=None):
    """y = sum(w x) / sum(w) over ``axis`` (the plain mean without weights). 1-D weights with
    an axis weigh that axis.   dL/dx = g w / sum(w),   dL/dw = g (x - y) / sum(w)."""
    if weights is None:
        return mean(x, axis=axis)
    x, weights = _pair(x, weights, float)
    if weights.ndim == 1 and x.ndim > 1 and axis is not None:
        ax = axis % x.ndim
        if weights.shape[0] != x.shape[ax]:
            raise ShapeError(
                f"average: 1-D weights of length {weights.shape[0]} do not match axis {axis} "
                f"of a tensor of shape {x.shape}"
            )
        weights = ops.reshape(weights, shape=tuple(-1 if d == ax else 1 for d in range(x.ndim)))
    elif weights.shape != x.shape:
        raise ShapeError(
            f"average: weights of shape {weights.shape} do not match the tensor's shape "
            f"{x.shape}; pass weights of the same shape, or 1-D weights with an axis"
        )
    weights = ops.broadcast_to(weights, shape=x.shape)
    return ops.sum(x * weights, axis=axis) / ops.sum(weights, axis=axis)


def _quantile(x, q, axis, method, keepdims, skip_nan, name):
    """The ``q`` quantiles (q in [0, 1]) of x over ``axis``, by sorting: output shape q.shape
    followed by x's shape without the reduced axes (kept as 1 with ``keepdims``)."""
    methods = ("linear", "lower", "higher", "midpoint", "nearest")
    if method not in methods:
        raise ValueError(f"{name}: method must be one of {methods}; got {method!r}")
    x = _floating(x)
    q = np.asarray(values_of(q) if isinstance(q, Tensor) else q, dtype=np.float64)
    if np.any((q < 0) | (q > 1)):
        raise ValueError(f"{name}: the quantiles must lie in [0, 1] (percentiles in [0, 100])")
    ndim = x.ndim
    axes = tuple(range(ndim)) if axis is None else (axis,) if isinstance(axis, int) else axis
    axes = tuple(a % ndim for a in axes)
    kept = [d for d in range(ndim) if d not in axes]
    rows = tuple(x.shape[d] for d in kept)
    flat = ops.reshape(ops.transpose(x, axes=tuple(kept) + axes), shape=rows + (-1,))
    ordered = ops.sort(flat, axis=-1)  # NaNs last
    n = flat.shape[-1]
    if skip_nan:  # where the quantiles lie depends on each row's count of numbers
        count = (~np.isnan(values_of(flat))).sum(-1, keepdims=True)
    else:
        count = np.full(rows + (1,), n)
    position = q.reshape(-1) * (count - 1)  # rows + (len(q),)
    lo = np.clip(np.floor(position), 0, n - 1).astype(np.intp)
    hi = np.clip(np.ceil(position), 0, n - 1).astype(np.intp)
    if method in ("lower", "higher", "nearest"):
        pick = {"lower": lo, "higher": hi, "nearest": np.clip(np.round(position), 0, n - 1)}
        y = ops.take_along_axis(ordered, pick[method].astype(np.intp), axis=-1)
    else:
        below = ops.take_along_axis(ordered, lo, axis=-1)
        above = ops.take_along_axis(ordered, hi, axis=-1)
        fraction = 0.5 if method == "midpoint" else (position - lo).astype(x.dtype)
        y = below + (above - below) * fraction
    if not skip_nan:  # a NaN anywhere in a row makes its quantiles NaN
        y = ops.where(ops.any(ops.isnan(flat), axis=-1, keepdims=True), np.nan, y)
    y = ops.transpose(y, axes=(len(rows),) + tuple(range(len(rows))))  # q first
    if keepdims:
        rows = tuple(1 if d in axes else x.shape[d] for d in range(ndim))
    return ops.reshape(y, shape=q.shape + rows)


@_export
def quantile(x, q, axis=None, method="linear", keepdims=False):
    """The q-th quantiles (q in [0, 1]) of x over ``axis``: with n sorted values s, position
    p = q (n - 1) and y = s[floor p] + (s[ceil p] - s[floor p]) (p - floor p) for "linear"
    (or the lower, higher, midpoint or nearest of the two). Shape: q.shape + reduced x.shape.
    dL/ds goes to the two neighbouring sorted values, weighted as they are, and back to x."""
    return _quantile(x, q, axis, method, keepdims, False, "quantile")


@_export
def percentile(x, q, axis=None, method="linear", keepdims=False):
    """The q-th percentiles (q in [0, 100]): ``quantile(x, q / 100)``."""
    return _quantile(
        x, np.asarray(q, np.float64) / 100, axis, method, keepdims, False, "percentile"
    )


@_export
def median(x, axis=None, keepdims=False):
    """The median of x over ``axis``: ``quantile(x, 0.5)`` (the mean of the two middle values
    of an even count).   dL/dx = g at the middle value(s), halved between two."""
    return _quantile(x, 0.5, axis, "linear", keepdims, False, "median")


@_export
def nanquantile(x, q, axis=None, method="linear", keepdims=False):
    """``quantile`` ignoring NaNs (NaN where everything is NaN)."""
    return _quantile(x, q, axis, method, keepdims, True, "nanquantile")


@_export
def nanpercentile(x, q, axis=None, method="linear", keepdims=False):
    """``percentile`` ignoring NaNs."""
    return _quantile(
        x, np.asarray(q, np.float64) / 100, axis, method, keepdims, True, "nanpercentile"
    )


@_export
def nanmedian(x, axis=None, keepdims=False):
    """``median`` ignoring NaNs."""
    return _quantile(x, 0.5, axis, "linear", keepdims, True, "nanmedian")


def _nan_filled(x, value):
    """x with its NaNs replaced by ``value`` (no gradient flows to them)."""
    x = _tensor(x)
    if x.dtype.kind != "f":
        return x
    return _cast(ops.where(isnan(x), value, x), x.dtype)


@_export
def nansum(x, axis=None, keepdims=False):
    """``sum`` with NaNs counted as 0.   dL/dx = g, and 0 at the NaNs."""
    return sum(_nan_filled(x, 0), axis=axis, keepdims=keepdims)


@_export
def nanprod(x, axis=None, keepdims=False):
    """``prod`` with NaNs counted as 1.   dL/dx = that of prod, and 0 at the NaNs."""
    return prod(_nan_filled(x, 1), axis=axis, keepdims=keepdims)


@_export
def nanmean(x, axis=None, keepdims=False):
    """The mean of the non-NaN elements over ``axis``.   dL/dx = g / count, 0 at the NaNs."""
    x = _floating(x)
    count = ops.sum(_cast(logical_not(isnan(x)), x.dtype), axis=axis, keepdims=keepdims)
    return ops.sum(_nan_filled(x, 0), axis=axis, keepdims=keepdims) / count


@_export
def nanvar(x, axis=None, keepdims=False):
    """The variance of the non-NaN elements over ``axis``."""
    x = _floating(x)
    centred = x - nanmean(x, axis=axis, keepdims=True)
    return nanmean(centred * centred, axis=axis, keepdims=keepdims)


@_export
def nanstd(x, axis=None, keepdims=False):
    """The standard deviation of the non-NaN elements over ``axis``: sqrt(nanvar)."""
    return ops.sqrt(nanvar(x, axis=axis, keepdims=keepdims))


def _nan_extremum(x, axis, keepdims, largest):
    x = _tensor(x)
    if x.dtype.kind != "f":
        return (ops.max if largest else ops.min)(x, axis=axis, keepdims=keepdims)
    filled = _nan_filled(x, -np.inf if largest else np.inf)
    y = (ops.max if largest else ops.min)(filled, axis=axis, keepdims=keepdims)
    every = ops.all(ops.isnan(x), axis=_axis_tuple(axis), keepdims=keepdims)
    return _cast(ops.where(every, np.nan, y), x.dtype)


@_export
def nanmax(x, axis=None, keepdims=False):
    """The maximum over ``axis`` ignoring NaNs (NaN where all are).   dL/dx = g at the max."""
    return _nan_extremum(x, axis, keepdims, largest=True)


@_export
def nanmin(x, axis=None, keepdims=False):
    """The minimum over ``axis`` ignoring NaNs (NaN where all are).   dL/dx = g at the min."""
    return _nan_extremum(x, axis, keepdims, largest=False)


def _cumulative(x, axis, dtype, primitive):
    x = _tensor(x)
    dtype = standardize_dtype(dtype) if dtype is not None else _name(x)
    x = _cast(x, "int32" if dtype == "bool" else dtype)
    if axis is None:
        x, axis = ops.reshape(x, shape=(-1,)), 0
    return primitive(x, axis=axis)


@_export
def cumsum(x, axis=None, dtype=None):
    """y_i = x_0 + ... + x_i along ``axis`` (of the flattened x for None; bools give int32).
    dL/dx_i = g_i + ... + g_n."""
    return _cumulative(x, axis, dtype, ops.cumsum)


@_export
def cumprod(x, axis=None, dtype=None):
    """y_i = x_0 * ... * x_i along ``axis`` (of the flattened x for None; bools give int32).
    dL/dx_i = sum_{k >= i} g_k y_k / x_i."""
    return _cumulative(x, axis, dtype, ops.cumprod)


@_export
def nancumsum(x, axis=None, dtype=None):
    """``cumsum`` with NaNs counted as 0."""
    return _cumulative(_nan_filled(x, 0), axis, dtype, ops.cumsum)


@_export
def nancumprod(x, axis=None, dtype=None):
    """``cumprod`` with NaNs counted as 1."""
    return _cumulative(_nan_filled(x, 1), axis, dtype, ops.cumprod)


# ----- shapes and rearrangements -------------------------------------------------------------


@_export
def reshape(x, newshape):
    """y = x with shape ``newshape`` (one entry may be -1), same elements in C order.
    dL/dx = g reshaped back."""
    x = _tensor(x)
    newshape = (newshape,) if isinstance(newshape, int) else tuple(newshape)
    known = int(np.prod([n for n in newshape if n != -1]))
    if newshape.count(-1) > 1 or (
        x.size != known if -1 not in newshape else known == 0 or x.size % known
    ):
        raise ShapeError(
            f"reshape: cannot reshape a tensor of shape {x.shape} ({x.size} elements) into "
            f"shape {newshape}; the sizes must agree (at most one -1)"
        )
    return ops.reshape(x, shape=newshape)


@_export
def ravel(x):
    """y = x flattened to one axis, C order.   dL/dx = g reshaped back."""
    return ops.reshape(_tensor(x), shape=(-1,))


@_export
def transpose(x, axes=None):
    """y = x with its axes permuted by ``axes`` (reversed for None).   dL/dx = g permuted back."""
    return ops.transpose(_tensor(x), axes=None if axes is None else tuple(axes))


@_export
def swapaxes(x, axis1, axis2):
    """y = x with ``axis1`` and ``axis2`` exchanged.   dL/dx = g with them exchanged back."""
    return ops.swapaxes(_tensor(x), axis1=axis1, axis2=axis2)


@_export
def moveaxis(x, source, destination):
    """y = x with the axes ``source`` moved to the positions ``destination``, the others in
    order.   dL/dx = g with the axes moved back."""
    x = _tensor(x)
    source = [source] if isinstance(source, int) else list(source)
    destination = [destination] if isinstance(destination, int) else list(destination)
    if len(source) != len(destination):
        raise ValueError(
            f"moveaxis: source {source} and destination {destination} need as many axes"
        )
    source = [s % x.ndim for s in source]
    order = [d for d in range(x.ndim) if d not in source]
    for to, axis in sorted(zip((d % x.ndim for d in destination), source)):
        order.insert(to, axis)
    return ops.transpose(x, axes=tuple(order))


@_export
def expand_dims(x, axis):
    """y = x with new axes of size 1 at ``axis`` (an int or a tuple).   dL/dx = g reshaped."""
    return ops.expand_dims(_tensor(x), axis=tuple(axis) if isinstance(axis, list) else axis)


@_export
def squeeze(x, axis=None):
    """y = x without its axes of size 1 (only ``axis`` when given).   dL/dx = g reshaped."""
    return ops.squeeze(_tensor(x), axis=tuple(axis) if isinstance(axis, list) else axis)


@_export
def broadcast_to(x, shape):
    """y = x repeated along broadcast axes to ``shape``.   dL/dx = g summed over those axes."""
    return ops.broadcast_to(_tensor(x), shape=tuple(shape))


def _joined(xs):
    """The tensors of a sequence, cast to their common Keras dtype."""
    xs = [_tensor(x) for x in xs]
    if not xs:
        raise ValueError("needs at least one tensor to join")
    dtype = result_type(*xs)
    return [_cast(x, dtype) for x in xs]


@_export
def concatenate(xs, axis=0):
    """y = the tensors joined along ``axis`` (flattened first for None).
    dL/dx_i = the slice of g that x_i occupies."""
    xs = _joined(xs)
    if axis is None:
        xs, axis = [ops.reshape(x, shape=(-1,)) for x in xs], 0
    return ops.concatenate(xs, axis=axis)


@_export
def stack(x, axis=0):
    """y = the tensors stacked along a new ``axis``.   dL/dx_i = g at position i of that axis."""
    return ops.stack(_joined(x), axis=axis)


@_export
def append(x1, x2, axis=None):
    """y = x2 appended to x1 along ``axis`` (both flattened for None)."""
    return concatenate([x1, x2], axis=axis)


def _at_least(x, ndim):
    """x with axes of size 1 added as NumPy's atleast_2d / atleast_3d add them."""
    if x.ndim >= ndim:
        return x
    if x.ndim == 0:
        return ops.reshape(x, shape=(1,) * ndim)
    if x.ndim == 1:
        return ops.reshape(x, shape=(1, x.shape[0]) + (1,) * (ndim - 2))
    return ops.reshape(x, shape=x.shape + (1,))


@_export
def hstack(xs):
    """y = the tensors joined along axis 1 (axis 0 for 1-D tensors)."""
    xs = _joined(xs)
    return ops.concatenate(xs, axis=0 if xs[0].ndim <= 1 else 1)


@_export
def vstack(xs):
    """y = the tensors (1-D ones as rows) joined along axis 0."""
    return ops.concatenate([_at_least(x, 2) for x in _joined(xs)], axis=0)


@_export
def dstack(xs):
    """y = the tensors (made at least 3-D) joined along axis 2."""
    return ops.concatenate([_at_least(x, 3) for x in _joined(xs)], axis=2)


def _split(x, indices_or_sections, axis, even, name):
    x = _tensor(x)
    n = x.shape[axis]
    if isinstance(indices_or_sections, int):
        sections = indices_or_sections
        if even and n % sections:
            raise ValueError(
                f"{name}: axis {axis} of size {n} does not divide into {sections} equal parts; "
                f"use array_split for unequal parts"
            )
        sizes = [n // sections + (1 if i < n % sections else 0) for i in range(sections)]
        bounds = np.cumsum([0] + sizes)
    else:
        bounds = [0] + [int(i) for i in indices_or_sections] + [n]
    axis = axis % x.ndim
    pieces = []
    for start, stop in zip(bounds[:-1], bounds[1:]):
        index = (slice(None),) * axis + (slice(int(start), int(builtins.max(start, stop))),)
        pieces.append(ops.getitem(x, index=index))
    return pieces


@_export
def split(x, indices_or_sections, axis=0):
    """The list of pieces of x along ``axis``: ``indices_or_sections`` equal parts, or cut
    before each listed index.   Each piece's gradient lands in its slice."""
    return _split(x, indices_or_sections, axis, True, "split")


@_export
def array_split(x, indices_or_sections, axis=0):
    """``split`` that allows unequal parts (the first n % sections parts get one more)."""
    return _split(x, indices_or_sections, axis, False, "array_split")


@_export
def hsplit(x, indices_or_sections):
    """``split`` along axis 1 (axis 0 for 1-D x)."""
    x = _tensor(x)
    return _split(x, indices_or_sections, 0 if x.ndim == 1 else 1, True, "hsplit")


@_export
def vsplit(x, indices_or_sections):
    """``split`` along axis 0."""
    return _split(x, indices_or_sections, 0, True, "vsplit")


@_export
def dsplit(x, indices_or_sections):
    """``split`` along axis 2."""
    return _split(x, indices_or_sections, 2, True, "dsplit")


@_export
def flip(x, axis=None):
    """y = x reversed along ``axis`` (all axes for None).   dL/dx = g reversed back."""
    return ops.flip(_tensor(x), axis=axis)


@_export
def fliplr(x):
    """y = x reversed along axis 1."""
    return ops.flip(_tensor(x), axis=1)


@_export
def flipud(x):
    """y = x reversed along axis 0."""
    return ops.flip(_tensor(x), axis=0)


@_export
def rot90(array, k=1, axes=(0, 1)):
    """y = ``array`` rotated by 90 degrees ``k`` times in the plane of ``axes``, from the first
    axis towards the second.   dL/dx = g rotated back."""
    x = _tensor(array)
    if x.ndim < 2:
        raise ValueError(f"rot90: needs at least 2 dimensions; got shape {x.shape}")
    a0, a1 = (a % x.ndim for a in axes)
    if a0 == a1:
        raise ValueError(f"rot90: the two axes must differ; got {axes}")
    k %= 4
    if k == 0:
        return x
    if k == 2:
        return ops.flip(x, axis=(a0, a1))
    order = list(range(x.ndim))
    order[a0], order[a1] = a1, a0
    if k == 1:
        return ops.transpose(ops.flip(x, axis=a1), axes=tuple(order))
    return ops.flip(ops.transpose(x, axes=tuple(order)), axis=a1)


@_export
def roll(x, shift, axis=None):
    """y = x shifted by ``shift`` along ``axis`` (the flattened x for None), wrapping around.
    dL/dx = g rolled back."""
    return ops.roll(_tensor(x), shift, axis=axis)


@_export
def tile(x, repeats):
    """y = x laid out ``repeats[i]`` times along each axis i.   dL/dx = the sum over copies."""
    return ops.tile(_tensor(x), repeats)


@_export
def repeat(x, repeats, axis=None):
    """y = each element repeated ``repeats`` times along ``axis`` (of the flattened x for
    None).   dL/dx = the sum of g over each element's copies."""
    return ops.repeat(_tensor(x), repeats, axis=axis)


@_export
def pad(x, pad_width, mode="constant", constant_values=None):
    """y = x padded by ``pad_width`` ((before, after) per axis, or one pair or number for all):
    with ``constant_values`` (0) for mode "constant", or by copying x's own entries for
    "reflect", "symmetric", "edge" and "wrap".   dL/dx = g over x's place, plus the gradients of
    the copies of each entry."""
    x = _tensor(x)
    widths = np.broadcast_to(np.asarray(pad_width, dtype=int), (x.ndim, 2))
    widths = tuple((int(a), int(b)) for a, b in widths)
    if mode == "constant":
        return ops.pad(x, pad_width=widths, constant_values=constant_values or 0)
    if constant_values is not None:
        raise ValueError(f"pad: constant_values applies to mode 'constant' only; got {mode!r}")
    if mode not in ("reflect", "symmetric", "edge", "wrap"):
        raise ValueError(
            f"pad: mode must be 'constant', 'reflect', 'symmetric', 'edge' or 'wrap'; got {mode!r}"
        )
    return ops.pad_by_index(x, widths, mode)


@_export
def take(x, indices, axis=None):
    """y = x[..., indices, ...] with ``indices`` on ``axis`` (of the flattened x for None;
    negative indices count from the end).   dL/dx = g scatter-added to the picked places."""
    indices = _tensor(indices)
    if indices.dtype.kind not in "iu":
        raise TypeError(f"take: indices must be integers; got {_name(indices)}")
    return ops.take(_tensor(x), indices, axis=axis)


@_export
def take_along_axis(x, indices, axis=None):
    """y[..., i, ...] = x[..., indices[..., i, ...], ...] along ``axis`` (both flattened for
    None).   dL/dx = g scatter-added to the picked places."""
    return ops.take_along_axis(_tensor(x), _tensor(indices), axis=axis)


@_export
def get_item(x, key):
    """y = x[key] (ints, slices, None, Ellipsis, integer or boolean arrays).
    dL/dx = g scatter-added to the picked places."""
    return _tensor(x)[key]


@_export
def tril(x, k=0):
    """y = x with the entries above its k-th diagonal set to 0 (last two axes).
    dL/dx = g with the same entries set to 0."""
    return ops.tril(_tensor(x), k)


@_export
def triu(x, k=0):
    """y = x with the entries below its k-th diagonal set to 0 (last two axes).
    dL/dx = g with the same entries set to 0."""
    return ops.triu(_tensor(x), k)


@_export
def diagonal(x, offset=0, axis1=0, axis2=1):
    """y[..., i] = x[i, i + offset] in the plane of ``axis1``, ``axis2`` (the other axes first).
    dL/dx = g placed back on that diagonal."""
    return ops.diagonal(_tensor(x), offset, axis1, axis2)


@_export
def diag(x, k=0):
    """For 1-D x: the square matrix with x on its k-th diagonal, zeros elsewhere. For 2-D x:
    its k-th diagonal.   dL/dx = the k-th diagonal of g, or g placed on it."""
    x = _tensor(x)
    if x.ndim == 2:
        return ops.diagonal(x, k)
    if x.ndim != 1:
        raise ValueError(f"diag: needs a 1-D or 2-D tensor; got shape {x.shape}")
    n = x.shape[0] + builtins.abs(k)
    i = np.arange(x.shape[0])
    index = (i - builtins.min(k, 0), i + builtins.max(k, 0))
    return ops.scatter_add(x, index=index, shape=(n, n))


@_export
def diagflat(x, k=0):
    """The square matrix with the flattened x on its k-th diagonal."""
    return diag(ravel(x), k)


@_export
def trace(x, offset=0, axis1=0, axis2=1):
    """y = the sum of x's diagonal in the plane of ``axis1``, ``axis2`` (small ints and bools
    sum in int32).   dL/dx = g on that diagonal, 0 elsewhere."""
    x = _tensor(x)
    x = _cast(x, _accumulating(_name(x)))
    return ops.sum(ops.diagonal(x, offset, axis1, axis2), axis=-1)


@_export
def where(condition, x1=None, x2=None):
    """y = x1 where ``condition`` else x2 (their common dtype); with neither x1 nor x2, the
    indices where the condition holds (``nonzero``).   dL/dx1 = g where the condition holds,
    dL/dx2 = g elsewhere."""
    if x1 is None and x2 is None:
        return nonzero(condition)
    if x1 is None or x2 is None:
        raise ValueError("where: give both x1 and x2, or neither")
    condition = _tensor(condition)
    x1, x2 = _pair(x1, x2)
    return ops.where(_cast(condition, "bool"), x1, x2)


@_export
def select(condlist, choicelist, default=0):
    """y = choicelist[i] at the first i whose condlist[i] holds, ``default`` where none does.
    The gradient goes to the chosen tensor at each place."""
    if len(condlist) != len(choicelist):
        raise ValueError(
            f"select: condlist has {len(condlist)} entries and choicelist {len(choicelist)}; "
            f"they must be as many"
        )
    if not condlist:
        raise ValueError("select: condlist must not be empty")
    choices = _joined(list(choicelist))
    dtype = result_type(choices[0], default)
    out = _tensor(default, dtype)
    for condition, choice in reversed(list(zip(condlist, choices))):
        out = ops.where(_cast(_tensor(condition), "bool"), _cast(choice, dtype), out)
    return _cast(
        ops.broadcast_to(out, shape=np.broadcast_shapes(*[c.shape for c in choices])), dtype
    )


@_export
def nonzero(x):
    """The indices of x's non-zero elements: a tuple of int32 Tensors, one per axis."""
    return tuple(_constant(i, "int32") for i in np.nonzero(values_of(_tensor(x))))


@_export
def meshgrid(*x, indexing="xy"):
    """Coordinate grids from 1-D tensors: with ``indexing="ij"`` the i-th grid has x_i along
    axis i; "xy" swaps the first two axes (NumPy's default).   dL/dx_i = g_i summed over the
    other axes."""
    if indexing not in ("xy", "ij"):
        raise ValueError(f"meshgrid: indexing must be 'xy' or 'ij'; got {indexing!r}")
    xs = [ravel(v) for v in x]
    shape = [v.shape[0] for v in xs]
    if indexing == "xy" and len(xs) >= 2:
        shape[0], shape[1] = shape[1], shape[0]
    grids = []
    for i, v in enumerate(xs):
        axis = (1 - i if i < 2 else i) if indexing == "xy" and len(xs) >= 2 else i
        view = ops.reshape(v, shape=tuple(-1 if d == axis else 1 for d in range(len(xs))))
        grids.append(ops.broadcast_to(view, shape=tuple(shape)))
    return grids


# ----- sorting, searching and counting (no gradient, except sort) ----------------------------


@_export
def sort(x, axis=-1):
    """y = x sorted ascending along ``axis`` (NaNs last).   dL/dx_i = g where x_i landed."""
    return ops.sort(_tensor(x), axis=axis)


@_export
def argsort(x, axis=-1):
    """The indices that sort x along ``axis`` (of the flattened x for None), int32."""
    x = _tensor(x)
    if axis is None:
        x, axis = ops.reshape(x, shape=(-1,)), -1
    return _cast(ops.argsort(x, axis=axis), "int32")


@_export
def argpartition(x, kth, axis=-1):
    """Indices that put the kth element of x along ``axis`` in its sorted place, smaller ones
    before and larger after (in no set order), int32."""
    return _constant(np.argpartition(values_of(_tensor(x)), kth, axis=axis), "int32")


@_export
def searchsorted(sorted_sequence, values, side="left"):
    """For each value, the index where it would be inserted into the sorted 1-D sequence to
    keep it sorted (before equal entries for side "left", after for "right"), int32."""
    sequence = _tensor(sorted_sequence)
    if sequence.ndim != 1:
        raise ValueError(f"searchsorted: needs a 1-D sorted sequence; got shape {sequence.shape}")
    return _constant(
        np.searchsorted(values_of(sequence), values_of(_tensor(values)), side=side), "int32"
    )


@_export
def digitize(x, bins):
    """The index of the bin each element of x falls in (bins increasing: i with
    bins[i-1] <= x < bins[i]), int32."""
    return _constant(np.digitize(values_of(_tensor(x)), values_of(_tensor(bins))), "int32")


@_export
def bincount(x, weights=None, minlength=0, sparse=False):
    """The number of times each non-negative int occurs in x (or the sum of its ``weights``),
    at least ``minlength`` long; a 2-D x counts each row. int32 counts, or the weights' dtype."""
    if sparse:
        raise ValueError("bincount: sparse outputs are not supported; use sparse=False")
    x = _tensor(x)
    if x.dtype.kind not in "iu":
        raise TypeError(f"bincount: needs non-negative integers; got {_name(x)}")
    w = None if weights is None else _tensor(weights)
    dtype = "int32" if w is None else result_type(w.dtype)
    x_values, w_values = values_of(x), None if w is None else values_of(w)
    length = builtins.max(minlength, int(x_values.max()) + 1 if x.size else 0)
    if x.ndim == 1:
        counts = np.bincount(x_values, w_values, length)
    else:
        counts = np.stack(
            [
                np.bincount(row, None if w is None else w_values[i], length)
                for i, row in enumerate(x_values)
            ]
        )
    return _constant(counts, dtype)


@_export
def histogram(x, bins=10, range=None):
    """(counts, bin_edges): the number of elements of x in each of ``bins`` equal bins over
    ``range`` (x's min and max by default); both in x's floating dtype (float32 for ints)."""
    x = _floating(x)
    if x.ndim != 1:
        raise ValueError(f"histogram: needs a 1-D tensor; got shape {x.shape}")
    counts, edges = np.histogram(values_of(x), bins=bins, range=range)
    return _constant(counts, x.dtype), _constant(edges, x.dtype)


@_export
def unique(
    x,
    sorted=True,
    return_index=False,
    return_inverse=False,
    return_counts=False,
    axis=None,
    size=None,
    fill_value=None,
):
    """The sorted unique elements of x (slices along ``axis`` when given), and with the flags
    the first indices, the inverse indices and the counts (int32). With ``size``, exactly that
    many values: cut, or padded with ``fill_value`` (the smallest value by default)."""
    x = _tensor(x)
    out = np.unique(
        values_of(x),
        return_index=return_index,
        return_inverse=return_inverse,
        return_counts=return_counts,
        axis=axis,
    )
    out = list(out) if isinstance(out, tuple) else [out]
    if size is not None:
        dim = 0 if axis is None else axis % x.ndim
        values = out[0]
        have = values.shape[dim]
        cut = (slice(None),) * dim + (slice(0, size),)
        if have >= size:
            out[0] = values[cut]
        else:
            fill = values.min() if fill_value is None and values.size else fill_value or 0
            widths = [(0, 0)] * values.ndim
            widths[dim] = (0, size - have)
            out[0] = np.pad(values, widths, constant_values=fill)
        positions = [1] if return_index else []
        positions += [len(out) - 1] if return_counts else []
        for p in positions:
            extra = out[p][:size]
            out[p] = np.pad(extra, (0, size - extra.shape[0]))
    result = (_constant(out[0]),) + tuple(_constant(o, "int32") for o in out[1:])
    return result[0] if len(result) == 1 else result


@_export
def unravel_index(indices, shape):
    """The coordinates of flat ``indices`` in an array of ``shape``: a tuple of Tensors, one per
    axis, in the indices' dtype."""
    indices = _tensor(indices)
    return tuple(_constant(c, _name(indices)) for c in np.unravel_index(values_of(indices), shape))


# ----- creation ------------------------------------------------------------------------------


def _dtype_of(value):
    """A value's dtype for promotion: a Tensor's or array's dtype, or its Python type (weak)."""
    return getattr(value, "dtype", type(value))


def _shape_tuple(shape):
    return (int(shape),) if np.ndim(shape) == 0 else tuple(int(n) for n in shape)


@_export
def zeros(shape, dtype=None):
    """A Tensor of zeros of ``shape`` (float32 by default)."""
    return _constant(np.zeros(_shape_tuple(shape), standardize_dtype(dtype)))


@_export
def ones(shape, dtype=None):
    """A Tensor of ones of ``shape`` (float32 by default)."""
    return _constant(np.ones(_shape_tuple(shape), standardize_dtype(dtype)))


@_export
def empty(shape, dtype=None):
    """A Tensor of ``shape`` (float32 by default), filled with zeros."""
    return zeros(shape, dtype)


@_export
def full(shape, fill_value, dtype=None):
    """A Tensor of ``shape`` filled with ``fill_value`` (float32 by default)."""
    fill = values_of(fill_value) if isinstance(fill_value, Tensor) else fill_value
    return _constant(np.full(_shape_tuple(shape), fill, standardize_dtype(dtype)))


def _like(x, dtype):
    x = _tensor(x)
    return x, standardize_dtype(dtype) if dtype is not None else _name(x)


@_export
def zeros_like(x, dtype=None):
    """Zeros of x's shape, in x's dtype unless ``dtype`` is given."""
    x, dtype = _like(x, dtype)
    return _constant(np.zeros(x.shape, dtype))


@_export
def ones_like(x, dtype=None):
    """Ones of x's shape, in x's dtype unless ``dtype`` is given."""
    x, dtype = _like(x, dtype)
    return _constant(np.ones(x.shape, dtype))


@_export
def empty_like(x, dtype=None):
    """A Tensor of x's shape (and dtype unless ``dtype`` is given), filled with zeros."""
    return zeros_like(x, dtype)


@_export
def full_like(x, fill_value, dtype=None):
    """``fill_value`` in x's shape, in x's dtype unless ``dtype`` is given."""
    x, dtype = _like(x, dtype)
    fill = values_of(fill_value) if isinstance(fill_value, Tensor) else fill_value
    return _constant(np.full(x.shape, fill, dtype))


@_export
def array(x, dtype=None):
    """x as a Tensor (Python floats float32, ints int32), in ``dtype`` when given."""
    return _tensor(x, dtype)


@_export
def copy(x):
    """A copy of x.   dL/dx = g."""
    x = _tensor(x)
    return ops.cast(x, dtype=x.dtype)


@_export
def view(x, dtype=None):
    """x's bytes read as ``dtype`` (the last axis scales by the ratio of item sizes; no
    gradient)."""
    x = _tensor(x)
    return x if dtype is None else _constant(values_of(x).view(standardize_dtype(dtype)))


@_export
def arange(start, stop=None, step=None, dtype=None):
    """The numbers start, start + step, ... below ``stop`` (from 0 when only one bound is
    given); int32 for Python ints, float32 for floats, unless ``dtype`` is given."""
    if dtype is None:
        given = [v for v in (start, stop, step) if v is not None]
        dtype = result_type(*[_dtype_of(v) for v in given])
    if stop is None:
        start, stop = 0, start
    return _constant(
        np.arange(start, stop, 1 if step is None else step, dtype=standardize_dtype(dtype))
    )


@_export
def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    """``num`` evenly spaced numbers from ``start`` to ``stop`` (included with ``endpoint``),
    float32 unless ``dtype`` is given; with ``retstep``, (numbers, step)."""
    if dtype is None:
        dtype = result_type(_dtype_of(start), _dtype_of(stop), float)
    start, stop = np.asarray(start), np.asarray(stop)
    out = np.linspace(start, stop, num, endpoint, retstep, standardize_dtype(dtype), axis)
    if retstep:
        return _constant(out[0]), _constant(np.asarray(out[1], out[0].dtype))
    return _constant(out)


@_export
def logspace(start, stop, num=50, endpoint=True, base=10, dtype=None, axis=0):
    """base ** linspace(start, stop, num): numbers evenly spaced on a log scale."""
    if dtype is None:
        dtype = result_type(_dtype_of(start), _dtype_of(stop), float)
    start, stop = np.asarray(start), np.asarray(stop)
    return _constant(np.logspace(start, stop, num, endpoint, base, standardize_dtype(dtype), axis))


@_export
def geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    """``num`` numbers from ``start`` to ``stop`` in a geometric progression (float32)."""
    start, stop = np.asarray(start), np.asarray(stop)
    return _constant(np.geomspace(start, stop, num, endpoint, standardize_dtype(dtype), axis))


@_export
def eye(N, M=None, k=0, dtype=None):
    """The N x M matrix with ones on the k-th diagonal, zeros elsewhere (float32)."""
    return _constant(np.eye(N, M, k, dtype=standardize_dtype(dtype)))


@_export
def identity(n, dtype=None):
    """The n x n identity matrix (float32)."""
    return eye(n, dtype=dtype)


@_export
def tri(N, M=None, k=0, dtype=None):
    """The N x M matrix with ones on and below the k-th diagonal, zeros above (float32)."""
    return _constant(np.tri(N, M, k, dtype=standardize_dtype(dtype)))


def _window(name, fn, doc):
    def op(x):
        return _constant(fn(int(values_of(_tensor(x)))), config.floatx())

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc + " of ``x`` points, float32."
    return _export(op)


bartlett = _window("bartlett", np.bartlett, "The Bartlett (triangular) window")
blackman = _window("blackman", np.blackman, "The Blackman window")
hamming = _window("hamming", np.hamming, "The Hamming window")
hanning = _window("hanning", np.hanning, "The Hann window")


@_export
def kaiser(x, beta):
    """The Kaiser window of ``x`` points and shape parameter ``beta``, float32."""
    return _constant(np.kaiser(int(values_of(_tensor(x))), beta), config.floatx())


@_export
def vander(x, N=None, increasing=False):
    """The Vandermonde matrix of the 1-D x: columns x^(N-1), ..., x, 1 (reversed with
    ``increasing``); N = len(x) by default.   dL/dx = sum over columns of g k x^(k-1)."""
    x = _tensor(x)
    if x.ndim != 1:
        raise ValueError(f"vander: needs a 1-D tensor; got shape {x.shape}")
    n = x.shape[0] if N is None else N
    columns, power_ = [], ops.cast(ops.broadcast_to(_tensor(1, _name(x)), shape=x.shape), x.dtype)
    for _ in range(n):
        columns.append(power_)
        power_ = power_ * x
    if not increasing:
        columns.reverse()
    return ops.stack(columns, axis=1) if columns else _constant(np.zeros((x.shape[0], 0), x.dtype))


@_export
def size(x):
    """The number of elements of x, as an int."""
    return _tensor(x).size


@_export
def ndim(x):
    """The number of axes of x, as an int."""
    return _tensor(x).ndim


# ----- products ------------------------------------------------------------------------------


@_export
def matmul(x1, x2):
    """y = x1 @ x2: matrix products, batched over leading axes, vectors promoted as in NumPy
    (two int8 tensors give int32).   dL/dx1 = g @ x2ᵀ,   dL/dx2 = x1ᵀ @ g."""
    x1, x2 = _tensor(x1), _tensor(x2)
    dtype = "int32" if _name(x1) == _name(x2) == "int8" else result_type(x1, x2)
    return ops.matmul(_cast(x1, dtype), _cast(x2, dtype))


@_export
def dot(x1, x2):
    """NumPy's dot: x1 * x2 for a scalar; sum over the last axis of x1 and the second-to-last
    (only) axis of x2 otherwise.   The gradient is that of the product."""
    x1, x2 = _pair(x1, x2)
    if x1.ndim == 0 or x2.ndim == 0:
        return x1 * x2
    return ops.tensordot(x1, x2, axes=([-1], [-2 if x2.ndim >= 2 else 0]))


@_export
def inner(x1, x2):
    """y = the sum over the last axes of x1 and x2 of their product (x1 * x2 for a scalar)."""
    x1, x2 = _pair(x1, x2)
    if x1.ndim == 0 or x2.ndim == 0:
        return x1 * x2
    return ops.tensordot(x1, x2, axes=([-1], [-1]))


@_export
def outer(x1, x2):
    """y[i, j] = x1_i x2_j of the flattened x1, x2.   dL/dx1 = g @ x2,   dL/dx2 = gᵀ @ x1."""
    x1, x2 = _pair(x1, x2)
    return ops.reshape(x1, shape=(-1, 1)) * ops.reshape(x2, shape=(1, -1))


@_export
def vdot(x1, x2):
    """y = the sum of x1_i x2_i over the flattened tensors.   dL/dx1 = g x2,   dL/dx2 = g x1."""
    x1, x2 = _pair(x1, x2)
    if x1.size != x2.size:
        raise ShapeError(
            f"vdot: tensors of {x1.size} and {x2.size} elements ({x1.shape}, {x2.shape})"
        )
    return ops.sum(ops.reshape(x1, shape=(-1,)) * ops.reshape(x2, shape=(-1,)))


@_export
def tensordot(x1, x2, axes=2):
    """y = the sum over paired axes of x1 and x2 of their product (``axes=N``: the last N of x1
    with the first N of x2).   The gradient is einsum's."""
    return ops.tensordot(*_pair(x1, x2), axes=axes)


@_export
def einsum(subscripts, *operands, **kwargs):
    """The Einstein sum: letters name axes, shared letters multiply, letters missing from the
    output are summed ("ij,jk->ik" is matmul). Int8 operands compute in int32.
    dL/d(operand) = einsum of g with the other operands into that operand's letters."""
    if not isinstance(subscripts, str):  # NumPy's interleaved form: a, [0, 1], b, [1], [0]
        subscripts, operands = _interleaved_subscripts((subscripts,) + operands)
    operands = [_tensor(o) for o in operands]
    dtype = result_type(*operands)
    if dtype == "int8":
        dtype = "int32"
    return ops.einsum(subscripts, *[_cast(o, dtype) for o in operands])


def _interleaved_subscripts(args):
    """(subscripts, operands) from einsum's form operand, axes, operand, axes, ..., [output],
    where axes are lists of ints (and Ellipsis)."""

    def letters(axes):
        return "".join("..." if a is Ellipsis else chr(ord("a") + a) for a in axes)

    operands, terms = list(args[0:-1:2]), ",".join(letters(a) for a in args[1::2])
    if len(args) % 2:  # an output list closes the arguments
        return terms + "->" + letters(args[-1]), operands
    return terms, operands


@_export
def kron(x1, x2):
    """The Kronecker product: blocks x1[i] * x2, laid out by x1's index.
    dL/dx1[i] = sum of g's block i times x2,   dL/dx2 = the sum over blocks of x1[i] g's block."""
    x1, x2 = _pair(x1, x2)
    n = builtins.max(x1.ndim, x2.ndim)
    s1 = (1,) * (n - x1.ndim) + x1.shape
    s2 = (1,) * (n - x2.ndim) + x2.shape
    a = ops.reshape(x1, shape=tuple(v for m in s1 for v in (m, 1)))
    b = ops.reshape(x2, shape=tuple(v for m in s2 for v in (1, m)))
    return ops.reshape(a * b, shape=tuple(p * q for p, q in zip(s1, s2)))


@_export
def cross(x1, x2, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """The cross product of vectors of 3 (or 2) components along ``axisa`` of x1 and ``axisb``
    of x2, the result's components along ``axisc`` (``axis`` sets all three).
    dL/dx1 = x2 × g,   dL/dx2 = g × x1 (for 3-vectors)."""
    if axis is not None:
        axisa = axisb = axisc = axis
    x1, x2 = _pair(x1, x2)
    a, b = moveaxis(x1, axisa, -1), moveaxis(x2, axisb, -1)
    if a.shape[-1] not in (2, 3) or b.shape[-1] not in (2, 3):
        raise ValueError(
            f"cross: the vectors need 2 or 3 components; got shapes {x1.shape} (axis {axisa}) "
            f"and {x2.shape} (axis {axisb})"
        )
    a0, a1 = a[..., 0], a[..., 1]
    b0, b1 = b[..., 0], b[..., 1]
    a2 = a[..., 2] if a.shape[-1] == 3 else None
    b2 = b[..., 2] if b.shape[-1] == 3 else None
    z = a0 * b1 - a1 * b0
    if a2 is None and b2 is None:
        return z
    a2 = a2 if a2 is not None else 0 * a0
    b2 = b2 if b2 is not None else 0 * b0
    c = ops.stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, z], axis=-1)
    return moveaxis(c, -1, axisc)


@_export
def slogdet(x):
    """(sign, log|det x|) of square matrices (batched over leading axes), computed on the
    arrays (no gradient)."""
    x = _floating(x)
    sign_, logdet = np.linalg.slogdet(values_of(x))
    return _constant(sign_.astype(x.dtype)), _constant(logdet.astype(x.dtype))


@_export
def correlate(x1, x2, mode="valid"):
    """The cross-correlation of 1-D x1 and x2: c[k] = sum_n x1[n + k] x2[n], for the k of mode
    "valid" (full overlap), "same" (len(x1) outputs) or "full" (any overlap). Ints give
    float32.   dL/dx1, dL/dx2: the same sums with g in place of the output."""
    x1, x2 = _pair(x1, x2, float)
    if x1.ndim != 1 or x2.ndim != 1:
        raise ValueError(f"correlate: needs 1-D tensors; got shapes {x1.shape} and {x2.shape}")
    if mode not in ("valid", "same", "full"):
        raise ValueError(f"correlate: mode must be 'valid', 'same' or 'full'; got {mode!r}")
    m, n = x1.shape[0], x2.shape[0]
    padded = ops.pad(x1, pad_width=((n - 1, n - 1),))
    windows = padded[np.arange(m + n - 1)[:, None] + np.arange(n)[None, :]]  # (m + n - 1, n)
    full_ = ops.matmul(windows, x2)  # k = -(n - 1) ... m - 1
    if mode == "full":
        return full_
    length = builtins.max(m, n) if mode == "same" else builtins.max(m, n) - builtins.min(m, n) + 1
    start = (m + n - 1 - length) // 2 if mode == "same" else builtins.min(m, n) - 1
    if mode == "same" and m < n:
        start = (m + n - 1 - length + 1) // 2
    return full_[start : start + length]


@_export
def corrcoef(x):
    """The Pearson correlation matrix of the rows of x (each a variable, columns the
    observations): cov_ij / sqrt(cov_ii cov_jj).   Differentiable through the covariance."""
    x = _floating(x)
    x = x if x.ndim == 2 else ops.reshape(x, shape=(1, -1))
    centred = x - ops.mean(x, axis=1, keepdims=True)
    cov = ops.matmul(centred, centred.mT)
    scale = ops.sqrt(ops.diagonal(cov))
    r = cov / (ops.reshape(scale, shape=(-1, 1)) * ops.reshape(scale, shape=(1, -1)))
    r = ops.clip(r, -1, 1)
    return r[0, 0] if r.shape == (1, 1) else r


@_export
def diff(a, n=1, axis=-1):
    """The n-th discrete difference along ``axis``: y_i = a_(i+1) - a_i, applied n times.
    dL/da = the corresponding differences of g (negated and shifted)."""
    a = _tensor(a)
    axis = axis % a.ndim
    for _ in range(n):
        head = (slice(None),) * axis + (slice(1, None),)
        tail = (slice(None),) * axis + (slice(None, -1),)
        a = a[head] - a[tail] if a.dtype != np.bool_ else not_equal(a[head], a[tail])
    return a


@_export
def trapezoid(y, x=None, dx=1.0, axis=-1):
    """The trapezoidal-rule integral of y along ``axis``: sum (y_i + y_(i+1)) / 2 * dx_i with
    dx_i = x_(i+1) - x_i (or the constant ``dx``).   Differentiable in y and x."""
    y = _floating(y)
    axis = axis % y.ndim
    head = (slice(None),) * axis + (slice(1, None),)
    tail = (slice(None),) * axis + (slice(None, -1),)
    if x is None:
        widths = dx
    else:
        x = _tensor(x, _name(y))
        widths = diff(x, axis=-1 if x.ndim == 1 else axis)
        if x.ndim == 1:
            widths = ops.reshape(widths, shape=tuple(-1 if d == axis else 1 for d in range(y.ndim)))
    return ops.sum((y[head] + y[tail]) * widths, axis=axis) / 2


@_export
def vectorize(pyfunc, *, excluded=None, signature=None):
    """``pyfunc`` made to apply elementwise (or by ``signature``, e.g. "(n),(n)->()") over
    its inputs' leading axes; the results are Tensors without gradient."""
    excluded = set() if excluded is None else set(excluded)

    def on_arrays(*args, **kwargs):
        return np.asarray(pyfunc(*args, **kwargs))

    vectorized = np.vectorize(on_arrays, excluded=excluded, signature=signature)

    def apply(*args, **kwargs):
        args = [a if i in excluded else values_of(_tensor(a)) for i, a in enumerate(args)]
        return _constant(vectorized(*args, **kwargs))

    return apply
