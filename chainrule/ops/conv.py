"""Convolution and pooling over images in ``channels_last`` layout, with their backward passes.

Notation used in every docstring below (one image batch, NHWC as in Keras and TensorFlow)::

    x       (N, H, W, C)         input; xp is x padded to (N, Hp, Wp, C)
    kernel  (kh, kw, C/G, F)     G = groups; group q maps channels q C/G ... to filters q F/G ...
    strides (sh, sw), dilation_rate (dh, dw)
    y       (N, Ho, Wo, F)       Ho = (Hp - dh (kh - 1) - 1) // sh + 1, likewise Wo

A convolution (a cross-correlation, as in every deep-learning library) reads, for output pixel
(i, j), the *tap* (a, b) of its window at xp[n, i sh + a dh, j sw + b dw, :]. Copying every window
into one row gives the im2col matrix X of shape (N Ho Wo, kh kw C), and the whole convolution is
one large matrix product, Y = X K with K the kernel reshaped to (kh kw C, F). Its gradients are
matrix products too:

    dL/dK = Xᵀ G                     (G = dL/dY: every window's pixels times its output gradient)
    dL/dX = G Kᵀ, then col2im        (each window entry adds back to the pixel it was copied from)

The second is, written out, a convolution of g with the kernel flipped in space and transposed in
its channels; col2im performs it as kh kw strided additions, one per tap, so the only Python loop
is over the taps of the window, never over pixels or channels.

A convolution followed by a max pooling whose windows tile its output (strides equal to the pool
size, no padding) can compute its output already grouped by pooling window: with
``tiles=(ph, pw)`` the convolutions return (and their backward passes take) the array

    t[n, a pw + b, i, j, f] = y[n, i ph + a, j pw + b, f]     shape (N, ph pw, Ho // ph, Wo // pw, F)

the same numbers in another order (rows and columns that no window reads are not computed), and
:func:`tile_max` takes the maximum over its axis 1. The pooling then reads whole contiguous
arrays instead of strided windows, and its gradient reaches the kernel without a full-size
scatter. Training steps use this form where the model has such a pair (``chainrule.plan``).

Every op here cuts its batch over the cores when it runs inside
:func:`chainrule.parallel.using_cores`: each thread computes its own images' im2col matrix, product
and scatter; a kernel gradient adds the threads' partial sums.

The backward passes are primitives themselves (``conv2d_backprop_input``,
``conv2d_backprop_kernel``, ``max_pool2d_backprop``, ``avg_pool2d_backprop``), each with its own
VJPs, so that every VJP runs on Tensors and second derivatives come from the engine.
"""

import itertools
import numbers
from typing import NamedTuple

import numpy

from ..backend import xp_of
from ..engine import ShapeError, primitive
from ..fast.threads import over_parts, splits, sum_over_parts
from .reduction import column_sums
from .shape import expand_dims, squeeze

PADDINGS = ("valid", "same")


# ----- arguments and geometry ------------------------------------------------------------------


def as_tuple(value, n, name, owner, allow_zero=False):
    """``value`` (an int or a sequence of ``n`` ints) as a tuple of ``n`` positive ints.

    Raises:
        ValueError: naming ``owner`` (the op or layer) and the argument, for anything else.
    """
    values = (value,) * n if _is_int(value) else value
    try:
        values = tuple(values)
    except TypeError:
        values = None
    lowest = 0 if allow_zero else 1
    if values is None or len(values) != n or not all(_is_int(v) and v >= lowest for v in values):
        rule = "non-negative" if allow_zero else "positive"
        raise ValueError(
            f"{owner}: `{name}` must be an integer or a tuple of {n} integers, all {rule}; "
            f"received {name}={value!r}."
        )
    return tuple(int(v) for v in values)


def _is_int(value):
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


def _geometry(op, x_shape, window, strides, dilation, padding):
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


def _pad(x, pads, value=0):
    """x (N, H, W, C) padded on its height and width axes with ``value``."""
    if pads == ((0, 0), (0, 0)):
        return x
    return xp_of(x).pad(x, ((0, 0),) + pads + ((0, 0),), constant_values=value)


def _padded_buffer(xp_mod, shape, pads, dtype, fill=True):
    """A zero array of ``shape`` (N, H, W, C) padded by ``pads``, to add gradients into (left
    uninitialized with fill=False, for a caller that writes every element)."""
    n, h, w, c = shape
    padded = (n, h + pads[0][0] + pads[0][1], w + pads[1][0] + pads[1][1], c)
    return (xp_mod.zeros if fill else xp_mod.empty)(padded, dtype=dtype)


def _crop(padded, pads, shape):
    """The part of an array padded by ``pads`` that is the unpadded array of ``shape``."""
    (top, _), (left, _) = pads
    return padded[:, top : top + shape[1], left : left + shape[2], :]


def _tap(padded, a, b, geo):
    """Tap (a, b) of every window: the view padded[:, i sh + a dh, j sw + b dw, :] over all
    outputs (i, j), of shape (N, Ho, Wo, C)."""
    (sh, sw), (dh, dw), (ho, wo) = geo.strides, geo.dilation, geo.out
    top, left = a * dh, b * dw
    return padded[:, top : top + sh * (ho - 1) + 1 : sh, left : left + sw * (wo - 1) + 1 : sw, :]


