"""keras.ops.image: resizing, geometric transforms, colour spaces, filters and patches.

Images are (H, W, C) or batches (N, H, W, C) in ``channels_last`` (the default when
``data_format`` is None), or (C, H, W) / (N, C, H, W) in ``channels_first``.

Most functions are compositions of differentiable primitives, so gradients reach the images:
resizing (a matmul with interpolation weights, or a gather for "nearest"), sampling at
coordinates (affine, perspective, elastic, map_coordinates: gathers weighted by the fractional
coordinates, so the coordinates get a gradient too), cropping, padding, grayscale, HSV, blurs,
Sobel, SSIM and patches. Forward-only: the random field of ``elastic_transform`` and the
homography of ``perspective_transform`` (computed from the points on the host).
"""

import itertools

import numpy as np

from ... import ops
from ...engine import Tensor
from ...ops import image as resampling
from ...ops.windows import same_pads
from .. import config
from .core import cast, to_floating
from .dispatch import keras_op
from .dtypes import convert_to_tensor

__all__ = [
    "affine_transform",
    "crop_images",
    "elastic_transform",
    "extract_patches",
    "extract_patches_3d",
    "gaussian_blur",
    "hsv_to_rgb",
    "map_coordinates",
    "pad_images",
    "perspective_transform",
    "resize",
    "rgb_to_grayscale",
    "rgb_to_hsv",
    "scale_and_translate",
    "sobel_edges",
    "ssim",
]

RESIZE_INTERPOLATIONS = ("bilinear", "nearest", "lanczos3", "lanczos5", "bicubic")
SAMPLING_ORDERS = {"nearest": 0, "bilinear": 1}
FILL_MODES = ("constant", "nearest", "wrap", "mirror", "reflect")


# ----- layout ------------------------------------------------------------------------------------


def _data_format(data_format, owner):
    data_format = config.image_data_format() if data_format is None else data_format
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(
            f"{owner}: data_format must be 'channels_last' or 'channels_first'; got {data_format!r}"
        )
    return data_format


def _to_nhwc(images, data_format, owner, spatial=2):
    """images as a channels-last batch, and the function that restores the caller's layout."""
    images = convert_to_tensor(images)
    rank = spatial + 1
    if images.ndim not in (rank, rank + 1):
        kind = "image" if spatial == 2 else "volume"
        raise ValueError(
            f"{owner}: expects a single {kind} of rank {rank} or a batch of rank {rank + 1}; got "
            f"shape {images.shape}"
        )
    single = images.ndim == rank
    x = images.reshape((1,) + images.shape) if single else images
    first = _data_format(data_format, owner) == "channels_first"
    if first:
        x = x.transpose((0,) + tuple(range(2, spatial + 2)) + (1,))

    def restore(y):
        if first:
            y = y.transpose((0, y.ndim - 1) + tuple(range(1, y.ndim - 1)))
        return y.reshape(y.shape[1:]) if single else y

    return x, restore


def _apply_along(x, weights, axis):
    """y = x with axis ``axis`` mapped through W (n_in, n_out): y[..., j, ...] = Σ_i W_ij x[.., i, ..]."""
    perm = [a for a in range(x.ndim) if a != axis] + [axis]
    moved = x.transpose(tuple(perm)) @ Tensor(weights.astype(x.dtype))
    inverse = [0] * x.ndim
    for position, a in enumerate(perm):
        inverse[a] = position
    return moved.transpose(tuple(inverse))


# ----- resizing ----------------------------------------------------------------------------------


def _resize_axis(x, axis, size, method, antialias):
    n_in = x.shape[axis]
    if n_in == size:
        return x
    if method == "nearest":
        index = [slice(None)] * x.ndim
        index[axis] = resampling.nearest_indices(n_in, size)
        return x[tuple(index)]
    return _apply_along(x, resampling.resize_weights(n_in, size, method, antialias), axis)


def _fill(shape, value, dtype):
    return Tensor(np.full(shape, value, dtype=dtype))


