"""Elementwise primitives: arithmetic, the classic nonlinearities, and comparisons.

Each forward is a plain function on raw arrays; its VJPs sit right below it, written with
operators and other primitives only, so that they run on arrays in a plain backward pass and on
Tensors when the backward pass is itself recorded (``create_graph=True``). ``g`` is the upstream
gradient dL/dy and ``y`` the forward output; the engine sums broadcast gradients back to each
input's shape.
"""

import math
import numbers

import numpy

from ..backend import xp_of
from ..engine import primitive

# ----- arithmetic --------------------------------------------------------------------------------


@primitive
def add(a, b):
    """y = a + b.   dL/da = g,   dL/db = g."""
    return a + b


@add.defvjp(0)
def _add_vjp_a(g, y, a, b):
    return g


@add.defvjp(1)
def _add_vjp_b(g, y, a, b):
    return g


@primitive
def sub(a, b):
    """y = a - b.   dL/da = g,   dL/db = -g."""
    return a - b


@sub.defvjp(0)
def _sub_vjp_a(g, y, a, b):
    return g


@sub.defvjp(1)
def _sub_vjp_b(g, y, a, b):
    return -g


@primitive
def mul(a, b):
    """y = a * b.   dL/da = g * b,   dL/db = g * a."""
    return a * b


@mul.defvjp(0)
def _mul_vjp_a(g, y, a, b):
    return g * b


@mul.defvjp(1)
def _mul_vjp_b(g, y, a, b):
    return g * a


@primitive
def div(a, b):
    """y = a / b.   dL/da = g / b,   dL/db = -g * a / b^2 = -g * y / b."""
    return a / b


@div.defvjp(0)
def _div_vjp_a(g, y, a, b):
    return g / b


@div.defvjp(1)
def _div_vjp_b(g, y, a, b):
    return -g * y / b


@primitive
def neg(a):
    """y = -a.   dL/da = -g."""
    return -a


@neg.defvjp(0)
def _neg_vjp(g, y, a):
    return -g


@primitive
def pow(a, b):
    """y = a ** b.   dL/da = g * b * a^(b-1),   dL/db = g * y * log(a)  (0 where a <= 0)."""
    return a**b


@pow.defvjp(0)
def _pow_vjp_a(g, y, a, b):
    return g * b * a ** (b - 1)


@pow.defvjp(1)
def _pow_vjp_b(g, y, a, b):
    positive = a > 0
    return g * where(positive, y * log(where(positive, a, 1)), 0)


# ----- nonlinearities ----------------------------------------------------------------------------


@primitive
def exp(a):
    """y = e^a.   dL/da = g * y."""
    return xp_of(a).exp(a)


@exp.defvjp(0)
def _exp_vjp(g, y, a):
    return g * y


@primitive
def log(a):
    """y = ln a.   dL/da = g / a."""
    return xp_of(a).log(a)


@log.defvjp(0)
def _log_vjp(g, y, a):
    return g / a


@primitive
def sqrt(a):
    """y = sqrt(a).   dL/da = g / (2 y)."""
    return xp_of(a).sqrt(a)


@sqrt.defvjp(0)
def _sqrt_vjp(g, y, a):
    return g * 0.5 / y


@primitive
def tanh(a):
    """y = tanh a.   dL/da = g * (1 - y^2)."""
    return xp_of(a).tanh(a)


@tanh.defvjp(0)
def _tanh_vjp(g, y, a):
    return g * (1 - y * y)


@primitive
def sigmoid(a):
    """y = 1 / (1 + e^-a), computed without overflow for large |a|.   dL/da = g * y * (1 - y)."""
    xp = xp_of(a)
    e = xp.exp(-xp.abs(a))  # in (0, 1]: never overflows
    return xp.where(a >= 0, 1 / (1 + e), e / (1 + e))


@sigmoid.defvjp(0)
def _sigmoid_vjp(g, y, a):
    return g * y * (1 - y)


@primitive
def softplus(a):
    """y = log(1 + e^a) = max(a, 0) + log(1 + e^-|a|).   dL/da = g * sigmoid(a)."""
    xp = xp_of(a)
    return xp.maximum(a, 0) + xp.log1p(xp.exp(-xp.abs(a)))


