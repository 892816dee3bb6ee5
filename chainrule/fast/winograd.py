"""A 3 x 3 convolution of stride 1 by Winograd's minimal filtering F(2 x 2, 3 x 3), written in
the layout of the 2 x 2 max pooling that reads it (see :mod:`.tiled`), and its gradients.

Each 2 x 2 tile of outputs reads a 4 x 4 patch d of the (padded) input. With the kernel's 3 x 3
taps g of input channel c and filter f, the tile is (Lavin and Gray, "Fast Algorithms for
Convolutional Neural Networks", 2016)

    Y = Aᵀ [ Σ_c (G g Gᵀ) ⊙ (Bᵀ d B) ] A

    Bᵀ = | 1  0 -1  0 |     G = | 1    0    0  |     Aᵀ = | 1  1  1  0 |
         | 0  1  1  0 |         | ½    ½    ½  |          | 0  1 -1 -1 |
         | 0 -1  1  0 |         | ½   -½    ½  |
         | 0  1  0 -1 |         | 0    0    1  |

so that, with the 4 x 4 = 16 positions of the transformed patch as the first axis, the sum over
channels is 16 matrix products, V[p] (tiles, C) @ U[p] (C, F), instead of one product of the
im2col matrix, (4 tiles, 9 C) @ (9 C, F): 16 C F multiply-adds per tile against 36 C F, 2.25
times fewer. The transforms are additions (:func:`.fused.winograd_tiles` and
:func:`.fused.winograd_untiles`, one pass each), the kernel's once per call. The numbers are
the convolution's to rounding, not bit for bit: float32 results differed from a float64
convolution by 2e-7 of their largest magnitude, against 5e-7 through im2col (64 images,
13 x 13 x 32 to 64 channels). An infinite input makes its tiles' outputs infinite or NaN (the
transforms subtract it from itself) where the im2col product may give an infinity.

Used by ``conv2d_tiled`` and ``tiled_conv_gradients`` where it suits (:func:`transformed_kernel`): a 3 x 3 kernel of stride
1, no dilation, one group, 2 x 2 tiles, at least :data:`FROM_CHANNELS` input channels, and the
compiled transforms (Numba, ``chainrule[fast]``); anywhere else it keeps the im2col product.
Measured on a 2-core AMD EPYC, one thread, 64 images, against the im2col product of the same
tiles (chunked as in ``fit``): 13 x 13 x 32 to 64 channels (the keras-io MNIST convnet's
second layer) 1.40 against 3.17 ms; 13 x 13 x 8 and x 16 to 64, 0.60 and 0.86 against 0.89 and
1.58 ms; 13 x 13 x 64 to 128, 5.7 against 11.9 ms; 28 x 28 x 3 to 32, 1.67 against 2.12 ms;
28 x 28 x 1 to 32 (a first layer), 7.6 against 0.69 ms: one channel makes 16 products of one
column each.
"""

import numpy as np

from . import fused

#: Input channels from which the transforms pay (see the module): with one, the im2col
#: product is ten times faster; with three, this is.
FROM_CHANNELS = 3
#: Elements of V and M (16 numbers per tile and channel, and per tile and filter) that one
#: chunk of images makes: a megabyte of float32, which a core's cache keeps between the
#: transforms and the products. 64 images of the MNIST convnet's second layer on one core, in
#: chunks of 4, 8, 16 and 64 images: 1.44, 1.41, 1.63 and 2.21 ms.
CHUNK = 1 << 18


def transformed_kernel(x, kernel, geo, groups, tiles):
    """U = G g Gᵀ for each input channel and filter, (16, C, F) in the kernel's dtype, where
    the convolution of x by ``kernel`` (geometry ``geo``) written in ``tiles`` can be computed
    here; else None (and Numba is not imported for it)."""
    if (
        tuple(tiles) != (2, 2)
        or geo.window != (3, 3)
        or geo.strides != (1, 1)
        or geo.dilation != (1, 1)
        or groups != 1
        or kernel.shape[2] < FROM_CHANNELS
        or type(kernel) is not np.ndarray
        or kernel.dtype != x.dtype
        or fused.for_arrays("winograd_tiles", x) is None
    ):
        return None
    g = kernel
    rows = (g[0], (g[0] + g[1] + g[2]) * 0.5, (g[0] - g[1] + g[2]) * 0.5, g[2])  # G g
    u = np.empty((16, *kernel.shape[2:]), kernel.dtype)
    for r, w in enumerate(rows):  # (G g) Gᵀ, row by row
        u[4 * r], u[4 * r + 3] = w[0], w[2]
        u[4 * r + 1] = (w[0] + w[1] + w[2]) * 0.5
        u[4 * r + 2] = (w[0] - w[1] + w[2]) * 0.5
    return u