@keras_op
def resize(
    images,
    size,
    interpolation="bilinear",
    antialias=False,
    crop_to_aspect_ratio=False,
    pad_to_aspect_ratio=False,
    fill_mode="constant",
    fill_value=0.0,
    data_format=None,
):
    """Images resized to ``size`` = (height, width) by ``interpolation`` ("bilinear",
    "nearest", "bicubic" (Keys, a = -½), "lanczos3", "lanczos5"), sampling at pixel centres as
    JAX's ``image.resize``; ``antialias`` widens the kernel by the downscaling factor. Optionally
    first centre-cropped (``crop_to_aspect_ratio``) or padded with ``fill_value``
    (``pad_to_aspect_ratio``) to the target's aspect ratio. Integer images come back rounded
    half to even and saturated to their dtype (nearest keeps them as they are)."""
    if interpolation not in RESIZE_INTERPOLATIONS:
        raise ValueError(
            f"resize: interpolation must be one of {RESIZE_INTERPOLATIONS}; got {interpolation!r}"
        )
    if fill_mode != "constant":
        raise ValueError(f"resize: only fill_mode='constant' is supported; got {fill_mode!r}")
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError("resize: pass at most one of crop_to_aspect_ratio and pad_to_aspect_ratio")
    if len(size) != 2:
        raise ValueError(f"resize: size must be (height, width); got {size}")
    target_h, target_w = (int(s) for s in size)
    x, restore = _to_nhwc(images, data_format, "resize")
    dtype = x.dtype
    _, height, width, channels = x.shape
    if crop_to_aspect_ratio:
        crop_h = max(min(height, int(float(width * target_h) / target_w)), 1)
        crop_w = max(min(width, int(float(height * target_w) / target_h)), 1)
        top, left = int(float(height - crop_h) / 2), int(float(width - crop_w) / 2)
        x = x[:, top : top + crop_h, left : left + crop_w, :]
    elif pad_to_aspect_ratio:
        pad_h = max(height, int(float(width * target_h) / target_w))
        pad_w = max(width, int(float(height * target_w) / target_h))
        top, left = int(float(pad_h - height) / 2), int(float(pad_w - width) / 2)
        if top > 0:
            band = _fill((x.shape[0], top, width, channels), fill_value, dtype)
            x = ops.concatenate([band, x, band], axis=1)
        if left > 0:
            band = _fill((x.shape[0], x.shape[1], left, channels), fill_value, dtype)
            x = ops.concatenate([band, x, band], axis=2)
    if interpolation != "nearest" and dtype.kind != "f":
        x = cast(x, "float32")
    y = _resize_axis(x, 1, target_h, interpolation, antialias)
    y = _resize_axis(y, 2, target_w, interpolation, antialias)
    if y.dtype != dtype:
        info = np.iinfo(dtype)
        y = Tensor(np.clip(np.round(y.numpy()), info.min, info.max).astype(dtype))
    return restore(y)


@keras_op
def scale_and_translate(
    images, output_shape, scale, translation, spatial_dims, method, antialias=True
):
    """JAX's ``image.scale_and_translate``: along each axis d of ``spatial_dims``, output pixel j
    samples the input at (j + ½ - translation_d) / scale_d - ½ with the kernel of ``method``
    ("linear"/"bilinear"/"trilinear"/"triangle", "cubic"/"bicubic"/"tricubic"/"keyscubic",
    "lanczos3", "lanczos5"), widened by 1/scale when downscaling with ``antialias``."""
    if method not in resampling.KERNELS:
        raise ValueError(
            f"scale_and_translate: method must be one of {sorted(resampling.KERNELS)}; got "
            f"{method!r}"
        )
    x = to_floating(images)
    scale = np.asarray(convert_to_tensor(scale).numpy(), dtype=np.float64).reshape(-1)
    translation = np.asarray(convert_to_tensor(translation).numpy(), dtype=np.float64).reshape(-1)
    if not len(spatial_dims) == len(scale) == len(translation):
        raise ValueError(
            "scale_and_translate: spatial_dims, scale and translation need one entry each per "
            f"resized axis; got {len(spatial_dims)}, {len(scale)} and {len(translation)}"
        )
    for d, s, t in zip(spatial_dims, scale, translation):
        d = d % x.ndim
        weights = resampling.resize_weights(
            x.shape[d], int(output_shape[d]), method, antialias, scale=s, translation=t
        )
        x = _apply_along(x, weights, d)
    return x


# ----- sampling at coordinates -------------------------------------------------------------------


