"""Convolution over images in ``channels_last`` layout, with its backward passes.

Notation (one image batch, NHWC as in Keras and TensorFlow; see :mod:`.windows`)::

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

X holds kh kw C numbers per pixel and col2im adds kh kw C per pixel. A convolution that keeps
few of its channels (C >= 4 F, a generator's last layer) makes instead the products by the
kernel's taps, kh kw F numbers per pixel (:func:`narrows`): Y as the sum over the taps of the
shifted products xp K_ab, dL/dX as the im2col of g with the window flipped, and dL/dK from that
same matrix of g.

The backward passes are primitives themselves (``conv2d_backprop_input``,
``conv2d_backprop_kernel``), each with its own VJPs, so that every VJP runs on Tensors and second
derivatives come from the engine. Each op works image by image through a function of some images
(:func:`convolve`, :func:`add_input_gradient`, :func:`kernel_gradient` and the im2col matrix
of :func:`columns`), which :mod:`chainrule.fast` reuses to cut a batch over the cores.
"""

from ..backend import xp_of
from ..engine import ShapeError, primitive
from .shape import expand_dims, squeeze
from .windows import (
    PADDINGS,
    Geometry,
    as_padding,
    as_tuple,
    check_gradient,
    crop,
    is_int,
    output_length,
    pad,
    padded_buffer,
    tap,
    taps,
    window_geometry,
)

__all__ = [
    "as_padding",
    "as_tuple",
    "conv1d",
    "conv2d",
    "conv2d_backprop_input",
    "conv2d_backprop_kernel",
    "output_length",
]


def conv_geometry(op, x_shape, kernel_shape, strides, padding, dilation_rate, groups):
    """Check a convolution's shapes and arguments; the :class:`Geometry` of its windows."""
    if len(kernel_shape) != 4:
        raise ShapeError(
            f"{op}: expects a kernel of shape (kernel_height, kernel_width, in_channels / groups, "
            f"filters) (4-D); got shape {tuple(kernel_shape)}."
        )
    if not is_int(groups) or groups < 1:
        raise ValueError(f"{op}: `groups` must be a positive integer; received groups={groups!r}.")
    geo = window_geometry(op, x_shape, kernel_shape[:2], strides, dilation_rate, padding)
    channels, filters = x_shape[3], kernel_shape[3]
    if channels != kernel_shape[2] * groups or filters % groups:
        raise ShapeError(
            f"{op}: an input of shape {tuple(x_shape)} ({channels} channels) does not match a "
            f"kernel of shape {tuple(kernel_shape)} with groups={groups}: the kernel's axis 2 must "
            f"be channels / groups = {channels / groups:g} and its axis 3 (filters, "
            f"{filters}) a multiple of groups."
        )
    return geo


