"""Max and average pooling over images in ``channels_last`` layout, with their backward passes.

Notation as in :mod:`.windows`: x (N, H, W, C), windows (ph, pw) moved by strides (sh, sw)
(default: the pool size), y (N, Ho, Wo, C). A pooling reads the ph pw taps of each window, each
one strided view of the whole batch, so its passes are whole-array NumPy operations.

The backward passes are primitives themselves (``max_pool2d_backprop``, ``avg_pool2d_backprop``)
with their own VJPs, so second derivatives come from the engine. Max pooling works image by
image through :func:`pool_max` and :func:`route_max_gradient`, which :mod:`chainrule.fast`
reuses to cut a batch over the cores.
"""

import numpy

from ..backend import xp_of
from ..engine import primitive
from .windows import as_tuple, check_gradient, crop, pad, padded_buffer, tap, taps, window_geometry


def pool_geometry(op, x_shape, pool_size, strides, padding):
    """Check a pooling op's arguments (strides default to the pool size); its :class:`Geometry`."""
    window = as_tuple(pool_size, 2, "pool_size", op)
    return window_geometry(op, x_shape, window, window if strides is None else strides, 1, padding)


def _lowest(dtype):
    """The padding value that never wins a max: -inf, or the smallest integer."""
    return -numpy.inf if dtype.kind == "f" else numpy.iinfo(dtype).min


def zeros_like(a):
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
    geo = pool_geometry("max_pool2d", x.shape, pool_size, strides, padding)
    y = xp_of(x).empty((x.shape[0], *geo.out, x.shape[3]), dtype=x.dtype)
    pool_max(x, y, geo)
    return y


def pool_max(x, out, geo):
    """Write the max pooling of images x into ``out`` (their rows of y)."""
    padded = pad(x, geo.pads, _lowest(x.dtype))
    running_max([tap(padded, a, b, geo) for a, b in taps(geo.window)], out)


def running_max(views, out):
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
    geo = pool_geometry("max_pool2d_backprop", x.shape, pool_size, strides, padding)
    check_gradient("max_pool2d_backprop", g, x.shape, (x.shape[0], *geo.out, x.shape[3]))
    grad = max_gradient_buffer(x, g, geo)
    route_max_gradient(x, y, g, grad, geo)
    return crop(grad, geo.pads, x.shape)


def _overlapping(geo):
    """True if some pixel lies in more than one window."""
    return any(s < k for s, k in zip(geo.strides, geo.window))


def max_gradient_buffer(x, g, geo):
    """The padded buffer that max pooling's gradient is routed into: zeros, or left
    uninitialised where every padded pixel lies in exactly one window (each is written)."""
    padded_shape = (x.shape[1] + sum(geo.pads[0]), x.shape[2] + sum(geo.pads[1]))
    tiled = not _overlapping(geo) and all(
        s == k and o * k == n for s, k, o, n in zip(geo.strides, geo.window, geo.out, padded_shape)
    )
    return padded_buffer(xp_of(x, g), x.shape, geo.pads, g.dtype, fill=not tiled)


def route_max_gradient(x, y, g, grad, geo):
    """Route g of some images to the first maximum of each window, into ``grad`` (their rows of
    the buffer from :func:`max_gradient_buffer`)."""
    xp_mod = xp_of(x, g)
    overlapping = _overlapping(geo)
    window_taps = taps(geo.window)
    padded = pad(x, geo.pads, _lowest(x.dtype))
    views = [tap(padded, a, b, geo) for a, b in window_taps]
    for (a, b), hit in zip(window_taps, first_maxima(views, y)):
        target = tap(grad, a, b, geo)
        if overlapping:
            target += g * hit
        else:
            xp_mod.multiply(g, hit, out=target)


def first_maxima(views, y):
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
    geo = pool_geometry("max_pool2d_gather", x.shape, pool_size, strides, padding)
    padded, values = pad(x, geo.pads, _lowest(x.dtype)), pad(u, geo.pads)
    window_taps = taps(geo.window)
    gathered = xp_of(x, u).zeros(y.shape, dtype=u.dtype)
    views = [tap(padded, a, b, geo) for a, b in window_taps]
    for (a, b), hit in zip(window_taps, first_maxima(views, y)):
        gathered += tap(values, a, b, geo) * hit
    return gathered


@max_pool2d_gather.defvjp(2)
def _max_pool2d_gather_vjp_u(g, out, x, y, u, **params):
    return max_pool2d_backprop(x, y, g, **params)


def zero_vjp_x(g, out, x, y, other, **params):
    """dL/dx = 0: which pixel of a window is its first maximum is piecewise constant in x."""
    return zeros_like(x)


def zero_vjp_y(g, out, x, y, other, **params):
    """dL/dy = 0: likewise in y."""
    return zeros_like(y)


max_pool2d_backprop.defvjp(0)(zero_vjp_x)
max_pool2d_backprop.defvjp(1)(zero_vjp_y)
max_pool2d_gather.defvjp(0)(zero_vjp_x)
max_pool2d_gather.defvjp(1)(zero_vjp_y)


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
    geo = pool_geometry("avg_pool2d", x.shape, pool_size, strides, padding)
    xp_mod = xp_of(x)
    padded = pad(x, geo.pads)
    window_taps = taps(geo.window)
    total = tap(padded, *window_taps[0], geo).astype(_float(x.dtype))
    for a, b in window_taps[1:]:
        total += tap(padded, a, b, geo)
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
    geo = pool_geometry("avg_pool2d_backprop", input_shape, pool_size, strides, padding)
    check_gradient(
        "avg_pool2d_backprop", g, input_shape, (input_shape[0], *geo.out, input_shape[3])
    )
    xp_mod = xp_of(g)
    share = g / _window_counts(xp_mod, input_shape, geo, g.dtype)
    grad = padded_buffer(xp_mod, input_shape, geo.pads, g.dtype)
    for a, b in taps(geo.window):
        target = tap(grad, a, b, geo)
        target += share
    return crop(grad, geo.pads, input_shape)


@avg_pool2d_backprop.defvjp(0)
def _avg_pool2d_backprop_vjp(u, dx, g, *, input_shape, **params):
    return avg_pool2d(u, **params)