def _sample(x, coordinates, order, fill_mode, fill_value):
    """x sampled at ``coordinates`` (one per axis of x, all of one shape): an axis given as an
    integer array is indexed exactly, a float one (array or Tensor) is interpolated (order 0:
    nearest, halves away from zero; 1: linear), out-of-range indices fixed by ``fill_mode``
    ("constant": the corner contributes ``fill_value``). Differentiable in x and in the float
    coordinates (through the linear weights)."""
    if fill_mode not in FILL_MODES:
        raise ValueError(f"fill_mode must be one of {FILL_MODES}; got {fill_mode!r}")
    if order not in (0, 1):
        raise ValueError(f"map_coordinates: order must be 0 or 1; got {order}")
    per_axis = []
    for c, size in zip(coordinates, x.shape):
        if isinstance(c, np.ndarray) and c.dtype.kind in "iu":
            per_axis.append([(c, True, None)])
            continue
        raw = c.numpy() if isinstance(c, Tensor) else np.asarray(c, dtype=np.float64)
        if order == 0:
            index = resampling.round_half_away(raw).astype(np.int64)
            nodes = [(index, None)]
        else:
            lower = np.floor(raw)
            upper_weight = c - lower
            nodes = [
                (lower.astype(np.int64), 1 - upper_weight),
                (lower.astype(np.int64) + 1, upper_weight),
            ]
        per_axis.append(
            [(resampling.fix_index(i, size, fill_mode), (i >= 0) & (i < size), w) for i, w in nodes]
        )
    total = None
    for corner in itertools.product(*per_axis):
        index = tuple(np.clip(i, 0, n - 1) for (i, _, _), n in zip(corner, x.shape))
        value = x[index]
        if fill_mode == "constant":
            valid = np.logical_and.reduce([v for _, v, _ in corner if v is not True] or [True])
            if not np.all(valid):
                value = ops.where(valid, value, np.asarray(fill_value, dtype=x.dtype))
        for _, _, w in corner:
            if w is not None:
                value = value * w
        total = value if total is None else total + value
    return total


@keras_op
def map_coordinates(inputs, coordinates, order, fill_mode="constant", fill_value=0):
    """inputs sampled at ``coordinates`` (inputs.ndim, ...): out[p] = inputs interpolated at
    ``(coordinates[0][p], coordinates[1][p], ...)``, ``order`` 0 (nearest) or 1 (linear), as JAX's
    ``scipy.ndimage.map_coordinates`` (its "constant" and "wrap" are SciPy's grid-constant and
    grid-wrap)."""
    inputs = convert_to_tensor(inputs)
    if isinstance(coordinates, (list, tuple)):
        coordinates = [to_floating(c) for c in coordinates]
    else:
        coordinates = list(to_floating(coordinates))
    if len(coordinates) != inputs.ndim:
        raise ValueError(
            f"map_coordinates: coordinates need one entry per axis of the input ({inputs.ndim}); "
            f"got {len(coordinates)}"
        )
    out = _sample(to_floating(inputs), coordinates, order, fill_mode, fill_value)
    if inputs.dtype.kind != "f":
        return Tensor(resampling.round_half_away(out.numpy()).astype(inputs.dtype))
    return out


def _sample_images(x, rows, cols, interpolation, fill_mode, fill_value):
    """Batch x (N, H, W, C) sampled at float rows and cols (N, Ho, Wo): (N, Ho, Wo, C)."""
    if interpolation not in SAMPLING_ORDERS:
        raise ValueError(
            f"interpolation must be one of {tuple(SAMPLING_ORDERS)}; got {interpolation!r}"
        )
    n, c = x.shape[0], x.shape[3]
    shape = rows.shape + (c,)
    batch = np.broadcast_to(np.arange(n).reshape(-1, 1, 1, 1), shape)
    channel = np.broadcast_to(np.arange(c), shape)
    rows = rows.reshape(rows.shape + (1,))
    cols = cols.reshape(cols.shape + (1,))
    rows = (
        ops.broadcast_to(rows, shape=shape)
        if isinstance(rows, Tensor)
        else np.broadcast_to(rows, shape)
    )
    cols = (
        ops.broadcast_to(cols, shape=shape)
        if isinstance(cols, Tensor)
        else np.broadcast_to(cols, shape)
    )
    return _sample(
        x, [batch, rows, cols, channel], SAMPLING_ORDERS[interpolation], fill_mode, fill_value
    )


