"""The geometry of window ops (convolutions and poolings) over images in ``channels_last``
layout: their arguments checked, their padding and output size, and the strided views that pick
one tap of every window.

Notation (one image batch, NHWC as in Keras and TensorFlow)::

    x       (N, H, W, C)         input; xp is x padded to (N, Hp, Wp, C)
    window  (kh, kw), strides (sh, sw), dilation (dh, dw)
    y       (N, Ho, Wo, ...)     Ho = (Hp - dh (kh - 1) - 1) // sh + 1, likewise Wo

Tap (a, b) of the window of output pixel (i, j) is xp[n, i sh + a dh, j sw + b dw, :]; for a
fixed tap, that is one strided view of the whole batch (:func:`tap`), so a window op loops over
the kh kw taps only, never over pixels or channels.
"""

import itertools
import numbers
from typing import NamedTuple

from ..backend import xp_of
from ..engine import ShapeError

PADDINGS = ("valid", "same")


def as_tuple(value, n, name, owner, allow_zero=False):
    """``value`` (an int or a sequence of ``n`` ints) as a tuple of ``n`` positive ints.

    Raises:
        ValueError: naming ``owner`` (the op or layer) and the argument, for anything else.
    """
    values = (value,) * n if is_int(value) else value
    try:
        values = tuple(values)
    except TypeError:
        values = None
    lowest = 0 if allow_zero else 1
    if values is None or len(values) != n or not all(is_int(v) and v >= lowest for v in values):
        rule = "non-negative" if allow_zero else "positive"
        raise ValueError(
            f"{owner}: `{name}` must be an integer or a tuple of {n} integers, all {rule}; "
            f"received {name}={value!r}."
        )
    return tuple(int(v) for v in values)


def is_int(value):
    """True for an integer that is not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def as_padding(padding, owner, allowed=PADDINGS):
    """A padding mode, lower-cased and checked against ``allowed``."""
    mode = padding.lower() if isinstance(padding, str) else padding
    if mode not in allowed:
        raise ValueError(
            f"{owner}: `padding` must be one of {', '.join(repr(a) for a in allowed)}; "
            f"received padding={padding!r}."
        )
    return mode


def same_pads(length, window, stride, dilation):
    """TensorFlow's 'same' padding of one axis: (before, after) with output ceil(length / stride).

    The total pad is what the last window needs, max((out - 1) stride + (window - 1) dilation + 1
    - length, 0); the odd pixel, if any, goes after, as in TensorFlow and Keras.
    """
    out = -(-length // stride)
    total = max((out - 1) * stride + (window - 1) * dilation + 1 - length, 0)
    return total // 2, total - total // 2


def output_length(length, window, stride, dilation, padding):
    """Output length of one spatial axis (``None`` stays ``None``); ``padding`` a mode or a pair.

    valid: floor((length - (window - 1) dilation - 1) / stride) + 1;  same: ceil(length / stride).
    May be zero or negative when the window does not fit; callers report that.
    """
    if length is None:
        return None
    if padding == "same":
        return -(-length // stride)
    if padding != "valid":
        length += padding[0] + padding[1]
    return (length - (window - 1) * dilation - 1) // stride + 1


class Geometry(NamedTuple):
    """A window op's checked arguments: window (kh, kw), strides (sh, sw), dilation (dh, dw),
    pads ((top, bottom), (left, right)) and the output's height and width, out (Ho, Wo)."""

    window: tuple
    strides: tuple
    dilation: tuple
    pads: tuple
    out: tuple