def convolve_tiled(x, u, bias, t, geo):
    """Write the convolution of images x (N, H, W, C) into t (N, 4, Hq, Wq, F), the tiled
    layout of its 2 x 2 max pooling, from the transformed kernel u (16, C, F) of
    :func:`transformed_kernel` and the bias (F,) or None; a chunk of images at a time
    (:data:`CHUNK`)."""
    kernels = fused.compiled()
    n, _, hq, wq, filters = t.shape
    channels = x.shape[3]
    bias = np.zeros(filters, t.dtype) if bias is None else np.ascontiguousarray(bias, t.dtype)
    (top, _), (left, _) = geo.pads
    per_image = 16 * hq * wq * (channels + filters)
    chunk = max(1, CHUNK // max(1, per_image))
    for start in range(0, n, chunk):
        images = slice(start, start + chunk)
        part = np.ascontiguousarray(x[images])
        v = np.empty((16, len(part) * hq * wq, channels), x.dtype)
        kernels.winograd_tiles(part, v, top, left, hq, wq)
        kernels.winograd_untiles(np.matmul(v, u), bias, t[images])


def gradients(x, dy, u, dx, geo, kernel=True):
    """The gradients of :func:`convolve_tiled`'s output for some images, given dy (N, 4, Hq, Wq,
    F), the gradient of its tiles: added into dx (N, Hp, Wp, C), the padded input's gradient,
    unless dx is None; and returned for the kernel, (1, 9 C, F) as ``kernels.kernel_gradient``
    returns it, if ``kernel`` (else None). As the forward is Y = Aᵀ (U ⊙ V) A for each tile,

        W = A dY Aᵀ,   dL/dV = W ⊙ U (summed over filters: 16 products W[p] U[p]ᵀ),
        dL/dd = B (dL/dV) Bᵀ,   dL/dU = W ⊙ V (summed over tiles: 16 products V[p]ᵀ W[p]),
        dL/dg = Gᵀ (dL/dU) G

    (d a tile's 4 x 4 input patch, g the kernel's 3 x 3 taps for one channel and filter): the
    convolution's gradients, to rounding, from products 2.25 times smaller than the im2col
    matrix's, over the forward's tiles only."""
    kernels = fused.compiled()
    n, _, hq, wq, filters = dy.shape
    w = np.empty((16, n * hq * wq, filters), dy.dtype)
    kernels.winograd_gradient_tiles(np.ascontiguousarray(dy), w)
    if dx is not None:
        kernels.winograd_untiles_add(np.matmul(w, u.transpose(0, 2, 1)), dx, hq, wq)
    if not kernel:
        return None
    (top, _), (left, _) = geo.pads
    v = np.empty((16, n * hq * wq, x.shape[3]), x.dtype)
    kernels.winograd_tiles(np.ascontiguousarray(x), v, top, left, hq, wq)
    du = np.matmul(v.transpose(0, 2, 1), w).reshape(4, 4, *u.shape[1:])
    rows = (du[0] + (du[1] + du[2]) * 0.5, (du[1] - du[2]) * 0.5, (du[1] + du[2]) * 0.5 + du[3])
    taps = np.empty((3, 3, *u.shape[1:]), du.dtype)  # Gᵀ dU G, row by row
    for a, h in enumerate(rows):
        taps[a, 0] = h[0] + (h[1] + h[2]) * 0.5
        taps[a, 1] = (h[1] - h[2]) * 0.5
        taps[a, 2] = (h[1] + h[2]) * 0.5 + h[3]
    return taps.reshape(1, -1, filters)