@keras_op
def affine_transform(
    images,
    transform,
    interpolation="bilinear",
    fill_mode="constant",
    fill_value=0,
    data_format=None,
):
    """Each output pixel (y, x) samples the input at ((b0 x + b1 y + b2) / k, (a0 x + a1 y + a2)
    / k) as (row, col), k = c0 x + c1 y + 1 = 1 here, from ``transform`` (8,) or (N, 8) =
    [a0, a1, a2, b0, b1, b2, c0, c1] mapping output to input points (projective terms ignored,
    as Keras's JAX backend does)."""
    if fill_mode not in FILL_MODES:
        raise ValueError(
            f"affine_transform: fill_mode must be one of {FILL_MODES}; got {fill_mode!r}"
        )
    x, restore = _to_nhwc(images, data_format, "affine_transform")
    dtype = x.dtype
    x = to_floating(x)
    transform = to_floating(transform)
    if transform.ndim not in (1, 2) or transform.shape[-1] != 8:
        raise ValueError(
            f"affine_transform: transform must have shape (8,) or (N, 8); got {transform.shape}"
        )
    t = transform.reshape((-1, 8))
    if t.shape[0] == 1 and x.shape[0] > 1:
        t = ops.broadcast_to(t, shape=(x.shape[0], 8))
    h, w = x.shape[1:3]
    ys, xs = np.meshgrid(np.arange(h, dtype=x.dtype), np.arange(w, dtype=x.dtype), indexing="ij")

    def coef(k):
        return t[:, k].reshape((-1, 1, 1))

    rows = coef(4) * ys + coef(3) * xs + coef(5)
    cols = coef(1) * ys + coef(0) * xs + coef(2)
    out = _sample_images(x, rows, cols, interpolation, fill_mode, fill_value)
    return restore(out if dtype.kind == "f" else cast(out, dtype))


@keras_op
def perspective_transform(
    images, start_points, end_points, interpolation="bilinear", fill_value=0, data_format=None
):
    """The projective warp that sends each of the four ``start_points`` (4, 2) or (N, 4, 2),
    as (x, y), to the matching ``end_points``: output pixel (x, y) samples the input at the
    homography's image of it (:func:`chainrule.ops.image.homography`); outside the input,
    ``fill_value``. Differentiable in the images; the points are constants."""
    x, restore = _to_nhwc(images, data_format, "perspective_transform")
    start = np.asarray(convert_to_tensor(start_points).numpy(), dtype=np.float32)
    end = np.asarray(convert_to_tensor(end_points).numpy(), dtype=np.float32)
    if start.shape[-2:] != (4, 2) or start.ndim not in (2, 3) or start.shape != end.shape:
        raise ValueError(
            "perspective_transform: start_points and end_points must both have shape (4, 2) "
            f"or (N, 4, 2); got {start.shape} and {end.shape}"
        )
    a = resampling.homography(start.reshape(-1, 4, 2), end.reshape(-1, 4, 2))
    h, w = x.shape[1:3]
    gx, gy = np.meshgrid(np.arange(w), np.arange(h), indexing="xy")
    a = a[:, :, None, None]
    denom = a[:, 6] * gx + a[:, 7] * gy + 1.0
    cols = (a[:, 0] * gx + a[:, 1] * gy + a[:, 2]) / denom
    rows = (a[:, 3] * gx + a[:, 4] * gy + a[:, 5]) / denom
    dtype = x.dtype
    x = to_floating(x)
    rows, cols = (np.broadcast_to(r, (x.shape[0], h, w)).astype(x.dtype) for r in (rows, cols))
    out = _sample_images(x, rows, cols, interpolation, "constant", fill_value)
    return restore(out if dtype.kind == "f" else cast(out, dtype))