@softplus.defvjp(0)
def _softplus_vjp(g, y, a):
    return g * sigmoid(a)


@primitive
def relu(a):
    """y = max(a, 0).   dL/da = g where a > 0, else 0."""
    return xp_of(a).maximum(a, 0)


@relu.defvjp(0)
def _relu_vjp(g, y, a):
    return g * (a > 0)


@primitive
def leaky_relu(a, alpha=0.2):
    """y = a if a > 0 else alpha * a (Keras's default alpha is 0.2).   dL/da = g or alpha * g.

    With 0 < alpha <= 1 (Keras's LeakyReLU), y = max(a, alpha a): two passes over a, where
    choosing by a > 0 takes three and NumPy's ``where`` on floats runs several times slower
    (alpha = 0 stays with the choice: inf times 0 is NaN)."""
    xp = xp_of(a)
    if isinstance(alpha, numbers.Real) and 0 < alpha <= 1:
        return xp.maximum(a, a * alpha)
    return xp.where(a > 0, a, a * alpha)


@leaky_relu.defvjp(0)
def _leaky_relu_vjp(g, y, a, alpha=0.2):
    return where(a > 0, g, g * alpha)


#: SELU's constants (Klambauer et al., 2017): selu(a) = SELU_SCALE elu(a, SELU_ALPHA), whose
#: outputs keep mean 0 and variance 1 through a layer of normalised weights.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


@primitive
def elu(a, alpha=1.0):
    """y = a if a > 0 else alpha * (e^a - 1).   dL/da = g if a > 0 else g * (y + alpha)."""
    xp = xp_of(a)
    return xp.where(a > 0, a, alpha * xp.expm1(xp.minimum(a, 0)))


@elu.defvjp(0)
def _elu_vjp(g, y, a, alpha=1.0):
    return where(a > 0, g, g * (y + alpha))


_erf = numpy.vectorize(math.erf, otypes=[numpy.float64])


@primitive
def erf(a):
    """y = erf(a) = (2/√π) ∫_0^a e^(-t²) dt.   dL/da = g * (2/√π) e^(-a²)."""
    return _erf(a).astype(a.dtype)


@erf.defvjp(0)
def _erf_vjp(g, y, a):
    return g * exp(-(a * a)) * (2 / math.sqrt(math.pi))


@primitive
def abs(a):
    """y = |a|.   dL/da = g * sign(a)  (0 at a = 0)."""
    return xp_of(a).abs(a)


@abs.defvjp(0)
def _abs_vjp(g, y, a):
    return g * sign(a)


@primitive
def maximum(a, b):
    """y = max(a, b).   dL/da = g where a >= b,   dL/db = g where a < b (ties go to a, as in TF)."""
    return xp_of(a, b).maximum(a, b)


@maximum.defvjp(0)
def _maximum_vjp_a(g, y, a, b):
    return g * (a >= b)


@maximum.defvjp(1)
def _maximum_vjp_b(g, y, a, b):
    return g * (a < b)


@primitive
def minimum(a, b):
    """y = min(a, b).   dL/da = g where a <= b,   dL/db = g where a > b (ties go to a, as in TF)."""
    return xp_of(a, b).minimum(a, b)


@minimum.defvjp(0)
def _minimum_vjp_a(g, y, a, b):
    return g * (a <= b)


@minimum.defvjp(1)
def _minimum_vjp_b(g, y, a, b):
    return g * (a > b)


@primitive
def clip(a, lo, hi):
    """y = min(max(a, lo), hi).   dL/da = g where lo <= a <= hi, else 0 (as TF's clip_by_value)."""
    return xp_of(a).clip(a, lo, hi)


@clip.defvjp(0)
def _clip_vjp(g, y, a, lo, hi):
    return g * ((a >= lo) * (a <= hi))


@primitive(constants=(0,))
def where(condition, a, b):
    """y = a where condition else b.   dL/da = g where condition,   dL/db = g elsewhere (the
    condition, a mask, takes none)."""
    return xp_of(a, b).where(condition, a, b)


