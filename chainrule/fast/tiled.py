"""A convolution computed in the layout of the max pooling that reads it, and that block's
gradients in one call: what a training step's plan runs for a conv -> max-pool block.

A max pooling whose windows tile its input (strides equal to the pool size (ph, pw), no
padding) reads each output pixel of the convolution once. The convolution can then write its
output already grouped by pooling window::

    t[n, a pw + b, i, j, f] = y[n, i ph + a, j pw + b, f]    (N, ph pw, Ho // ph, Wo // pw, F)

the same numbers in another order (rows and columns that no window reads are not computed), and
the pooling is the maximum over axis 1 (:func:`tile_max`): whole contiguous arrays instead of
strided windows. The block's gradients (:func:`tiled_conv_gradients`) route g to each window's
first maximum and reach the kernel without a full-size scatter, each thread for its own images.
Where Numba is installed, the pooling and the routing are one compiled pass each (:mod:`.fused`).

None of these is a primitive: the plan (:mod:`.plan`) rewrites a checked step into them, and the
tests hold them equal to the primitives they replace (``conv2d``, ``max_pool2d`` and their VJPs).
"""

from ..backend import xp_of
from ..engine import ShapeError
from ..ops.conv import (
    conv2d_setup,
    conv_geometry,
    kernel_from_groups,
    product_buffer,
)
from ..ops.pooling import first_maxima, running_max
from ..ops.windows import as_tuple, crop, padded_buffer, tile
from . import fused, threads, winograd
from .kernels import (
    add_input_gradient,
    add_into,
    column_sums,
    convolve_in_chunks,
    kernel_gradient,
    product_chunks,
)


def _pairs(t):
    """The shape of a 2 x 2 tiled array (N, 4, Hq, Wq, F) as (N, 2, 2, Hq, Wq, F), the layout
    of Winograd's tiles (:func:`.fused.winograd_untiles`)."""
    return (t.shape[0], 2, 2, *t.shape[2:])


def _fitting_tiles(op, geo, tiles):
    """``tiles`` as a pair of positive ints, each tile fitting in the convolution's output."""
    tiles = as_tuple(tiles, 2, "tiles", op)
    if any(o < k for o, k in zip(geo.out, tiles)):
        raise ShapeError(
            f"{op}: tiles={tiles} do not fit the output's height and width {geo.out}: each "
            f"tile (a pooling window) must fit in the output."
        )
    return tiles