@keras_op
def elastic_transform(
    images,
    alpha=20.0,
    sigma=5.0,
    interpolation="bilinear",
    fill_mode="reflect",
    fill_value=0.0,
    seed=None,
    data_format=None,
):
    """A random elastic distortion: a standard-normal field times ``sigma``, blurred by a
    Gaussian of ``sigma`` (kernel int(6 sigma) | 1), scaled by ``alpha``, displaces the sampling
    grid (the same field for rows and columns, as in Keras's JAX backend). The field comes from
    NumPy's generator seeded by ``seed`` (an int; fresh when None), so its values differ from
    JAX's; the warp is differentiable in the images."""
    x, restore = _to_nhwc(images, data_format, "elastic_transform")
    dtype = x.dtype
    x = to_floating(x)
    n, h, w, _ = x.shape
    sigma = float(sigma)
    size = int(6 * sigma) | 1
    if seed is not None and not isinstance(seed, (int, np.integer)):
        raise TypeError(
            f"elastic_transform: seed must be an int or None; got {type(seed).__name__}"
        )
    field = np.random.default_rng(seed).standard_normal((n, h, w, 1))
    field = gaussian_blur(field.astype(x.dtype) * sigma, (size, size), (sigma, sigma)).numpy()[
        ..., 0
    ]
    gy, gx = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    rows = (gy + float(alpha) * field).astype(x.dtype)
    cols = (gx + float(alpha) * field).astype(x.dtype)
    out = _sample_images(x, rows, cols, interpolation, fill_mode, fill_value)
    return restore(cast(out, dtype))


# ----- cropping and padding ----------------------------------------------------------------------


def _two_of_three(first, second, total, names, owner):
    """The (before, after) amounts along one axis from exactly two of (before, after, target)."""
    if [first, second, total].count(None) != 1:
        raise ValueError(
            f"{owner}: pass exactly two of {', '.join(names)}; got {names[0]}={first}, "
            f"{names[1]}={second}, {names[2]}={total}"
        )
    for name, value in zip(names, (first, second, total)):
        if value is not None and value < 0:
            raise ValueError(f"{owner}: {name} must be >= 0; got {value}")
    return first, second, total


@keras_op
def crop_images(
    images,
    top_cropping=None,
    left_cropping=None,
    bottom_cropping=None,
    right_cropping=None,
    target_height=None,
    target_width=None,
    data_format=None,
):
    """The images cut to a window: two of (top_cropping, bottom_cropping, target_height) and
    two of (left_cropping, right_cropping, target_width) fix it. The gradient goes to the kept
    pixels."""
    x, restore = _to_nhwc(images, data_format, "crop_images")
    h, w = x.shape[1:3]
    top, bottom, th = _two_of_three(
        top_cropping, bottom_cropping, target_height,
        ("top_cropping", "bottom_cropping", "target_height"), "crop_images",
    )  # fmt: skip
    left, right, tw = _two_of_three(
        left_cropping, right_cropping, target_width,
        ("left_cropping", "right_cropping", "target_width"), "crop_images",
    )  # fmt: skip
    top = h - th - bottom if top is None else top
    th = h - bottom - top if th is None else th
    left = w - tw - right if left is None else left
    tw = w - right - left if tw is None else tw
    if top < 0 or left < 0 or th <= 0 or tw <= 0 or top + th > h or left + tw > w:
        raise ValueError(
            f"crop_images: the window (top {top}, left {left}, height {th}, width {tw}) does not "
            f"fit in images of height {h} and width {w}"
        )
    return restore(x[:, top : top + th, left : left + tw, :])


@keras_op
def pad_images(
    images,
    top_padding=None,
    left_padding=None,
    bottom_padding=None,
    right_padding=None,
    target_height=None,
    target_width=None,
    data_format=None,
):
    """The images surrounded by zeros: two of (top_padding, bottom_padding, target_height) and
    two of (left_padding, right_padding, target_width) fix the amounts. The gradient of the
    original pixels is the incoming one at their place."""
    x, restore = _to_nhwc(images, data_format, "pad_images")
    n, h, w, c = x.shape
    top, bottom, th = _two_of_three(
        top_padding, bottom_padding, target_height,
        ("top_padding", "bottom_padding", "target_height"), "pad_images",
    )  # fmt: skip
    left, right, tw = _two_of_three(
        left_padding, right_padding, target_width,
        ("left_padding", "right_padding", "target_width"), "pad_images",
    )  # fmt: skip
    top = th - bottom - h if top is None else top
    bottom = th - top - h if bottom is None else bottom
    left = tw - right - w if left is None else left
    right = tw - left - w if right is None else right
    for name, value in (("top", top), ("bottom", bottom), ("left", left), ("right", right)):
        if value < 0:
            raise ValueError(
                f"pad_images: the {name} padding comes out negative ({value}) for images of "
                f"height {h} and width {w}; the target is smaller than the images"
            )
    rows = [_fill((n, top, w, c), 0, x.dtype), x, _fill((n, bottom, w, c), 0, x.dtype)]
    x = ops.concatenate(rows, axis=1)
    cols = [
        _fill((n, x.shape[1], left, c), 0, x.dtype),
        x,
        _fill((n, x.shape[1], right, c), 0, x.dtype),
    ]
    return restore(ops.concatenate(cols, axis=2))