@where.defvjp(1)
def _where_vjp_a(g, y, condition, a, b):
    return where(condition, g, 0)


@where.defvjp(2)
def _where_vjp_b(g, y, condition, a, b):
    return where(condition, 0, g)


@primitive
def cast(a, dtype):
    """y = a converted to ``dtype``.   dL/da = g converted back to a's dtype."""
    return a.astype(dtype)


@cast.defvjp(0)
def _cast_vjp(g, y, a, dtype):
    return g.astype(a.dtype)


# ----- trigonometric, hyperbolic and the accurate logarithms/exponentials ---------------------


@primitive
def sin(a):
    """y = sin a.   dL/da = g * cos a."""
    return xp_of(a).sin(a)


@sin.defvjp(0)
def _sin_vjp(g, y, a):
    return g * cos(a)


@primitive
def cos(a):
    """y = cos a.   dL/da = -g * sin a."""
    return xp_of(a).cos(a)


@cos.defvjp(0)
def _cos_vjp(g, y, a):
    return -g * sin(a)


@primitive
def tan(a):
    """y = tan a.   dL/da = g * (1 + y^2)."""
    return xp_of(a).tan(a)


@tan.defvjp(0)
def _tan_vjp(g, y, a):
    return g * (1 + y * y)


@primitive
def arcsin(a):
    """y = arcsin a, for |a| <= 1.   dL/da = g / sqrt(1 - a^2)."""
    return xp_of(a).arcsin(a)


@arcsin.defvjp(0)
def _arcsin_vjp(g, y, a):
    return g / sqrt(1 - a * a)


@primitive
def arccos(a):
    """y = arccos a, for |a| <= 1.   dL/da = -g / sqrt(1 - a^2)."""
    return xp_of(a).arccos(a)


@arccos.defvjp(0)
def _arccos_vjp(g, y, a):
    return -g / sqrt(1 - a * a)


@primitive
def arctan(a):
    """y = arctan a.   dL/da = g / (1 + a^2)."""
    return xp_of(a).arctan(a)


@arctan.defvjp(0)
def _arctan_vjp(g, y, a):
    return g / (1 + a * a)


@primitive
def arctan2(a, b):
    """y = atan2(a, b), the angle of the point (b, a) in (-pi, pi].

    dL/da = g * b / (a^2 + b^2),   dL/db = -g * a / (a^2 + b^2).
    """
    return xp_of(a, b).arctan2(a, b)


@arctan2.defvjp(0)
def _arctan2_vjp_a(g, y, a, b):
    return g * b / (a * a + b * b)


@arctan2.defvjp(1)
def _arctan2_vjp_b(g, y, a, b):
    return -g * a / (a * a + b * b)


@primitive
def sinh(a):
    """y = sinh a.   dL/da = g * cosh a."""
    return xp_of(a).sinh(a)


@sinh.defvjp(0)
def _sinh_vjp(g, y, a):
    return g * cosh(a)


@primitive
def cosh(a):
    """y = cosh a.   dL/da = g * sinh a."""
    return xp_of(a).cosh(a)


@cosh.defvjp(0)
def _cosh_vjp(g, y, a):
    return g * sinh(a)


@primitive
def arcsinh(a):
    """y = arsinh a = ln(a + sqrt(a^2 + 1)).   dL/da = g / sqrt(a^2 + 1)."""
    return xp_of(a).arcsinh(a)


@arcsinh.defvjp(0)
def _arcsinh_vjp(g, y, a):
    return g / sqrt(a * a + 1)


@primitive
def arccosh(a):
    """y = arcosh a, for a >= 1.   dL/da = g / sqrt(a^2 - 1)."""
    return xp_of(a).arccosh(a)


@arccosh.defvjp(0)
def _arccosh_vjp(g, y, a):
    return g / sqrt(a * a - 1)


@primitive
def arctanh(a):
    """y = artanh a, for |a| < 1.   dL/da = g / (1 - a^2)."""
    return xp_of(a).arctanh(a)