def conv2d_tiled(
    x, kernel, bias=None, *, tiles, strides=1, padding="valid", dilation_rate=1, groups=1
):
    """conv2d(x, kernel, bias) in the tiled layout of a (ph, pw) = ``tiles`` max pooling:
    t of shape (N, ph pw, Ho // ph, Wo // pw, F) (see the module), the batch cut over the
    threads. A 3 x 3 convolution of stride 1 into 2 x 2 tiles runs by Winograd's algorithm
    where it suits (:mod:`.winograd`: the same numbers to rounding), else as im2col products
    (the same numbers, bit for bit)."""
    op = "conv2d_tiled"
    geo, weights = conv2d_setup(op, x, kernel, bias, strides, padding, dilation_rate, groups)
    tiles = _fitting_tiles(op, geo, tiles)
    (ph, pw), (ho, wo), filters = tiles, geo.out, kernel.shape[3]
    t = product_buffer(x, kernel, (x.shape[0], ph * pw, ho // ph, wo // pw, filters))
    transformed = None
    if tiles == (2, 2) and winograd.suits(x, kernel.shape, geo, groups, kernel.dtype):
        transformed = winograd.transformed_kernel(kernel)

    def images(rows):
        if transformed is not None:
            part = t[rows]
            winograd.convolve_tiled(x[rows], transformed, bias, part.reshape(_pairs(part)), geo)
            return
        convolve_in_chunks(
            x[rows], weights, bias, t[rows], geo, groups, lambda view: tile(view, tiles)
        )

    im2col = t.size // filters * kernel.shape[0] * kernel.shape[1] * x.shape[3]
    threads.over_parts(images, x.shape[0], im2col + t.size if threads.splits(x) else 0)
    return t


def tile_max(t, *, relu=False):
    """The max pooling of a tiled convolution's output: the maximum over axis 1, which holds
    the ph pw pixels of each window,

        y[n, i, j, f] = max_p t[n, p, i, j, f],     t (N, P, Hq, Wq, F) -> y (N, Hq, Wq, F)

    equal to max_pool2d(y_conv, pool_size=(ph, pw)); with ``relu``, y = max(max_p t[n, p], 0),
    the relu that follows the pooling, in the same pass.
    """
    if t.ndim != 5:
        raise ShapeError(
            f"tile_max: expects a tiled array (batch, window pixels, height, width, channels) "
            f"(5-D); got shape {tuple(t.shape)}."
        )
    xp_mod = xp_of(t)
    y = xp_mod.empty(t.shape[:1] + t.shape[2:], dtype=t.dtype)
    kernel = fused.for_arrays("tile_max", t, y)

    def images(rows):
        part, out = t[rows], y[rows]
        if kernel is not None:
            kernel(*_windows(part, out), relu)
            return
        running_max([part[:, p] for p in range(t.shape[1])], out)
        if relu:
            xp_mod.maximum(out, 0, out=out)

    threads.over_parts(images, t.shape[0], t.size if threads.splits(t) else 0)
    return y


def _windows(t, *arrays):
    """t (N, P, Hq, Wq, F) as (N, P, Q) and each array (N, Hq, Wq, F) or (N, P, Hq, Wq, F) as
    (N, Q) or (N, P, Q): the flat layout of the kernels of :mod:`.fused`."""
    return t.reshape(*t.shape[:2], -1), *(a.reshape(*a.shape[: a.ndim - 3], -1) for a in arrays)


def _route_to_first_maxima(t, y, g, out):
    """out[n, p] = g where t[n, p] is the first maximum (= y) of its window, else 0: the
    gradient of tile_max, ties to the first maximum as max_pool2d's."""
    kernel = fused.for_arrays("route_to_first_maxima", t, y, g, out)
    if kernel is not None:
        kernel(*_windows(t, y, g, out))
        return
    views = [t[:, p] for p in range(t.shape[1])]
    for p, hit in enumerate(first_maxima(views, y)):
        xp_of(t).multiply(g, hit, out=out[:, p])


def _untile(routed, tiles):
    """The tiled gradient back in the convolution's layout (N, Ho, Wo, F) over the pixels the
    tiles cover, (N, Hq ph, Wq pw, F)."""
    (ph, pw), (n, _, hq, wq, filters) = tiles, routed.shape
    untiled = xp_of(routed).empty((n, hq * ph, wq * pw, filters), routed.dtype)
    window_pixels = tile(untiled, tiles)
    window_pixels[...] = routed.reshape(window_pixels.shape)
    return untiled


def tiled_conv_gradients(
    g,
    y,
    t,
    x,
    kernel,
    *,
    wrt,
    tiles,
    relu=False,
    strides=1,
    padding="valid",
    dilation_rate=1,
    groups=1,
):
    """The gradients of y = tile_max(conv2d_tiled(x, kernel, bias, tiles=tiles), relu) with
    respect to the inputs named in ``wrt`` ('x', 'kernel', 'bias'), in that order:

        G = g routed to the first maximum of each window (only where y > 0, with relu)
        dL/dx = conv2d_backprop_input(G, kernel)    dL/dkernel = conv2d_backprop_kernel(x, G)
        dL/dbias = sum over n, i, j of g (where y > 0, with relu)

    The VJPs the engine chains for max_pool2d(conv2d(...)) (the bias's sum taken over g, to
    which G adds only zeros), but each thread computes all of them for its images, a chunk of
    images at a time (:func:`.kernels.product_chunks`, counting G and the im2col matrix), so
    that G is read back from the cache. The kernel's and bias's sums are added chunk by chunk,
    then part by part, in order. Where the convolution runs by Winograd's algorithm, so do the
    input and kernel gradients (:func:`.winograd.gradients`).
    """
    op = "tiled_conv_gradients"
    geo = conv_geometry(op, x.shape, kernel.shape, strides, padding, dilation_rate, groups)
    tiles = _fitting_tiles(op, geo, tiles)
    xp_mod = xp_of(g, t, x, kernel)
    dtype = xp_mod.result_type(g, kernel)
    dx = padded_buffer(xp_mod, x.shape, geo.pads, dtype) if "x" in wrt else None
    filters = kernel.shape[3]
    covered = geo._replace(out=(t.shape[2] * tiles[0], t.shape[3] * tiles[1]))

    transformed = None  # the gradients by Winograd's algorithm, where they suit
    if tiles == (2, 2) and winograd.suits_gradients(x, kernel.shape, geo, groups, g.dtype):
        transformed = winograd.transformed_kernel(kernel)
    dx_by_winograd = transformed is not None and dx is not None
    dk_by_winograd = transformed is not None and "kernel" in wrt

    def chunk(rows):
        active = g[rows] * (y[rows] > 0) if relu else g[rows]
        routed = xp_mod.empty(t[rows].shape, dtype=g.dtype)
        _route_to_first_maxima(t[rows], y[rows], active, routed)
        if dx is not None and not dx_by_winograd:
            add_input_gradient(_untile(routed, tiles), kernel, dx[rows], covered, groups)
        dk = None
        if dx_by_winograd or dk_by_winograd:
            part_dx = dx[rows] if dx_by_winograd else None
            dy = routed.reshape(_pairs(routed))
            dk = winograd.gradients(x[rows], dy, transformed, part_dx, geo, dk_by_winograd)
        elif "kernel" in wrt:
            dk = kernel_gradient(x[rows], routed, geo, groups, lambda view: tile(view, tiles))
        db = column_sums(active.reshape(-1, filters)) if "bias" in wrt else None
        return dk, db

    pixels = t[0].size // filters if len(t) else 1
    per_pixel = filters + kernel.shape[0] * kernel.shape[1] * x.shape[3]

    def images(rows):
        dk = db = None
        for some in product_chunks(rows.stop - rows.start, pixels, per_pixel):
            stop = min(rows.start + some.stop, rows.stop)  # the chunks end with the part
            chunk_dk, chunk_db = chunk(slice(rows.start + some.start, stop))
            dk, db = add_into(dk, chunk_dk), add_into(db, chunk_db)
        return dk, db

    # memory passes: routing t, the im2col matrix, and with dx the col2im additions
    im2col = t.size // filters * kernel.shape[0] * kernel.shape[1] * x.shape[3]
    work = t.size + im2col * (1 + (dx is not None)) if threads.splits(t, x) else 0
    parts = threads.over_parts(images, x.shape[0], work)
    gradients = {"x": None if dx is None else crop(dx, geo.pads, x.shape)}
    dk = db = None
    for part_dk, part_db in parts:
        dk, db = add_into(dk, part_dk), add_into(db, part_db)
    if "kernel" in wrt:
        gradients["kernel"] = kernel_from_groups(dk, kernel.shape)
    if "bias" in wrt:
        gradients["bias"] = db
    return tuple(gradients[name] for name in wrt)
