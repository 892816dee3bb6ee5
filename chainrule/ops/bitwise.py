"""Integer division, bitwise logic and rounding: the piecewise-constant elementwise primitives
behind a Tensor's ``//``, ``%``, ``&``, ``|``, ``^``, ``~`` and ``round()``.

None has a gradient: floor division and rounding are constant almost everywhere (derivative 0),
and the bitwise operations are defined on integers and bools only. (``a % b`` for floats is
written ``a - (a // b) b`` with these, so its gradient is g for a and -g floor(a / b) for b.)
"""

from ..backend import xp_of
from ..engine import primitive


@primitive(differentiable=False)
def floor_divide(a, b):
    """y = floor(a / b), in the dtype a and b promote to (Python's ``//``; no gradient)."""
    return xp_of(a, b).floor_divide(a, b)


@primitive(differentiable=False)
def round(a, decimals=0):
    """y = a rounded to ``decimals`` decimals, halves to even, in a's dtype (no gradient)."""
    return xp_of(a).round(a, decimals)


def _integers(name, *arrays):
    """Refuse float or complex operands of a bitwise operation, saying how to proceed."""
    for a in arrays:
        kind = getattr(a, "dtype", None)
        kind = kind.kind if kind is not None else ("b" if isinstance(a, bool) else "i")
        if kind not in "iub" or isinstance(a, float):
            dtype = getattr(a, "dtype", type(a).__name__)
            raise TypeError(
                f"{name}: needs integer or bool tensors, got {dtype}; cast first "
                f"(keras.ops.cast(x, 'int32')), or compare to get bools (x > 0)."
            )


@primitive(differentiable=False)
def bitwise_and(a, b):
    """y = a & b bit by bit (logical and for bools; integers and bools only)."""
    _integers("bitwise_and", a, b)
    return xp_of(a, b).bitwise_and(a, b)


@primitive(differentiable=False)
def bitwise_or(a, b):
    """y = a | b bit by bit (logical or for bools; integers and bools only)."""
    _integers("bitwise_or", a, b)
    return xp_of(a, b).bitwise_or(a, b)


@primitive(differentiable=False)
def bitwise_xor(a, b):
    """y = a ^ b bit by bit (logical xor for bools; integers and bools only)."""
    _integers("bitwise_xor", a, b)
    return xp_of(a, b).bitwise_xor(a, b)


@primitive(differentiable=False)
def invert(a):
    """y = ~a, every bit flipped (logical not for bools; integers and bools only)."""
    _integers("invert", a)
    return xp_of(a).invert(a)