def window_geometry(op, x_shape, window, strides, dilation, padding):
    """Check the arguments of a 2-D window op on inputs of ``x_shape`` (N, H, W, C).

    Raises:
        ShapeError: for an input that is not 4-D or a window larger than the padded input.
        ValueError: for strides, dilations or paddings that are not valid.
    """
    if len(x_shape) != 4:
        raise ShapeError(
            f"{op}: expects an input of shape (batch, height, width, channels) (4-D, "
            f"channels_last); got shape {tuple(x_shape)}. Add the missing axes, e.g. x[..., None] "
            f"for one channel."
        )
    window = as_tuple(window, 2, "window", op)
    strides = as_tuple(strides, 2, "strides", op)
    dilation = as_tuple(dilation, 2, "dilation_rate", op)
    if isinstance(padding, str):
        padding = as_padding(padding, op)
        if padding == "valid":
            pads = ((0, 0), (0, 0))
        else:
            pads = tuple(same_pads(*args) for args in zip(x_shape[1:3], window, strides, dilation))
    else:
        try:
            pads = tuple(as_tuple(pair, 2, "padding", op, allow_zero=True) for pair in padding)
        except TypeError:
            pads = ()
        if len(pads) != 2:
            raise ValueError(
                f"{op}: `padding` must be 'valid', 'same' or ((top, bottom), (left, right)); "
                f"received padding={padding!r}."
            )
    out = tuple(
        output_length(n, k, s, d, p)
        for n, k, s, d, p in zip(x_shape[1:3], window, strides, dilation, pads)
    )
    if min(out) < 1:
        extent = tuple((k - 1) * d + 1 for k, d in zip(window, dilation))
        padded = tuple(n + p[0] + p[1] for n, p in zip(x_shape[1:3], pads))
        raise ShapeError(
            f"{op}: the {window[0]}x{window[1]} window (spanning {extent[0]}x{extent[1]} pixels "
            f"with dilation_rate {dilation}) does not fit the input of shape {tuple(x_shape)}, "
            f"whose height and width are {padded} after padding {pads}. The window must not be "
            f"larger than the padded input: use a smaller window, padding='same', or a larger "
            f"input."
        )
    return Geometry(window, strides, dilation, pads, out)


def pad(x, pads, value=0):
    """x (N, H, W, C) padded on its height and width axes with ``value``."""
    if pads == ((0, 0), (0, 0)):
        return x
    return xp_of(x).pad(x, ((0, 0),) + pads + ((0, 0),), constant_values=value)


def padded_buffer(xp_mod, shape, pads, dtype, fill=True):
    """A zero array of ``shape`` (N, H, W, C) padded by ``pads``, to add gradients into (left
    uninitialized with fill=False, for a caller that writes every element)."""
    n, h, w, c = shape
    padded = (n, h + pads[0][0] + pads[0][1], w + pads[1][0] + pads[1][1], c)
    return (xp_mod.zeros if fill else xp_mod.empty)(padded, dtype=dtype)


def crop(padded, pads, shape):
    """The part of an array padded by ``pads`` that is the unpadded array of ``shape``."""
    (top, _), (left, _) = pads
    return padded[:, top : top + shape[1], left : left + shape[2], :]


def tap(padded, a, b, geo):
    """Tap (a, b) of every window: the view padded[:, i sh + a dh, j sw + b dw, :] over all
    outputs (i, j), of shape (N, Ho, Wo, C)."""
    (sh, sw), (dh, dw), (ho, wo) = geo.strides, geo.dilation, geo.out
    top, left = a * dh, b * dw
    return padded[:, top : top + sh * (ho - 1) + 1 : sh, left : left + sw * (wo - 1) + 1 : sw, :]


def taps(window):
    """The taps (a, b) of a window in row-major order."""
    return list(itertools.product(range(window[0]), range(window[1])))


def tile(a, tiles):
    """An array whose axes 0..2 are (N, Ho, Wo) (a view of any strides), viewed with those axes
    as (N, ph, pw, Ho // ph, Wo // pw): element [n, a, b, i, j] is [n, i ph + a, j pw + b]
    (trailing rows and columns that fill no whole tile dropped)."""
    (ph, pw), (n, ho, wo) = tiles, a.shape[:3]
    hq, wq = ho // ph, wo // pw
    a = a[:, : hq * ph, : wq * pw].reshape(n, hq, ph, wq, pw, *a.shape[3:])
    return a.transpose(0, 2, 4, 1, 3, *range(5, a.ndim))


def check_gradient(op, g, x_shape, expected):
    """The upstream gradient g must have the forward output's shape ``expected``."""
    if tuple(g.shape) != tuple(expected):
        raise ShapeError(
            f"{op}: the gradient has shape {tuple(g.shape)}, but the forward op maps an input of "
            f"shape {tuple(x_shape)} to an output of shape {tuple(expected)}."
        )