@arctanh.defvjp(0)
def _arctanh_vjp(g, y, a):
    return g / (1 - a * a)


@primitive
def log1p(a):
    """y = ln(1 + a), accurate for small a.   dL/da = g / (1 + a)."""
    return xp_of(a).log1p(a)


@log1p.defvjp(0)
def _log1p_vjp(g, y, a):
    return g / (1 + a)


@primitive
def expm1(a):
    """y = e^a - 1, accurate for small a.   dL/da = g * (y + 1)."""
    return xp_of(a).expm1(a)


@expm1.defvjp(0)
def _expm1_vjp(g, y, a):
    return g * (y + 1)


@primitive
def cbrt(a):
    """y = the real cube root of a.   dL/da = g / (3 y^2)."""
    return xp_of(a).cbrt(a)


@cbrt.defvjp(0)
def _cbrt_vjp(g, y, a):
    return g / (3 * y * y)


# ----- without gradient: signs and comparisons ---------------------------------------------------


@primitive(differentiable=False)
def sign(a):
    """y = -1, 0 or 1 by the sign of a (no gradient)."""
    return xp_of(a).sign(a)


@primitive(differentiable=False)
def less(a, b):
    """a < b, elementwise (no gradient)."""
    return a < b


@primitive(differentiable=False)
def less_equal(a, b):
    """a <= b, elementwise (no gradient)."""
    return a <= b


@primitive(differentiable=False)
def greater(a, b):
    """a > b, elementwise (no gradient)."""
    return a > b


@primitive(differentiable=False)
def greater_equal(a, b):
    """a >= b, elementwise (no gradient)."""
    return a >= b


@primitive(differentiable=False)
def equal(a, b):
    """a == b, elementwise (no gradient)."""
    return a == b


@primitive(differentiable=False)
def not_equal(a, b):
    """a != b, elementwise (no gradient)."""
    return a != b


@primitive(differentiable=False)
def floor(a):
    """y = the largest integer <= a (no gradient: its derivative is 0 almost everywhere)."""
    return xp_of(a).floor(a)


@primitive(differentiable=False)
def trunc(a):
    """y = a rounded towards zero (no gradient)."""
    return xp_of(a).trunc(a)


@primitive(differentiable=False)
def ceil(a):
    """y = the smallest integer >= a (no gradient: its derivative is 0 almost everywhere)."""
    return xp_of(a).ceil(a)


@primitive(differentiable=False)
def stop_gradient(a):
    """y = a, and no gradient flows back to a: what depends on y is differentiated as if y
    were a constant. Recorded as an op (not a new leaf), so a replayed step computes it anew."""
    return a


# ----- without gradient: truth values ------------------------------------------------------------


@primitive(differentiable=False)
def logical_and(a, b):
    """a and b, elementwise (non-zero is true), as bools (no gradient)."""
    return xp_of(a, b).logical_and(a, b)


@primitive(differentiable=False)
def logical_or(a, b):
    """a or b, elementwise (non-zero is true), as bools (no gradient)."""
    return xp_of(a, b).logical_or(a, b)


@primitive(differentiable=False)
def logical_xor(a, b):
    """a xor b, elementwise (non-zero is true), as bools (no gradient)."""
    return xp_of(a, b).logical_xor(a, b)


@primitive(differentiable=False)
def logical_not(a):
    """not a, elementwise (non-zero is true), as bools (no gradient)."""
    return xp_of(a).logical_not(a)


@primitive(differentiable=False)
def isnan(a):
    """a is NaN, elementwise, as bools (no gradient)."""
    return xp_of(a).isnan(a)


@primitive(differentiable=False)
def isinf(a):
    """a is +inf or -inf, elementwise, as bools (no gradient)."""
    return xp_of(a).isinf(a)


@primitive(differentiable=False)
def isfinite(a):
    """a is neither NaN nor infinite, elementwise, as bools (no gradient)."""
    return xp_of(a).isfinite(a)


@primitive(differentiable=False)
def signbit(a):
    """a's sign bit is set (a < 0, or -0.0), elementwise, as bools (no gradient)."""
    return xp_of(a).signbit(a)