def columns(x, geo, groups, pixel_order=None, ones=False):
    """The im2col matrix of x, one per group: (G, N Ho Wo, kh kw C/G), rows ordered (n, i, j),
    columns (a, b, c) as the kernel's axes, so that X_q K_q is group q's convolution.

    ``pixel_order`` (a function of a view whose first axes are (N, Ho, Wo), returning a view of
    the same pixels in another order, possibly fewer) reorders the rows; the default keeps
    (n, i, j). A strided view picks every window without copying; the reshape makes the one copy.
    With a single input channel that copy would move one number at a time, so the matrix is
    filled tap by tap instead, each tap a run of whole image rows, and returned as the transpose
    of a (1, kh kw, N Ho Wo) array, which the matrix products read as well; ``ones`` then appends
    a column of ones (so that a product with the kernel and the bias below it adds the bias).
    """
    order = pixel_order or (lambda view: view)
    xp_mod = xp_of(x)
    padded = pad(x, geo.pads)
    n, c = x.shape[0], x.shape[3]
    (kh, kw), (sh, sw), (dh, dw), (ho, wo) = geo.window, geo.strides, geo.dilation, geo.out
    if c == 1:
        pixels = order(xp_mod.empty((n, ho, wo), dtype=x.dtype)).shape
        matrix = xp_mod.empty((kh * kw + ones, *pixels), dtype=x.dtype)
        for t, (a, b) in enumerate(taps(geo.window)):
            matrix[t] = order(tap(padded, a, b, geo)[..., 0])
        if ones:
            matrix[-1] = 1
        return matrix.reshape(1, kh * kw + ones, -1).transpose(0, 2, 1)
    extent = ((kh - 1) * dh + 1, (kw - 1) * dw + 1)
    views = xp_mod.lib.stride_tricks.sliding_window_view(padded, extent, axis=(1, 2))
    views = views[:, : sh * (ho - 1) + 1 : sh, : sw * (wo - 1) + 1 : sw, :, ::dh, ::dw]
    views = order(views.reshape(n, ho, wo, groups, c // groups, kh, kw))
    r = views.ndim - 4  # the pixel axes: (n, i, j), or as many as pixel_order makes
    views = views.transpose(r, *range(r), r + 2, r + 3, r + 1)
    return views.reshape(groups, -1, kh * kw * (c // groups))


def by_group(a, groups):
    """a (..., F) as (G, M, F/G): the columns of each group's output, M the other axes' size."""
    return a.reshape(-1, groups, a.shape[-1] // groups).transpose(1, 0, 2)


def group_weights(kernel, bias, groups, ones):
    """The kernel as G matrices (G, kh kw C/G, F/G); with ``ones`` (one input channel, one group),
    the bias as one more row, for the column of ones that :func:`columns` appends."""
    filters = kernel.shape[3]
    weights = kernel.reshape(-1, groups, filters // groups).transpose(1, 0, 2)
    if ones:
        weights = xp_of(kernel).concatenate([weights[0], bias[None].astype(weights.dtype)])[None]
    return weights


def bias_in_product(x, bias):
    """True where the bias is added in the product: with one input channel the im2col matrix is
    short (kh kw columns), and a column of ones with the bias below the kernel saves a pass over
    the output."""
    return bias is not None and x.shape[3] == 1


def convolve(x, weights, bias, out, geo, groups, pixel_order=None):
    """Write the convolution of images x into ``out`` (their rows of y): out = X K (+ b).

    ``weights`` from :func:`group_weights`; the bias is added here unless it is inside them.
    """
    filters = out.shape[-1]
    if pixel_order is None and narrows(x.shape[3], filters, geo, groups):
        _convolve_products_first(x, weights[0], out, geo)
        if bias is not None:
            out += bias
        return
    ones = bias_in_product(x, bias)
    matrix = columns(x, geo, groups, pixel_order, ones=ones)
    if groups == 1:
        xp_of(x).matmul(matrix[0], weights[0], out=out.reshape(-1, filters))
    else:
        out[...] = (matrix @ weights).transpose(1, 0, 2).reshape(out.shape)
    if bias is not None and not ones:
        out += bias


#: A convolution keeping at most 1 / NARROWING of its channels (as a generator's last layer
#: does, 128 channels to 1) computes with products first (:func:`narrows`).
NARROWING = 4


def narrows(channels, filters, geo, groups):
    """True for a convolution of stride 1, one group and a window of several taps that keeps at
    most 1 / NARROWING of its channels. Its im2col matrix, kh kw C numbers per output pixel, is
    then much larger than the kh kw F numbers per pixel of the products by the kernel's taps, so
    :func:`convolve`, :func:`add_input_gradient` and :func:`kernel_gradient` make those instead
    (on one core, a 7 x 7 convolution of 64 images of 28 x 28 x 128 to 1 channel took 263 ms
    through im2col and 31 ms products first; its input gradient 430 ms through col2im and 24 ms
    through the im2col of g; at a quarter of the channels, 64 to 16, 41 and 35 ms, 26 and 23 ms;
    at half, 64 to 32, the usual forms were faster)."""
    return (
        groups == 1
        and geo.strides == (1, 1)
        and geo.window != (1, 1)
        and channels >= NARROWING * filters
    )


def _convolve_products_first(x, weights, out, geo):
    """out = the convolution of x by weights (kh kw C, F) with stride 1, made as P = xp K',
    K' the kernel as (C, kh kw F), over the padded pixels, and then out[n, i, j] = sum over the
    taps (a, b) of P[n, i + a dh, j + b dw, (a, b)]."""
    kh, kw = geo.window
    channels, filters = x.shape[3], out.shape[-1]
    padded = pad(x, geo.pads)
    kernel = weights.reshape(kh * kw, channels, filters).transpose(1, 0, 2)
    products = padded.reshape(-1, channels) @ kernel.reshape(channels, kh * kw * filters)
    products = products.reshape(*padded.shape[:3], kh * kw, filters)
    for t, (a, b) in enumerate(taps(geo.window)):
        share = tap(products[..., t, :], a, b, geo)
        if t:
            out += share
        else:
            xp_of(out).copyto(out, share)


def _transposed_geometry(geo, g):
    """The geometry of the stride-1 convolution that, run over g (the gradient of a stride-1
    convolution of ``geo``) with the window flipped, gives for each pixel of the padded input
    the sum over the output pixels that read it: g padded by the window's extent."""
    (kh, kw), (dh, dw) = geo.window, geo.dilation
    pads = (((kh - 1) * dh,) * 2, ((kw - 1) * dw,) * 2)
    out = (g.shape[1] + (kh - 1) * dh, g.shape[2] + (kw - 1) * dw)
    return Geometry(geo.window, (1, 1), geo.dilation, pads, out)


def _input_gradient_by_columns(g, kernel, grad, geo):
    """Add to ``grad`` the input gradient of a narrowing convolution (:func:`narrows`): g
    convolved with the kernel flipped in space and its channel axes swapped, through the
    im2col matrix of g (kh kw F numbers per input pixel) instead of col2im's kh kw C-wide
    additions. g may cover the first output rows and columns only (as a tiled pooling's does):
    the pixels they read are the first of ``grad``'s."""
    flipped = kernel[::-1, ::-1].transpose(0, 1, 3, 2)
    transposed = _transposed_geometry(geo, g)
    height, width = transposed.out
    out = xp_of(grad).empty((len(g), height, width, grad.shape[3]), dtype=grad.dtype)
    convolve(g, group_weights(flipped, None, 1, False), None, out, transposed, 1)
    grad[:, :height, :width] += out


def kernel_gradient_by_columns(x, g, geo):
    """The kernel gradient of a narrowing convolution (:func:`narrows`) over some images, as
    :func:`kernel_gradient` returns it, (1, kh kw C, F): the sum over the padded pixels q of
    xp[q]ᵀ times the output gradients of the windows that read q, the im2col matrix of g with
    the window flipped (kh kw F numbers per pixel) instead of that of x (kh kw C)."""
    (kh, kw), channels, filters = geo.window, x.shape[3], g.shape[3]
    padded = pad(x, geo.pads)
    g_columns = columns(g, _transposed_geometry(geo, g), 1)[0]
    products = padded.reshape(-1, channels).T @ g_columns  # (C, kh kw F), taps flipped
    products = products.reshape(channels, kh, kw, filters)[:, ::-1, ::-1]
    return products.transpose(1, 2, 0, 3).reshape(1, kh * kw * channels, filters)


def conv2d_setup(op, x, kernel, bias, strides, padding, dilation_rate, groups):
    """Check a convolution's arguments; its :class:`Geometry` and the kernel as the G matrices
    that :func:`convolve` multiplies by (:func:`group_weights`)."""
    geo = conv_geometry(op, x.shape, kernel.shape, strides, padding, dilation_rate, groups)
    filters = kernel.shape[3]
    if bias is not None and bias.shape != (filters,):
        raise ShapeError(
            f"{op}: the bias must have shape ({filters},), one value per filter; got shape "
            f"{bias.shape}."
        )
    return geo, group_weights(kernel, bias, groups, bias_in_product(x, bias))


def product_buffer(a, b, shape):
    """An uninitialised array of ``shape`` in the dtype of a product of a and b."""
    xp_mod = xp_of(a, b)
    return xp_mod.empty(shape, xp_mod.result_type(a, b))


@primitive
def conv2d(x, kernel, bias=None, *, strides=1, padding="valid", dilation_rate=1, groups=1):
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

    Returns:
        y of shape (N, Ho, Wo, F).

    VJPs:  dL/dx = conv2d_backprop_input(g, kernel)   (col2im of G Kᵀ)
           dL/dkernel = conv2d_backprop_kernel(x, g)  (Xᵀ G)
           dL/db = sum of g over n, i, j.

    Raises:
        ShapeError: for a 3-D input, mismatched channels, or a kernel larger than the padded input.
    """
    geo, weights = conv2d_setup("conv2d", x, kernel, bias, strides, padding, dilation_rate, groups)
    y = product_buffer(x, kernel, (x.shape[0], *geo.out, kernel.shape[3]))
    convolve(x, weights, bias, y, geo, groups)
    return y


@conv2d.defvjp(0)
def _conv2d_vjp_x(g, y, x, kernel, bias=None, **params):
    return conv2d_backprop_input(g, kernel, input_shape=x.shape, **params)


@conv2d.defvjp(1)
def _conv2d_vjp_kernel(g, y, x, kernel, bias=None, **params):
    return conv2d_backprop_kernel(x, g, kernel_shape=kernel.shape, **params)


@conv2d.defvjp(2)
def _conv2d_vjp_bias(g, y, x, kernel, bias=None, **params):
    return g.reshape(-1, g.shape[-1]).sum(axis=0)


@primitive
def conv2d_backprop_input(
    g, kernel, *, input_shape, strides=1, padding="valid", dilation_rate=1, groups=1
):
    """The gradient of :func:`conv2d` with respect to its input (a transposed convolution):

        dx[n, i sh + a dh - pt, j sw + b dw - pl, c] += sum_f g[n, i, j, f] kernel[a, b, c, f]

    i.e. dX = G Kᵀ followed by col2im: tap (a, b) of every window adds its share back to the pixel
    it read. This equals a convolution of g (dilated by the strides, padded by the window) with
    the kernel flipped in space and its channel axes swapped.

    Args:
        g: (N, Ho, Wo, F).  kernel: (kh, kw, C / groups, F).
        input_shape: (N, H, W, C), the shape of x (needed because strides drop pixels).
        strides, padding, dilation_rate, groups: those of the convolution.

    VJPs (it is linear in both g and the kernel):
        dL/dg = conv2d(u, kernel),   dL/dkernel = conv2d_backprop_kernel(u, g),   u = dL/d(dx).
    """
    op = "conv2d_backprop_input"
    geo = conv_geometry(op, input_shape, kernel.shape, strides, padding, dilation_rate, groups)
    check_gradient(op, g, input_shape, (input_shape[0], *geo.out, kernel.shape[3]))
    xp_mod = xp_of(g, kernel)
    grad = padded_buffer(xp_mod, input_shape, geo.pads, xp_mod.result_type(g, kernel))
    add_input_gradient(g, kernel, grad, geo, groups)
    return crop(grad, geo.pads, input_shape)


def add_input_gradient(g, kernel, grad, geo, groups):
    """Add the input gradient of some images, G Kᵀ scattered back by col2im, into ``grad``
    (their rows of the padded gradient buffer); g is their rows of the output gradient,
    (n, Ho, Wo, F) for ``geo.out`` = (Ho, Wo).

    One product per tap, (G, M, F/G) @ (G, F/G, C/G), into one buffer, added at once to the
    pixels the tap read."""
    kh, kw, cg, filters = kernel.shape
    if narrows(cg * groups, filters, geo, groups):
        _input_gradient_by_columns(g, kernel, grad, geo)
        return
    xp_mod = xp_of(g, kernel)
    weights = kernel.reshape(kh * kw, cg, groups, filters // groups).transpose(0, 2, 3, 1)
    rows = by_group(g, groups)  # (G, M, F/G)
    share = xp_mod.empty((groups, rows.shape[1], cg), dtype=grad.dtype)
    for t, (a, b) in enumerate(taps(geo.window)):
        xp_mod.matmul(rows, weights[t], out=share)
        target = tap(grad, a, b, geo)
        target += share.transpose(1, 0, 2).reshape(target.shape)


@conv2d_backprop_input.defvjp(0)
def _conv2d_backprop_input_vjp_g(u, dx, g, kernel, *, input_shape, **params):
    return conv2d(u, kernel, **params)


@conv2d_backprop_input.defvjp(1)
def _conv2d_backprop_input_vjp_kernel(u, dx, g, kernel, *, input_shape, **params):
    return conv2d_backprop_kernel(u, g, kernel_shape=kernel.shape, **params)


@primitive
def conv2d_backprop_kernel(
    x, g, *, kernel_shape, strides=1, padding="valid", dilation_rate=1, groups=1
):
    """The gradient of :func:`conv2d` with respect to its kernel:

        dkernel[a, b, c, f] = sum_{n, i, j} xp[n, i sh + a dh, j sw + b dw, c] g[n, i, j, f]

    i.e. dK = Xᵀ G, one matrix product per group over all N Ho Wo output pixels.

    Args:
        x: (N, H, W, C).  g: (N, Ho, Wo, F).  kernel_shape: (kh, kw, C / groups, F).
        strides, padding, dilation_rate, groups: those of the convolution.

    VJPs (it is linear in both x and g):
        dL/dx = conv2d_backprop_input(g, v),   dL/dg = conv2d(x, v),   v = dL/d(dkernel).
    """
    op = "conv2d_backprop_kernel"
    geo = conv_geometry(op, x.shape, kernel_shape, strides, padding, dilation_rate, groups)
    check_gradient(op, g, x.shape, (x.shape[0], *geo.out, kernel_shape[3]))
    return kernel_from_groups(kernel_gradient(x, g, geo, groups), kernel_shape)


def kernel_gradient(x, g, geo, groups):
    """Xᵀ G over some images: (G, kh kw C/G, F/G), the kernel gradient's share of images x with
    output gradient g, one product per group summing over their N Ho Wo pixels."""
    if narrows(x.shape[3], g.shape[3], geo, groups):
        return kernel_gradient_by_columns(x, g, geo)
    return columns(x, geo, groups).mT @ by_group(g, groups)


def kernel_from_groups(grad, kernel_shape):
    """(G, kh kw C/G, F/G) back to the kernel's shape (kh, kw, C/G, F)."""
    return grad.transpose(1, 0, 2).reshape(kernel_shape)


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