# ----- colour ------------------------------------------------------------------------------------


def _channels(images, data_format, owner, float_only):
    images = convert_to_tensor(images)
    if images.ndim not in (3, 4):
        raise ValueError(
            f"{owner}: expects an image of rank 3 or a batch of rank 4; got shape {images.shape}"
        )
    if float_only and images.dtype.kind != "f":
        raise ValueError(f"{owner}: expects float images; got dtype {images.dtype}")
    axis = -1 if _data_format(data_format, owner) == "channels_last" else -3
    return images, axis


def _planes(images, axis):
    index = [slice(None)] * images.ndim
    planes = []
    for k in range(3):
        index[axis] = k
        planes.append(images[tuple(index)])
    return planes


@keras_op
def rgb_to_grayscale(images, data_format=None):
    """0.2989 R + 0.5870 G + 0.1140 B, keeping a channel axis of size 1 (a one-channel image is
    returned as is); integer images are computed in float and cast back."""
    images, axis = _channels(images, data_format, "rgb_to_grayscale", float_only=False)
    if images.shape[axis] == 1:
        return images
    if images.shape[axis] != 3:
        raise ValueError(
            f"rgb_to_grayscale: expects 3 (RGB) or 1 channels; got shape {images.shape}"
        )
    dtype = images.dtype
    x = to_floating(images)
    weights = np.array([0.2989, 0.5870, 0.1140], dtype=x.dtype)
    gray = _apply_along(x, weights.reshape(3, 1), axis % x.ndim)
    return gray if dtype == gray.dtype else cast(gray, dtype)


@keras_op
def rgb_to_hsv(images, data_format=None):
    """RGB in [0, 1] to (hue in [0, 1), saturation, value): value = max, saturation =
    (max - min) / max, hue from the sector of the largest channel."""
    images, axis = _channels(images, data_format, "rgb_to_hsv", float_only=True)
    eps = np.finfo(images.dtype).eps
    images = ops.where(ops.abs(images) < eps, 0.0, images)
    r, g, b = _planes(images, axis)
    value = ops.maximum(ops.maximum(r, g), b)
    spread = value - ops.minimum(ops.minimum(r, g), b)
    positive_value, positive_spread = value > 0, spread > 0
    saturation = ops.where(positive_value, spread / ops.where(positive_value, value, 1.0), 0.0)
    norm = 1.0 / (6.0 * ops.where(positive_spread, spread, 1.0))
    hue = ops.where(value == g, norm * (b - r) + 2.0 / 6.0, norm * (r - g) + 4.0 / 6.0)
    hue = ops.where(value == r, norm * (g - b), hue)
    hue = ops.where(positive_spread, hue, 0.0) + (hue < 0.0).numpy().astype(hue.dtype)
    return ops.stack([hue, saturation, value], axis=axis)


@keras_op
def hsv_to_rgb(images, data_format=None):
    """(hue, saturation, value) to RGB: each channel is value (1 - s + s d) with d the clipped
    triangle wave of 6 hue for that channel."""
    images, axis = _channels(images, data_format, "hsv_to_rgb", float_only=True)
    hue, saturation, value = _planes(images, axis)
    dh = (hue - np.floor(hue.numpy())) * 6.0
    dr = ops.clip(ops.abs(dh - 3.0) - 1.0, 0.0, 1.0)
    dg = ops.clip(2.0 - ops.abs(dh - 2.0), 0.0, 1.0)
    db = ops.clip(2.0 - ops.abs(dh - 4.0), 0.0, 1.0)
    rest = 1.0 - saturation
    planes = [value * (rest + saturation * d) for d in (dr, dg, db)]
    return ops.stack(planes, axis=axis)