def _taps(window):
    """The taps (a, b) of a window in row-major order."""
    return list(itertools.product(range(window[0]), range(window[1])))


def _tiled(a, tiles):
    """An array whose axes 0..2 are (N, Ho, Wo) (a view of any strides), viewed with those axes
    as (N, ph, pw, Ho // ph, Wo // pw): element [n, a, b, i, j] is [n, i ph + a, j pw + b]
    (trailing rows and columns that fill no whole tile dropped). ``tiles`` None: ``a`` itself."""
    if tiles is None:
        return a
    (ph, pw), (n, ho, wo) = tiles, a.shape[:3]
    hq, wq = ho // ph, wo // pw
    a = a[:, : hq * ph, : wq * pw].reshape(n, hq, ph, wq, pw, *a.shape[3:])
    return a.transpose(0, 2, 4, 1, 3, *range(5, a.ndim))


def _as_tiles(tiles, op):
    """``tiles`` (None, an int or a pair) as None or a pair of positive ints."""
    return None if tiles is None else as_tuple(tiles, 2, "tiles", op)


def _output_shape(n, geo, tiles, channels):
    """(N, Ho, Wo, F), or (N, ph pw, Ho // ph, Wo // pw, F) in the tiled layout."""
    if tiles is None:
        return (n, *geo.out, channels)
    (ph, pw), (ho, wo) = tiles, geo.out
    return (n, ph * pw, ho // ph, wo // pw, channels)


# ----- convolution -------------------------------------------------------------------------------


def _conv_geometry(op, x_shape, kernel_shape, strides, padding, dilation_rate, groups, tiles=None):
    """Check a convolution's shapes and arguments; the :class:`Geometry` of its windows."""
    if len(kernel_shape) != 4:
        raise ShapeError(
            f"{op}: expects a kernel of shape (kernel_height, kernel_width, in_channels / groups, "
            f"filters) (4-D); got shape {tuple(kernel_shape)}."
        )
    if not _is_int(groups) or groups < 1:
        raise ValueError(f"{op}: `groups` must be a positive integer; received groups={groups!r}.")
    geo = _geometry(op, x_shape, kernel_shape[:2], strides, dilation_rate, padding)
    channels, filters = x_shape[3], kernel_shape[3]
    if channels != kernel_shape[2] * groups or filters % groups:
        raise ShapeError(
            f"{op}: an input of shape {tuple(x_shape)} ({channels} channels) does not match a "
            f"kernel of shape {tuple(kernel_shape)} with groups={groups}: the kernel's axis 2 must "
            f"be channels / groups = {channels / groups:g} and its axis 3 (filters, "
            f"{filters}) a multiple of groups."
        )
    tiles = _as_tiles(tiles, op)
    if tiles is not None and any(o < k for o, k in zip(geo.out, tiles)):
        raise ShapeError(
            f"{op}: tiles={tiles} do not fit the output's height and width {geo.out}: each "
            f"tile (a pooling window) must fit in the output."
        )
    return geo


def _check_gradient(op, g, x_shape, geo, channels, tiles=None):
    """The upstream gradient must have the forward output's shape (N, Ho, Wo, channels), or its
    tiled shape."""
    expected = _output_shape(x_shape[0], geo, tiles, channels)
    if tuple(g.shape) != expected:
        raise ShapeError(
            f"{op}: the gradient has shape {tuple(g.shape)}, but the forward op maps an input of "
            f"shape {tuple(x_shape)} to an output of shape {expected}."
        )


def _columns(x, geo, groups, tiles=None, ones=False):
    """The im2col matrix of x, one per group: (G, N Ho Wo, kh kw C/G), rows ordered (n, i, j),
    columns (a, b, c) as the kernel's axes, so that X_q K_q is group q's convolution. With
    ``tiles`` the rows are the output pixels of the tiled layout, in its order (n, a, b, i, j).

    A strided view picks every window without copying; the reshape makes the one copy. With a
    single input channel that copy would move one number at a time, so the matrix is filled tap
    by tap instead, each tap a run of whole image rows, and returned as the transpose of a
    (1, kh kw, N Ho Wo) array, which the matrix products read as well; ``ones`` then appends a
    column of ones (so that a product with the kernel and the bias below it adds the bias).
    """
    xp_mod = xp_of(x)
    padded = _pad(x, geo.pads)
    n, c = x.shape[0], x.shape[3]
    (kh, kw), (sh, sw), (dh, dw), (ho, wo) = geo.window, geo.strides, geo.dilation, geo.out
    if c == 1:
        pixels = (n, ho, wo) if tiles is None else (n, *tiles, ho // tiles[0], wo // tiles[1])
        columns = xp_mod.empty((kh * kw + ones, *pixels), dtype=x.dtype)
        for t, (a, b) in enumerate(_taps(geo.window)):
            columns[t] = _tiled(_tap(padded, a, b, geo)[..., 0], tiles)
        if ones:
            columns[-1] = 1
        return columns.reshape(1, kh * kw + ones, -1).transpose(0, 2, 1)
    extent = ((kh - 1) * dh + 1, (kw - 1) * dw + 1)
    views = xp_mod.lib.stride_tricks.sliding_window_view(padded, extent, axis=(1, 2))
    views = views[:, : sh * (ho - 1) + 1 : sh, : sw * (wo - 1) + 1 : sw, :, ::dh, ::dw]
    views = _tiled(views.reshape(n, ho, wo, groups, c // groups, kh, kw), tiles)
    r = views.ndim - 4  # the row axes: (n, i, j), or (n, a, b, i, j)
    views = views.transpose(r, *range(r), r + 2, r + 3, r + 1)
    return views.reshape(groups, -1, kh * kw * (c // groups))


def _sum_of_products(a, b):
    """a @ b for stacks of G matrices, (G, m, n) @ (G, n, k) -> (G, m, k), where the products
    sum over a long axis n (N Ho Wo pixels) into a small result (a kernel's gradient).

    With one group it is ``dot`` of the two matrices: NumPy's ``matmul`` runs such a product two
    to three times slower while another thread runs one too; ``dot`` does not.
    """
    if a.shape[0] != 1:
        return a @ b
    return xp_of(a, b).dot(a[0], b[0])[None]


def _by_group(a, groups):
    """a (N, Ho, Wo, F) as (G, N Ho Wo, F/G): the columns of each group's output."""
    return a.reshape(-1, groups, a.shape[-1] // groups).transpose(1, 0, 2)


@primitive
def conv2d(
    x, kernel, bias=None, *, strides=1, padding="valid", dilation_rate=1, groups=1, tiles=None
):
    """2-D convolution (cross-correlation), channels_last:

        y[n, i, j, f] = b[f] + sum_{a, b, c} xp[n, i sh + a dh, j sw + b dw, c] kernel[a, b, c, f]

    computed as one matrix product per group, Y = X K (X the im2col matrix, see the module).

    Args:
        x: (N, H, W, C).  kernel: (kh, kw, C / groups, F).  bias: (F,) or None.
        strides, dilation_rate: an int or a pair (TensorFlow forbids both above 1 in one layer;
            here any combination is computed exactly).
        padding: 'valid' (none), 'same' (TensorFlow's: output ceil(H / sh), the odd pixel after),
            or explicit ((top, bottom), (left, right)).
        groups: G; input channels and filters are split into G independent convolutions.
        tiles: None, or (ph, pw) for the output in the tiled layout (see the module).

    Returns:
        y of shape (N, Ho, Wo, F), or (N, ph pw, Ho // ph, Wo // pw, F) with ``tiles``.

    VJPs:  dL/dx = conv2d_backprop_input(g, kernel)   (col2im of G Kᵀ)
           dL/dkernel = conv2d_backprop_kernel(x, g)  (Xᵀ G)
           dL/db = sum of g over n, i, j.

    Raises:
        ShapeError: for a 3-D input, mismatched channels, or a kernel larger than the padded input.
    """
    geo = _conv_geometry(
        "conv2d", x.shape, kernel.shape, strides, padding, dilation_rate, groups, tiles
    )
    tiles = _as_tiles(tiles, "conv2d")
    filters = kernel.shape[3]
    if bias is not None and bias.shape != (filters,):
        raise ShapeError(
            f"conv2d: the bias must have shape ({filters},), one value per filter; got shape "
            f"{bias.shape}."
        )
    xp_mod = xp_of(x, kernel)
    weights = kernel.reshape(-1, groups, filters // groups).transpose(1, 0, 2)
    y = xp_mod.empty(_output_shape(x.shape[0], geo, tiles, filters), xp_mod.result_type(x, kernel))

    # with one input channel the im2col matrix is short (kh kw columns): a column of ones and the
    # bias below the kernel add the bias in the product, saving a pass over the output
    bias_in_product = bias is not None and x.shape[3] == 1
    if bias_in_product:
        weights = xp_mod.concatenate([weights[0], bias[None].astype(weights.dtype)])[None]

    def images(rows):  # the convolution of images x[rows], written to y[rows]
        out = y[rows]
        columns = _columns(x[rows], geo, groups, tiles, ones=bias_in_product)
        if groups == 1:
            xp_mod.matmul(columns[0], weights[0], out=out.reshape(-1, filters))
        else:
            out[...] = (columns @ weights).transpose(1, 0, 2).reshape(out.shape)
        if bias is not None and not bias_in_product:
            out += bias

    # the products run on every core either way (split here, or by the BLAS library's threads):
    # what cutting gains is the memory passes, the im2col matrix's and the output's
    columns = y.size // kernel.shape[3] * kernel.shape[0] * kernel.shape[1] * x.shape[3]
    size = columns + y.size if splits(x) else 0
    over_parts(images, x.shape[0], size)
    return y


@conv2d.defvjp(0)
def _conv2d_vjp_x(g, y, x, kernel, bias=None, **params):
    return conv2d_backprop_input(g, kernel, input_shape=x.shape, **params)


@conv2d.defvjp(1)
def _conv2d_vjp_kernel(g, y, x, kernel, bias=None, **params):
    return conv2d_backprop_kernel(x, g, kernel_shape=kernel.shape, **params)


@conv2d.defvjp(2)
def _conv2d_vjp_bias(g, y, x, kernel, bias=None, **params):
    return column_sums(g.reshape(-1, g.shape[-1]))


@primitive
def conv2d_backprop_input(
    g, kernel, *, input_shape, strides=1, padding="valid", dilation_rate=1, groups=1, tiles=None
):
    """The gradient of :func:`conv2d` with respect to its input (a transposed convolution):

        dx[n, i sh + a dh - pt, j sw + b dw - pl, c] += sum_f g[n, i, j, f] kernel[a, b, c, f]

    i.e. dX = G Kᵀ followed by col2im: tap (a, b) of every window adds its share back to the pixel
    it read. This equals a convolution of g (dilated by the strides, padded by the window) with
    the kernel flipped in space and its channel axes swapped.

    Args:
        g: (N, Ho, Wo, F), or tiled (N, ph pw, Ho // ph, Wo // pw, F).
        kernel: (kh, kw, C / groups, F).
        input_shape: (N, H, W, C), the shape of x (needed because strides drop pixels).
        strides, padding, dilation_rate, groups, tiles: those of the convolution.

    VJPs (it is linear in both g and the kernel):
        dL/dg = conv2d(u, kernel),   dL/dkernel = conv2d_backprop_kernel(u, g),   u = dL/d(dx).
    """
    op = "conv2d_backprop_input"
    geo = _conv_geometry(
        op, input_shape, kernel.shape, strides, padding, dilation_rate, groups, tiles
    )
    tiles = _as_tiles(tiles, op)
    _check_gradient(op, g, input_shape, geo, kernel.shape[3], tiles)
    xp_mod = xp_of(g, kernel)
    grad = _padded_buffer(xp_mod, input_shape, geo.pads, xp_mod.result_type(g, kernel))

    def images(rows):
        _add_input_gradient(g[rows], kernel, grad[rows], geo, groups, tiles)

    taps = kernel.shape[0] * kernel.shape[1]
    size = (
        g.size // kernel.shape[3] * kernel.shape[2] * groups * taps + grad.size if splits(g) else 0
    )
    over_parts(images, input_shape[0], size)
    return _crop(grad, geo.pads, input_shape)


def _add_input_gradient(g, kernel, grad, geo, groups, tiles):
    """Add the input gradient of some images, G Kᵀ scattered back by col2im, into ``grad``
    (their rows of the padded gradient buffer); g is their rows of the output gradient."""
    xp_mod = xp_of(g, kernel)
    kh, kw, cg, filters = kernel.shape
    weights = kernel.reshape(kh * kw, cg, groups, filters // groups).transpose(0, 2, 3, 1)
    if tiles is not None:  # the outputs that the tiles cover, each back in its place
        (ph, pw), (_, _, hq, wq, _) = tiles, g.shape
        geo = geo._replace(out=(hq * ph, wq * pw))
        untiled = xp_mod.empty((g.shape[0], *geo.out, filters), grad.dtype)
        window_pixels = _tiled(untiled, tiles)
        window_pixels[...] = g.reshape(window_pixels.shape)
        g = untiled
    rows = _by_group(g, groups)  # (G, M, F/G)
    # one product per tap, (G, M, F/G) @ (G, F/G, C/G), into one buffer that stays in the cache,
    # added at once to the pixels the tap read
    share = xp_mod.empty((groups, rows.shape[1], cg), dtype=grad.dtype)
    for t, (a, b) in enumerate(_taps(geo.window)):
        xp_mod.matmul(rows, weights[t], out=share)
        target = _tap(grad, a, b, geo)
        target += share.transpose(1, 0, 2).reshape(target.shape)


@conv2d_backprop_input.defvjp(0)
def _conv2d_backprop_input_vjp_g(u, dx, g, kernel, *, input_shape, **params):
    return conv2d(u, kernel, **params)


@conv2d_backprop_input.defvjp(1)
def _conv2d_backprop_input_vjp_kernel(u, dx, g, kernel, *, input_shape, **params):
    return conv2d_backprop_kernel(u, g, kernel_shape=kernel.shape, **params)


@primitive
def conv2d_backprop_kernel(
    x, g, *, kernel_shape, strides=1, padding="valid", dilation_rate=1, groups=1, tiles=None
):
    """The gradient of :func:`conv2d` with respect to its kernel:

        dkernel[a, b, c, f] = sum_{n, i, j} xp[n, i sh + a dh, j sw + b dw, c] g[n, i, j, f]

    i.e. dK = Xᵀ G, one matrix product per group over all N Ho Wo output pixels.

    Args:
        x: (N, H, W, C).  g: (N, Ho, Wo, F), or tiled.  kernel_shape: (kh, kw, C / groups, F).
        strides, padding, dilation_rate, groups, tiles: those of the convolution.

    VJPs (it is linear in both x and g):
        dL/dx = conv2d_backprop_input(g, v),   dL/dg = conv2d(x, v),   v = dL/d(dkernel).
    """
    op = "conv2d_backprop_kernel"
    geo = _conv_geometry(op, x.shape, kernel_shape, strides, padding, dilation_rate, groups, tiles)
    tiles = _as_tiles(tiles, op)
    _check_gradient(op, g, x.shape, geo, kernel_shape[3], tiles)

    def images(rows):
        return _kernel_gradient(x[rows], g[rows], geo, groups, tiles)

    columns = g.size // kernel_shape[3] * kernel_shape[0] * kernel_shape[1] * kernel_shape[2]
    size = columns * groups + g.size if splits(x, g) else 0
    grad = sum_over_parts(images, x.shape[0], size)
    return grad.transpose(1, 0, 2).reshape(kernel_shape)


def _kernel_gradient(x, g, geo, groups, tiles):
    """Xᵀ G over some images: (G, kh kw C/G, F/G), the kernel gradient's share of images x with
    output gradient g."""
    return _sum_of_products(_columns(x, geo, groups, tiles).mT, _by_group(g, groups))


@conv2d_backprop_kernel.defvjp(0)
def _conv2d_backprop_kernel_vjp_x(v, dk, x, g, *, kernel_shape, **params):
    return conv2d_backprop_input(g, v, input_shape=x.shape, **params)


@conv2d_backprop_kernel.defvjp(1)
def _conv2d_backprop_kernel_vjp_g(v, dk, x, g, *, kernel_shape, **params):
    return conv2d(x, v, **params)


def conv1d(x, kernel, bias=None, *, strides=1, padding="valid", dilation_rate=1, groups=1):
    """1-D convolution, channels_last: a :func:`conv2d` over an image of height 1.

        y[n, i, f] = b[f] + sum_{a, c} xp[n, i s + a d, c] kernel[a, c, f]

    Args:
        x: (N, L, C).  kernel: (k, C / groups, F).  bias: (F,) or None.
        strides, dilation_rate: an int (or a 1-tuple).
        padding: 'valid', 'same', 'causal' (pad (k - 1) d zeros before, none after, so that
            y[i] sees x up to i only), or an explicit (before, after).
        groups: as in :func:`conv2d`.

    Returns:
        y of shape (N, Lo, F); its gradients are conv2d's, through the added axis.
    """
    if x.ndim != 3 or kernel.ndim != 3:
        raise ShapeError(
            f"conv1d: expects an input (batch, steps, channels) and a kernel (kernel_size, "
            f"in_channels / groups, filters), both 3-D; got shapes {x.shape} and {kernel.shape}."
        )
    (stride,) = as_tuple(strides, 1, "strides", "conv1d")
    (dilation,) = as_tuple(dilation_rate, 1, "dilation_rate", "conv1d")
    if isinstance(padding, str):
        padding = as_padding(padding, "conv1d", PADDINGS + ("causal",))
        if padding == "causal":
            padding = ((0, 0), ((kernel.shape[0] - 1) * dilation, 0))
    else:
        padding = ((0, 0), tuple(padding))
    y = conv2d(
        expand_dims(x, axis=1),
        expand_dims(kernel, axis=0),
        bias,
        strides=(1, stride),
        padding=padding,
        dilation_rate=(1, dilation),
        groups=groups,
    )
    return squeeze(y, axis=1)


# ----- pooling -----------------------------------------------------------------------------------


def _pool_geometry(op, x_shape, pool_size, strides, padding):
    """Check a pooling op's arguments (strides default to the pool size); its :class:`Geometry`."""
    window = as_tuple(pool_size, 2, "pool_size", op)
    return _geometry(op, x_shape, window, window if strides is None else strides, 1, padding)


def _lowest(dtype):
    """The padding value that never wins a max: -inf, or the smallest integer."""
    return -numpy.inf if dtype.kind == "f" else numpy.iinfo(dtype).min


def _zeros_like(a):
    """dL/da = 0 for an input that the output is piecewise constant in."""
    return xp_of(a).zeros(a.shape, dtype=a.dtype)


@primitive
def max_pool2d(x, *, pool_size=2, strides=None, padding="valid"):
    """Max pooling, channels_last:

        y[n, i, j, c] = max_{a < ph, b < pw} xp[n, i sh + a, j sw + b, c]

    with 'same' padding by -inf (a pad never wins). Computed as a running maximum over the
    ph pw taps of the window, each a strided view of the whole batch.

    Args:
        x: (N, H, W, C).  pool_size: (ph, pw) or an int.  strides: default pool_size.
        padding: 'valid' or 'same' (TensorFlow's), or explicit ((top, bottom), (left, right)).

    VJP: dL/dx = max_pool2d_backprop(x, y, g): each g goes to the first maximum of its window in
    row-major order (TensorFlow's choice among ties), nothing to the other pixels.
    """
    geo = _pool_geometry("max_pool2d", x.shape, pool_size, strides, padding)
    xp_mod = xp_of(x)
    y = xp_mod.empty((x.shape[0], *geo.out, x.shape[3]), dtype=x.dtype)

    def images(rows):
        padded = _pad(x[rows], geo.pads, _lowest(x.dtype))
        _running_max([_tap(padded, a, b, geo) for a, b in _taps(geo.window)], y[rows])

    over_parts(images, x.shape[0], x.size if splits(x) else 0)
    return y


def _running_max(views, out):
    """out = the elementwise maximum of ``views``, one pass per view."""
    if len(views) == 1:
        out[...] = views[0]
        return
    maximum = xp_of(out).maximum
    maximum(views[0], views[1], out=out)
    for view in views[2:]:
        maximum(out, view, out=out)


@max_pool2d.defvjp(0)
def _max_pool2d_vjp(g, y, x, **params):
    return max_pool2d_backprop(x, y, g, **params)


@primitive
def max_pool2d_backprop(x, y, g, *, pool_size=2, strides=None, padding="valid"):
    """The gradient of :func:`max_pool2d`: g routed to the argmax of each window.

        dx[n, i sh + a*, j sw + b*, c] += g[n, i, j, c],   (a*, b*) the first tap in row-major
                                                          order with xp[...] = y[n, i, j, c]

    ``y`` = max_pool2d(x) is passed in rather than recomputed. The taps are visited in order;
    each takes the part of g whose maximum it holds and passes the rest on, so ties resolve to the
    first maximum, as TensorFlow's MaxPoolGrad does.

    VJPs: dL/dg = max_pool2d_gather(x, y, u) (u = dL/d(dx)), since dx is linear in g; dL/dx and
    dL/dy are 0, since the routing is piecewise constant in them.
    """
    geo = _pool_geometry("max_pool2d_backprop", x.shape, pool_size, strides, padding)
    _check_gradient("max_pool2d_backprop", g, x.shape, geo, x.shape[3])
    xp_mod = xp_of(x, g)
    overlapping = any(s < k for s, k in zip(geo.strides, geo.window))
    padded_shape = (x.shape[1] + sum(geo.pads[0]), x.shape[2] + sum(geo.pads[1]))
    tiled = not overlapping and all(  # every pixel in exactly one window: all written below
        s == k and o * k == n for s, k, o, n in zip(geo.strides, geo.window, geo.out, padded_shape)
    )
    grad = _padded_buffer(xp_mod, x.shape, geo.pads, g.dtype, fill=not tiled)
    taps = _taps(geo.window)

    def images(rows):
        padded = _pad(x[rows], geo.pads, _lowest(x.dtype))
        views = [_tap(padded, a, b, geo) for a, b in taps]
        for (a, b), hit in zip(taps, _first_maxima(views, y[rows])):
            target = _tap(grad[rows], a, b, geo)
            if overlapping:
                target += g[rows] * hit
            else:
                xp_mod.multiply(g[rows], hit, out=target)

    over_parts(images, x.shape[0], x.size if splits(x, g) else 0)
    return _crop(grad, geo.pads, x.shape)


def _first_maxima(views, y):
    """For each of ``views`` in order (a window's taps, each of y's shape), the mask of the
    windows whose first maximum (the first view equal to y) it holds. A window with no view
    equal to y counts for the last, which is never the case when y is their maximum."""
    xp_mod = xp_of(y)
    hit = xp_mod.equal(views[0], y)
    yield hit
    free = xp_mod.logical_not(hit)  # windows whose maximum is not found yet
    for view in views[1:-1]:
        hit = xp_mod.equal(view, y)
        xp_mod.logical_and(hit, free, out=hit)
        xp_mod.logical_xor(free, hit, out=free)
        yield hit
    if len(views) > 1:
        yield free


@max_pool2d_backprop.defvjp(2)
def _max_pool2d_backprop_vjp_g(u, dx, x, y, g, **params):
    return max_pool2d_gather(x, y, u, **params)


@primitive
def max_pool2d_gather(x, y, u, *, pool_size=2, strides=None, padding="valid"):
    """The adjoint of :func:`max_pool2d_backprop` in g: u read at the argmax of each window,

        out[n, i, j, c] = up[n, i sh + a*, j sw + b*, c]      ((a*, b*) as in the backprop)

    x, y and u as in the backprop (u has x's shape). It is what max_pool2d(x) does to a
    perturbation u of x: a second-order term.

    VJPs: dL/du = max_pool2d_backprop(x, y, g); dL/dx = dL/dy = 0.
    """
    geo = _pool_geometry("max_pool2d_gather", x.shape, pool_size, strides, padding)
    padded, values = _pad(x, geo.pads, _lowest(x.dtype)), _pad(u, geo.pads)
    taps = _taps(geo.window)
    gathered = xp_of(x, u).zeros(y.shape, dtype=u.dtype)
    for (a, b), hit in zip(taps, _first_maxima([_tap(padded, a, b, geo) for a, b in taps], y)):
        gathered += _tap(values, a, b, geo) * hit
    return gathered


@max_pool2d_gather.defvjp(2)
def _max_pool2d_gather_vjp_u(g, out, x, y, u, **params):
    return max_pool2d_backprop(x, y, g, **params)


def _zero_vjp_x(g, out, x, y, other, **params):
    """dL/dx = 0: which pixel of a window is its first maximum is piecewise constant in x."""
    return _zeros_like(x)


def _zero_vjp_y(g, out, x, y, other, **params):
    """dL/dy = 0: likewise in y."""
    return _zeros_like(y)


max_pool2d_backprop.defvjp(0)(_zero_vjp_x)
max_pool2d_backprop.defvjp(1)(_zero_vjp_y)
max_pool2d_gather.defvjp(0)(_zero_vjp_x)
max_pool2d_gather.defvjp(1)(_zero_vjp_y)


@primitive
def tile_max(t, *, relu=False):
    """Max pooling of a convolution's output in the tiled layout (see the module): the maximum
    over axis 1, which holds the ph pw pixels of each window,

        y[n, i, j, f] = max_p t[n, p, i, j, f],     t (N, P, Hq, Wq, F) -> y (N, Hq, Wq, F)

    equal to max_pool2d(y_conv, pool_size=(ph, pw)) (strides = pool size, 'valid'), whose
    window pixels t[n, p] lists in row-major order. With ``relu``, y = max(max_p t[n, p], 0):
    the relu that follows the pooling, in the same pass.

    VJP: dL/dt = tile_max_backprop(t, y, g): g to the first p with t[n, p] = y, as max_pool2d's
    (with ``relu``, only where y > 0, as the relu's).
    """
    if t.ndim != 5:
        raise ShapeError(
            f"tile_max: expects a tiled array (batch, window pixels, height, width, channels) "
            f"(5-D); got shape {tuple(t.shape)}."
        )
    xp_mod = xp_of(t)
    y = xp_mod.empty(t.shape[:1] + t.shape[2:], dtype=t.dtype)

    def images(rows):
        part, out = t[rows], y[rows]
        _running_max([part[:, p] for p in range(t.shape[1])], out)
        if relu:
            xp_mod.maximum(out, 0, out=out)

    over_parts(images, t.shape[0], t.size if splits(t) else 0)
    return y


@tile_max.defvjp(0)
def _tile_max_vjp(g, y, t, **params):
    return tile_max_backprop(t, y, g, **params)


@primitive
def tile_max_backprop(t, y, g, *, relu=False):
    """The gradient of :func:`tile_max`: dt[n, p*, i, j, f] = g[n, i, j, f] for the first p* with
    t[n, p*, i, j, f] = y[n, i, j, f], 0 for the other p (and, with ``relu``, 0 where y = 0).

    VJPs: dL/dg = tile_max_gather(t, y, u), u = dL/d(dt) (it is linear in g); dL/dt = dL/dy = 0.
    """
    _check_tiles("tile_max_backprop", t, y, g)
    grad = xp_of(t, g).empty(t.shape, dtype=g.dtype)

    def images(rows):
        _route_to_first_maxima(t[rows], y[rows], _active(g[rows], y[rows], relu), grad[rows])

    over_parts(images, t.shape[0], t.size if splits(t, g) else 0)
    return grad


def _route_to_first_maxima(t, y, g, out):
    """out[n, p] = g where t[n, p] is the first maximum (= y) of its window, else 0."""
    views = [t[:, p] for p in range(t.shape[1])]
    for p, hit in enumerate(_first_maxima(views, y)):
        xp_of(t).multiply(g, hit, out=out[:, p])


def _active(g, y, relu):
    """g, or with ``relu`` g where y > 0 and 0 elsewhere (the relu's own gradient)."""
    return g * (y > 0) if relu else g


def tiled_conv_gradients(
    g,
    y,
    t,
    x,
    kernel,
    *,
    wrt,
    relu=False,
    strides=1,
    padding="valid",
    dilation_rate=1,
    groups=1,
    tiles,
):
    """The gradients of y = tile_max(conv2d(x, kernel, bias, tiles=tiles), relu) with respect to
    the inputs named in ``wrt`` ('x', 'kernel', 'bias'), in that order, computed together:

        G = tile_max_backprop(t, y, g)             (t the convolution's tiled output)
        dL/dx = conv2d_backprop_input(G, kernel)    dL/dkernel = conv2d_backprop_kernel(x, G)
        dL/dbias = sum over n, i, j of g (where y > 0, with relu)

    The same VJPs the engine chains (the bias's sum taken over g, to which G adds only zeros,
    instead of over G), but each thread computes all of them for its part of the batch in one
    go, from its own part of G. Not a primitive: a training step's plan calls it (see
    ``chainrule.plan``); the engine differentiates tile_max and conv2d one at a time.
    """
    op = "tiled_conv_gradients"
    x_shape = x.shape
    geo = _conv_geometry(op, x_shape, kernel.shape, strides, padding, dilation_rate, groups, tiles)
    tiles = _as_tiles(tiles, op)
    xp_mod = xp_of(g, t, x, kernel)
    dtype = xp_mod.result_type(g, kernel)
    dx = _padded_buffer(xp_mod, x_shape, geo.pads, dtype) if "x" in wrt else None
    filters = kernel.shape[3]

    def images(rows):
        active = _active(g[rows], y[rows], relu)
        routed = xp_mod.empty(t[rows].shape, dtype=g.dtype)
        _route_to_first_maxima(t[rows], y[rows], active, routed)
        if dx is not None:
            _add_input_gradient(routed, kernel, dx[rows], geo, groups, tiles)
        dk = _kernel_gradient(x[rows], routed, geo, groups, tiles) if "kernel" in wrt else None
        db = column_sums(active.reshape(-1, filters)) if "bias" in wrt else None
        return dk, db

    # memory passes: routing t, the im2col matrix, and with dx the col2im additions
    columns = t.size // kernel.shape[3] * kernel.shape[0] * kernel.shape[1] * x_shape[3]
    size = t.size + columns * (1 + (dx is not None)) if splits(t, x) else 0
    parts = over_parts(images, x_shape[0], size)
    gradients = {"x": None if dx is None else _crop(dx, geo.pads, x_shape)}
    if "kernel" in wrt:
        dk = parts[0][0]
        for part, _ in parts[1:]:
            dk += part
        gradients["kernel"] = dk.transpose(1, 0, 2).reshape(kernel.shape)
    if "bias" in wrt:
        db = parts[0][1]
        for _, part in parts[1:]:
            db += part
        gradients["bias"] = db
    return tuple(gradients[name] for name in wrt)


def _check_tiles(op, t, y, g):
    if t.ndim != 5 or y.shape != t.shape[:1] + t.shape[2:] or g.shape != y.shape:
        raise ShapeError(
            f"{op}: expects t (N, P, H, W, C) and y, g (N, H, W, C); got shapes "
            f"{tuple(t.shape)}, {tuple(y.shape)} and {tuple(g.shape)}."
        )


@tile_max_backprop.defvjp(2)
def _tile_max_backprop_vjp_g(u, dt, t, y, g, **params):
    return tile_max_gather(t, y, u, **params)


@primitive
def tile_max_gather(t, y, u, *, relu=False):
    """The adjoint of :func:`tile_max_backprop` in g: out[n, i, j, f] = u[n, p*, i, j, f] (and,
    with ``relu``, 0 where y = 0).

    VJPs: dL/du = tile_max_backprop(t, y, g); dL/dt = dL/dy = 0.
    """
    _check_tiles("tile_max_gather", t, y, u[:, 0])
    gathered = xp_of(t, u).zeros(y.shape, dtype=u.dtype)
    views = [t[:, p] for p in range(t.shape[1])]
    for p, hit in enumerate(_first_maxima(views, y)):
        gathered += u[:, p] * hit
    return _active(gathered, y, relu)


@tile_max_gather.defvjp(2)
def _tile_max_gather_vjp_u(g, out, t, y, u, **params):
    return tile_max_backprop(t, y, g, **params)


tile_max_backprop.defvjp(0)(_zero_vjp_x)
tile_max_backprop.defvjp(1)(_zero_vjp_y)
tile_max_gather.defvjp(0)(_zero_vjp_x)
tile_max_gather.defvjp(1)(_zero_vjp_y)


def _float(dtype):
    """The dtype an average is computed in: the input's if floating, else float32."""
    return dtype if dtype.kind == "f" else numpy.dtype("float32")


def _window_counts(xp_mod, shape, geo, dtype):
    """m_ij, how many real (unpadded) pixels each output window covers, shape (Ho, Wo, 1)."""
    counts = []
    for length, k, s, (before, _), n in zip(shape[1:3], geo.window, geo.strides, geo.pads, geo.out):
        starts = xp_mod.arange(n) * s - before
        counts.append(xp_mod.clip(starts + k, 0, length) - xp_mod.clip(starts, 0, length))
    return (counts[0][:, None, None] * counts[1][None, :, None]).astype(dtype)


@primitive
def avg_pool2d(x, *, pool_size=2, strides=None, padding="valid"):
    """Average pooling, channels_last: the mean of the real pixels of each window,

        y[n, i, j, c] = (1 / m_ij) sum_{a < ph, b < pw} xp[n, i sh + a, j sw + b, c]

    where m_ij counts the window's pixels that are not padding (TensorFlow's 'same' behaviour;
    m = ph pw everywhere with 'valid').

    VJP: dL/dx = avg_pool2d_backprop(g, x.shape): each g[n, i, j, c] / m_ij spread evenly over
    its window.
    """
    geo = _pool_geometry("avg_pool2d", x.shape, pool_size, strides, padding)
    xp_mod = xp_of(x)
    padded = _pad(x, geo.pads)
    taps = _taps(geo.window)
    total = _tap(padded, *taps[0], geo).astype(_float(x.dtype))
    for a, b in taps[1:]:
        total += _tap(padded, a, b, geo)
    return total / _window_counts(xp_mod, x.shape, geo, total.dtype)


@avg_pool2d.defvjp(0)
def _avg_pool2d_vjp(g, y, x, **params):
    return avg_pool2d_backprop(g, input_shape=x.shape, **params)


@primitive
def avg_pool2d_backprop(g, *, input_shape, pool_size=2, strides=None, padding="valid"):
    """The gradient of :func:`avg_pool2d`: each g spread evenly over its window's real pixels,

        dx[n, i sh + a - pt, j sw + b - pl, c] += g[n, i, j, c] / m_ij

    VJP (linear in g; the map u -> sum over each window of u / m_ij is avg_pool2d itself):
    dL/dg = avg_pool2d(u), u = dL/d(dx).
    """
    geo = _pool_geometry("avg_pool2d_backprop", input_shape, pool_size, strides, padding)
    _check_gradient("avg_pool2d_backprop", g, input_shape, geo, input_shape[3])
    xp_mod = xp_of(g)
    share = g / _window_counts(xp_mod, input_shape, geo, g.dtype)
    grad = _padded_buffer(xp_mod, input_shape, geo.pads, g.dtype)
    for a, b in _taps(geo.window):
        target = _tap(grad, a, b, geo)
        target += share
    return _crop(grad, geo.pads, input_shape)


@avg_pool2d_backprop.defvjp(0)
def _avg_pool2d_backprop_vjp(u, dx, g, *, input_shape, **params):
    return avg_pool2d(u, **params)
