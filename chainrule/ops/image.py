"""The math of image resampling, on raw arrays: interpolation weight matrices and the index
arithmetic of out-of-bounds fill modes.

Resizing is linear and separable: along each resized axis, y = Wᵀ x with W (n_in, n_out), so its
gradient is W g and the keras facade applies W with matmul. Column j of W samples the input at
s_j = (j + ½ - t) / scale - ½ (t the translation) with a kernel k:

    W_ij = k((i - s_j) / κ) / Σ_i k((i - s_j) / κ),    κ = max(1/scale, 1) with antialiasing, else 1

and a column is zero when s_j lies outside [-½, n_in - ½] (JAX's ``scale_and_translate``).
Kernels: triangle (linear, radius 1), Keys cubic with a = -½ (radius 2), Lanczos-3 and -5.
"""

import numpy

KERNELS = {
    "linear": "triangle",
    "bilinear": "triangle",
    "trilinear": "triangle",
    "triangle": "triangle",
    "cubic": "cubic",
    "bicubic": "cubic",
    "tricubic": "cubic",
    "keyscubic": "cubic",
    "lanczos3": "lanczos3",
    "lanczos5": "lanczos5",
}


def kernel(name, x):
    """The interpolation kernel ``name`` at distances |x| (see the module docstring)."""
    x = numpy.abs(x)
    if name == "triangle":
        return numpy.maximum(0.0, 1.0 - x)
    if name == "cubic":
        near = ((1.5 * x - 2.5) * x) * x + 1.0
        far = ((-0.5 * x + 2.5) * x - 4.0) * x + 2.0
        return numpy.where(x >= 2.0, 0.0, numpy.where(x >= 1.0, far, near))
    radius = 3 if name == "lanczos3" else 5
    with numpy.errstate(divide="ignore", invalid="ignore"):
        y = radius * numpy.sin(numpy.pi * x) * numpy.sin(numpy.pi * x / radius)
        out = numpy.where(x > 1e-3, y / numpy.where(x != 0, numpy.pi**2 * x**2, 1.0), 1.0)
    return numpy.where(x > radius, 0.0, out)


def resize_weights(n_in, n_out, method, antialias, scale=None, translation=0.0):
    """W (n_in, n_out) of the module docstring for ``method`` (a key of :data:`KERNELS`);
    ``scale`` defaults to n_out / n_in."""
    scale = n_out / n_in if scale is None else float(scale)
    inv = 1.0 / scale
    stretch = max(inv, 1.0) if antialias else 1.0
    sample = (numpy.arange(n_out) + 0.5) * inv - translation * inv - 0.5
    w = kernel(KERNELS[method], (numpy.arange(n_in)[:, None] - sample[None, :]) / stretch)
    total = w.sum(axis=0, keepdims=True)
    w = numpy.where(
        numpy.abs(total) > 1000.0 * numpy.finfo(numpy.float32).eps,
        w / numpy.where(total != 0, total, 1.0),
        0.0,
    )
    inside = (sample >= -0.5) & (sample <= n_in - 0.5)
    return numpy.where(inside[None, :], w, 0.0)


def nearest_indices(n_in, n_out):
    """The input index each of n_out outputs copies in nearest-neighbour resizing:
    floor((j + ½) n_in / n_out), computed in float32 as JAX does."""
    offsets = (numpy.arange(n_out, dtype=numpy.float32) + 0.5) * numpy.float32(n_in / n_out)
    return numpy.floor(offsets).astype(numpy.int64)


def fix_index(index, size, mode):
    """Integer ``index`` mapped into [0, size) by the fill ``mode``: "constant" (left as is; the
    caller masks it), "nearest" (clamped), "wrap" (periodic), "mirror" (reflected about the edge
    pixels: ... 2 1 | 0 1 2 | 1 0 ...), "reflect" (about the edges: ... 1 0 | 0 1 2 | 2 1 ...)."""
    if mode == "constant":
        return index
    if mode == "nearest":
        return numpy.clip(index, 0, size - 1)
    if mode == "wrap":
        return index % size
    if mode == "mirror":
        if size == 1:
            return numpy.zeros_like(index)
        s = size - 1
        return numpy.abs((index + s) % (2 * s) - s)
    if mode == "reflect":
        s = 2 * size
        return (numpy.abs((2 * index + 1 + s) % (2 * s) - s) - 1) // 2
    raise ValueError(
        f"fill_mode must be 'constant', 'nearest', 'wrap', 'mirror' or 'reflect'; got {mode!r}"
    )


def round_half_away(x):
    """x rounded to the nearest integer, halves away from zero (as XLA's round)."""
    return numpy.sign(x) * numpy.floor(numpy.abs(x) + 0.5)


def gaussian_kernel1d(size, sigma):
    """exp(-½ ((i - (size - 1)/2) / σ)²) for i < size, normalised to sum 1."""
    x = numpy.arange(size) - (size - 1) / 2
    k = numpy.exp(-0.5 * (x / sigma) ** 2)
    return k / k.sum()


def homography(start_points, end_points):
    """The 8 coefficients (a0..a7) of the projective map sending each end point (x, y) to its
    start point: x_s = (a0 x + a1 y + a2) / (a6 x + a7 y + 1), y_s = (a3 x + a4 y + a5) / (same),
    from the 8 x 8 linear system of the four point pairs; points (N, 4, 2) -> (N, 8)."""
    sx, sy = start_points[..., 0], start_points[..., 1]
    ex, ey = end_points[..., 0], end_points[..., 1]
    zero, one = numpy.zeros_like(ex), numpy.ones_like(ex)
    x_rows = numpy.stack([ex, ey, one, zero, zero, zero, -sx * ex, -sx * ey], axis=-1)
    y_rows = numpy.stack([zero, zero, zero, ex, ey, one, -sy * ex, -sy * ey], axis=-1)
    system = numpy.concatenate([x_rows, y_rows], axis=1)
    target = numpy.concatenate([sx, sy], axis=-1)[..., None]
    return numpy.linalg.solve(system, target)[..., 0]
