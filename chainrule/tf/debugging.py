"""``tf.debugging``: checks on tensor values that raise when they fail, and ``tf.print``.

Each ``assert_*`` returns None when the condition holds for every element (with broadcasting)
and otherwise raises :class:`InvalidArgumentError` (``tf.errors.InvalidArgumentError``), naming
the check, the message given and the first offending values. The common ones are top-level too
(``tf.assert_equal``, ``tf.assert_rank``...).
"""

import sys

import numpy as np

from .core import as_dtype, convert_to_tensor
from .errors import InvalidArgumentError

__all__ = [
    "assert_all_finite",
    "assert_equal",
    "assert_greater",
    "assert_greater_equal",
    "assert_less",
    "assert_less_equal",
    "assert_near",
    "assert_negative",
    "assert_non_negative",
    "assert_non_positive",
    "assert_none_equal",
    "assert_positive",
    "assert_rank",
    "assert_rank_at_least",
    "assert_type",
    "check_numerics",
    "print_",
]


def _values(x):
    return np.asarray(convert_to_tensor(x).data)


def _fail(check, message, detail):
    prefix = f"{message}: " if message else ""
    raise InvalidArgumentError(f"{prefix}{check} failed: {detail}")


def _check_relation(check, relation, symbol, x, y, message, summarize):
    a, b = _values(x), _values(y)
    try:
        holds = relation(a, b)
    except ValueError:
        raise ValueError(
            f"{check}: x of shape {a.shape} and y of shape {b.shape} do not broadcast."
        ) from None
    if not np.all(holds):
        a, b = np.broadcast_arrays(a, b)
        bad = np.argwhere(~np.broadcast_to(holds, a.shape))[: summarize or 3]
        pairs = ", ".join(f"x{tuple(i.tolist())}={a[tuple(i)]} y={b[tuple(i)]}" for i in bad)
        _fail(check, message, f"expected x {symbol} y elementwise; not so at {pairs}")


def _compare(check, relation, symbol):
    def fn(x, y, message=None, summarize=None, name=None):
        _check_relation(check, relation, symbol, x, y, message, summarize)

    fn.__name__ = fn.__qualname__ = check
    fn.__doc__ = f"Raise InvalidArgumentError unless x {symbol} y for every element."
    return fn


def _against_zero(check, relation, symbol, words):
    def fn(x, message=None, summarize=None, name=None):
        zero = np.zeros((), dtype=_values(x).dtype)
        _check_relation(check, relation, symbol, x, zero, message, summarize)

    fn.__name__ = fn.__qualname__ = check
    fn.__doc__ = f"Raise InvalidArgumentError unless every element of x is {words} (x {symbol} 0)."
    return fn


assert_equal = _compare("assert_equal", np.equal, "==")
assert_none_equal = _compare("assert_none_equal", np.not_equal, "!=")
assert_less = _compare("assert_less", np.less, "<")
assert_less_equal = _compare("assert_less_equal", np.less_equal, "<=")
assert_greater = _compare("assert_greater", np.greater, ">")
assert_greater_equal = _compare("assert_greater_equal", np.greater_equal, ">=")
assert_positive = _against_zero("assert_positive", np.greater, ">", "positive")
assert_negative = _against_zero("assert_negative", np.less, "<", "negative")
assert_non_negative = _against_zero("assert_non_negative", np.greater_equal, ">=", "non-negative")
assert_non_positive = _against_zero("assert_non_positive", np.less_equal, "<=", "non-positive")


def assert_near(x, y, rtol=None, atol=None, message=None, summarize=None, name=None):
    """Raise InvalidArgumentError unless |x - y| <= atol + rtol |y| for every element; both
    tolerances default to 10 eps of x's dtype, as in TensorFlow."""
    a, b = _values(x), _values(y)
    eps = np.finfo(a.dtype).eps if a.dtype.kind == "f" else 0
    rtol = 10 * eps if rtol is None else rtol
    atol = 10 * eps if atol is None else atol
    gap = np.abs(a - b)
    if not np.all(gap <= atol + rtol * np.abs(b)):
        _fail(
            "assert_near",
            message,
            f"largest |x - y| is {gap.max()} with rtol={rtol}, atol={atol}",
        )


def assert_rank(x, rank, message=None, name=None):
    """Raise InvalidArgumentError unless x has ``rank`` axes."""
    actual = convert_to_tensor(x).ndim
    if actual != int(rank):
        _fail("assert_rank", message, f"expected rank {int(rank)}, got {actual}")


def assert_rank_at_least(x, rank, message=None, name=None):
    """Raise InvalidArgumentError unless x has at least ``rank`` axes."""
    actual = convert_to_tensor(x).ndim
    if actual < int(rank):
        _fail("assert_rank_at_least", message, f"expected rank >= {int(rank)}, got {actual}")


def assert_type(tensor, tf_type, message=None, name=None):
    """Raise TypeError unless ``tensor`` has dtype ``tf_type``."""
    actual = convert_to_tensor(tensor).dtype
    if actual != as_dtype(tf_type):
        prefix = f"{message}: " if message else ""
        raise TypeError(f"{prefix}assert_type: expected dtype {as_dtype(tf_type)}, got {actual}.")


def check_numerics(tensor, message, name=None):
    """``tensor`` itself when it holds no NaN or Inf; else InvalidArgumentError naming which."""
    tensor = convert_to_tensor(tensor)
    values = np.asarray(tensor.data)
    if values.dtype.kind == "f" and not np.isfinite(values).all():
        kinds = [
            k for k, bad in (("NaN", np.isnan(values)), ("Inf", np.isinf(values))) if bad.any()
        ]
        _fail("check_numerics", message, f"tensor had {' and '.join(kinds)} values")
    return tensor


def assert_all_finite(t, message, name=None):
    """``t`` itself when it holds no NaN or Inf (see :func:`check_numerics`)."""
    return check_numerics(t, message)


def _format(value, summarize):
    if not hasattr(value, "shape") and not isinstance(value, (list, tuple)):
        return str(value)
    array = np.asarray(convert_to_tensor(value).data)
    if array.ndim == 0:
        return f"{array.item():g}" if array.dtype.kind == "f" else str(array.item())
    edge = array.size if summarize is None or summarize < 0 else summarize
    return np.array2string(
        array,
        separator=" ",
        threshold=2 * edge,
        edgeitems=max(edge, 1),
        max_line_width=10**9,
        formatter={"float_kind": lambda v: f"{v:g}"},
    )


def print_(*inputs, output_stream=None, sep=" ", end="\n", summarize=3, name=None):
    """Print tensors' values (and any other objects) as TensorFlow's ``tf.print`` does: to
    standard error by default, floats in %g form, each axis longer than 2 ``summarize`` shown as
    its first and last ``summarize`` entries around '...' (-1 or None: everything).

    ``output_stream`` is a file object (sys.stdout, sys.stderr) or a 'file://path' to append to.
    """
    text = sep.join(_format(value, summarize) for value in inputs) + end
    if isinstance(output_stream, str):
        with open(output_stream.removeprefix("file://"), "a") as stream:
            stream.write(text)
        return
    (sys.stderr if output_stream is None else output_stream).write(text)