# ----- filters -----------------------------------------------------------------------------------


def _zero_pad(x, pads):
    """x (N, H, W, C) with zeros around: pads ((top, bottom), (left, right))."""
    n, h, w, c = x.shape
    (top, bottom), (left, right) = pads
    if top or bottom:
        x = ops.concatenate(
            [_fill((n, top, w, c), 0, x.dtype), x, _fill((n, bottom, w, c), 0, x.dtype)], axis=1
        )
    if left or right:
        hh = x.shape[1]
        x = ops.concatenate(
            [_fill((n, hh, left, c), 0, x.dtype), x, _fill((n, hh, right, c), 0, x.dtype)], axis=2
        )
    return x


def _filter(x, kernel, same):
    """The depthwise correlation of x (N, H, W, C) with ``kernel`` (kh, kw), every channel
    alike: y[n, i, j, c] = Σ_ab k[a, b] x[n, i + a, j + b, c] ("same": zero-padded as TF)."""
    kh, kw = kernel.shape
    if same:
        x = _zero_pad(x, (same_pads(x.shape[1], kh, 1, 1), same_pads(x.shape[2], kw, 1, 1)))
    ho, wo = x.shape[1] - kh + 1, x.shape[2] - kw + 1
    total = None
    for a in range(kh):
        for b in range(kw):
            if kernel[a, b] == 0:
                continue
            term = x[:, a : a + ho, b : b + wo, :] * x.dtype.type(kernel[a, b])
            total = term if total is None else total + term
    return total if total is not None else x[:, :ho, :wo, :] * 0


@keras_op
def gaussian_blur(images, kernel_size=(3, 3), sigma=(1.0, 1.0), data_format=None):
    """Each channel correlated with the normalised Gaussian kernel, zero-padded to keep the size;
    as in Keras's JAX backend, the kernel's rows come from (kernel_size[1], sigma[1]) and its
    columns from (kernel_size[0], sigma[0])."""
    x, restore = _to_nhwc(images, data_format, "gaussian_blur")
    x = to_floating(x)
    rows = resampling.gaussian_kernel1d(kernel_size[1], float(sigma[1]))
    cols = resampling.gaussian_kernel1d(kernel_size[0], float(sigma[0]))
    return restore(_filter(x, np.outer(rows, cols), same=True))


@keras_op
def sobel_edges(images, data_format=None):
    """The Sobel derivatives of each channel, zero-padded to keep the size, stacked on a new
    last axis as (d/dy, d/dx): kernels [[-1,-2,-1],[0,0,0],[1,2,1]] and its transpose. Integer
    images keep their dtype."""
    x, restore = _to_nhwc(images, data_format, "sobel_edges")
    dtype = x.dtype
    x = to_floating(x)
    dy = np.array([[-1.0, -2.0, -1.0], [0.0, 0.0, 0.0], [1.0, 2.0, 1.0]])
    edges = ops.stack([restore(_filter(x, k, same=True)) for k in (dy, dy.T)], axis=-1)
    return edges if dtype.kind == "f" else cast(edges, dtype)  # integer kernels: exact


@keras_op
def ssim(
    image1,
    image2,
    max_val=1.0,
    filter_size=11,
    filter_sigma=1.5,
    k1=0.01,
    k2=0.03,
    data_format=None,
):
    """The structural similarity of two images, per image: the mean over the valid positions and
    channels of (2 μ1 μ2 + C1)(2 σ12 + C2) / ((μ1² + μ2² + C1)(σ1² + σ2² + C2)), the local
    moments taken with a Gaussian window (filter_size, filter_sigma), C1 = (k1 max_val)²,
    C2 = (k2 max_val)². Differentiable in both images."""
    a, _ = _to_nhwc(image1, data_format, "ssim")
    b, _ = _to_nhwc(image2, data_format, "ssim")
    single = convert_to_tensor(image1).ndim == 3
    dtype = a.dtype
    a, b = to_floating(a), to_floating(b)
    k = resampling.gaussian_kernel1d(filter_size, float(filter_sigma))
    window = np.outer(k, k)
    c1, c2 = (k1 * max_val) ** 2, (k2 * max_val) ** 2
    mu1, mu2 = _filter(a, window, False), _filter(b, window, False)
    s11 = _filter(a * a, window, False) - mu1 * mu1
    s22 = _filter(b * b, window, False) - mu2 * mu2
    s12 = _filter(a * b, window, False) - mu1 * mu2
    top = (2.0 * mu1 * mu2 + c1) * (2.0 * s12 + c2)
    bottom = (mu1 * mu1 + mu2 * mu2 + c1) * (s11 + s22 + c2)
    out = ops.mean(top / bottom, axis=(1, 2, 3))
    out = out.reshape(()) if single else out
    return out if dtype.kind == "f" else cast(out, dtype)


# ----- patches -----------------------------------------------------------------------------------


def _as_ints(value, n, name, owner):
    if isinstance(value, int):
        return (value,) * n
    value = tuple(int(v) for v in value)
    if len(value) != n:
        raise ValueError(f"{owner}: {name} must be an int or {n} ints; got {value}")
    return value


def _patches(x, size, strides, dilation, padding, owner):
    """Patches of the channels-last batch x (N, *spatial, C): (N, *out, prod(size) * C), each
    patch flattened in (tap..., channel) order as Keras's identity-kernel convolution does."""
    spatial = x.ndim - 2
    size = _as_ints(size, spatial, "size", owner)
    strides = size if not strides else _as_ints(strides, spatial, "strides", owner)
    dilation = _as_ints(dilation, spatial, "dilation_rate", owner)
    if padding not in ("valid", "same"):
        raise ValueError(f"{owner}: padding must be 'valid' or 'same'; got {padding!r}")
    if padding == "same":
        pads = [same_pads(x.shape[1 + d], size[d], strides[d], dilation[d]) for d in range(spatial)]
        for d, (before, after) in enumerate(pads):
            if before or after:
                shape = list(x.shape)
                parts = []
                for amount in (before, after):
                    shape[1 + d] = amount
                    parts.append(_fill(tuple(shape), 0, x.dtype))
                x = ops.concatenate([parts[0], x, parts[1]], axis=1 + d)
    out = [
        (x.shape[1 + d] - (size[d] - 1) * dilation[d] - 1) // strides[d] + 1 for d in range(spatial)
    ]
    if min(out) <= 0:
        raise ValueError(
            f"{owner}: patches of size {size} (dilation {dilation}) do not fit in the spatial "
            f"shape {x.shape[1:-1]}"
        )
    taps = []
    for tap in itertools.product(*(range(s) for s in size)):
        index = (slice(None),) + tuple(
            slice(t * dilation[d], t * dilation[d] + (out[d] - 1) * strides[d] + 1, strides[d])
            for d, t in enumerate(tap)
        )
        taps.append(x[index])
    stacked = ops.stack(taps, axis=-2)
    return stacked.reshape(stacked.shape[:-2] + (stacked.shape[-2] * stacked.shape[-1],))


@keras_op
def extract_patches(images, size, strides=None, dilation_rate=1, padding="valid", data_format=None):
    """Patches of ``size`` (int or (h, w)) every ``strides`` (default: the size), flattened
    into the channel axis: (N, H', W', h w C) channels-last. A ``size`` of 3 ints extracts 3-D
    patches from volumes (as :func:`extract_patches_3d`)."""
    if not isinstance(size, int) and len(size) == 3:
        return extract_patches_3d(images, size, strides, dilation_rate, padding, data_format)
    x, restore = _to_nhwc(images, data_format, "extract_patches")
    return restore(_patches(x, size, strides, dilation_rate, padding, "extract_patches"))


@keras_op
def extract_patches_3d(
    volumes, size, strides=None, dilation_rate=1, padding="valid", data_format=None
):
    """3-D patches of ``size`` (int or (d, h, w)) from volumes (N, D, H, W, C) (or one volume),
    every ``strides`` (default: the size), flattened into the channel axis: (N, D', H', W',
    d h w C)."""
    x, restore = _to_nhwc(volumes, data_format, "extract_patches_3d", spatial=3)
    return restore(_patches(x, size, strides, dilation_rate, padding, "extract_patches_3d"))
