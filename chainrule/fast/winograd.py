"""A 3 x 3 convolution of stride 1 by Winograd's minimal filtering F(2 x 2, 3 x 3), and its
gradients: written in the layout of the 2 x 2 max pooling that reads it (see :mod:`.tiled`), or
in its own.

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

Used where it suits (:func:`suits`: a 3 x 3 kernel of stride 1, no dilation, one group, at
least :data:`FROM_CHANNELS` input channels, and the compiled transforms, Numba being installed
with ``chainrule[fast]``) by ``conv2d_tiled`` and ``tiled_conv_gradients``, and by the kernels
of ``conv2d`` and of its kernel gradient (:mod:`.kernels`), the kernel gradient from
:data:`GRADIENTS_FROM_CHANNELS` input channels; anywhere else the im2col product computes the
convolution. The input gradient of a convolution in its own layout is a convolution of its
output's gradient (``kernels._input_gradient_as_convolution``), which comes here in its turn:
faster than this module's own input gradient of the table below, which it replaced. Measured on
a 2-core AMD EPYC, one thread, 64 images, against the im2col product (chunked as in ``fit``),
ms (``benchmarks/winograd_shapes.py`` times them again):

| convolution | forward | input gradient | kernel gradient |
|---|--:|--:|--:|
| 13 x 13 x 32 to 64, into 2 x 2 poolings (the MNIST convnet's second) | 1.40 / 3.17 | (both) 3.29 / 5.7 | |
| 32 x 32 x 8 to 32, 'same' | 8.00 / 6.92 | 10.84 / 6.30 | 10.95 / 8.50 |
| 32 x 32 x 16 to 32, 'same' | 10.08 / 18.61 | 13.49 / 10.11 | 13.29 / 17.21 |
| 32 x 32 x 32 to 32, 'same' | 12.74 / 32.29 | 18.21 / 18.45 | 15.64 / 32.06 |
| 16 x 16 x 64 to 64, 'same' | 8.62 / 22.68 | 12.00 / 15.04 | 11.16 / 22.41 |
| 8 x 8 x 128 to 128, 'same' | 7.63 / 15.89 | 10.10 / 15.06 | 10.34 / 16.04 |
| 30 x 30 x 32 to 64, 'valid' | 13.07 / 34.59 | 19.51 / 25.17 | 17.51 / 42.49 |

With one input channel (28 x 28 x 1 to 32, a first layer) the forward took 7.6 against 0.69 ms:
16 products of one column each. A model of two such blocks of two 'same' convolutions (32 and
64 filters) on 32 x 32 x 3 images, batch 64: 2.0 to 2.2 s per epoch of 2,048 images, against
3.1 to 3.2 through im2col and 2.4 to 2.5 for Keras on TensorFlow.
"""

import numpy as np

from ..ops.windows import tile
from . import fused

#: Input channels from which the forward runs here (see the module and
#: ``benchmarks/winograd_shapes.py``): with one, the im2col product is ten times faster; with
#: eight, about as fast; from sixteen, this is (0.52 and 0.71 times its time on one thread and
#: on two, 32 x 32 x 16 to 32).
FROM_CHANNELS = 16
#: ...and from which the gradients do (the kernel's, and both in the tiled layout of a pooling):
#: the kernel's took 0.71 times the im2col product's time at 16 channels on one thread but 1.14
#: times on two (0.49 and 0.69 at 32); the input's, in its own layout, 1.18 and 1.25 times the
#: col2im's at 16 channels to 32, about the same at 32 to 32, 0.80 and 0.70 at 64 to 64.
GRADIENTS_FROM_CHANNELS = 32
#: Elements of V and M (16 numbers per tile and channel, and per tile and filter) that one
#: chunk of images makes: a megabyte of float32, which a core's cache keeps between the
#: transforms and the products. 64 images of the MNIST convnet's second layer on one core, in
#: chunks of 4, 8, 16 and 64 images: 1.44, 1.41, 1.63 and 2.21 ms.
CHUNK = 1 << 18


def suits(x, kernel_shape, geo, groups, dtype):
    """True where the convolution of x by a kernel of ``kernel_shape`` and ``dtype`` (geometry
    ``geo``) can be computed here: a 3 x 3 kernel of stride 1, no dilation, one group, at least
    :data:`FROM_CHANNELS` input channels, x a C-contiguous float array of that dtype, and the
    compiled transforms (Numba is imported by this check only where the rest holds)."""
    return (
        geo.window == (3, 3)
        and geo.strides == (1, 1)
        and geo.dilation == (1, 1)
        and groups == 1
        and kernel_shape[2] >= FROM_CHANNELS
        and x.dtype == dtype
        and fused.for_arrays("winograd_tiles", x) is not None
    )


def suits_gradients(a, kernel_shape, geo, groups, dtype):
    """:func:`suits` for the gradients (of :data:`GRADIENTS_FROM_CHANNELS` input channels at
    least), ``a`` the input or the output's gradient."""
    enough = kernel_shape[2] >= GRADIENTS_FROM_CHANNELS
    return enough and suits(a, kernel_shape, geo, groups, dtype)


def transformed_kernel(kernel):
    """U = G g Gᵀ for each input channel and filter: (16, C, F) in the kernel's dtype."""
    g = kernel
    rows = (g[0], (g[0] + g[1] + g[2]) * 0.5, (g[0] - g[1] + g[2]) * 0.5, g[2])  # G g
    u = np.empty((16, *kernel.shape[2:]), kernel.dtype)
    for r, w in enumerate(rows):  # (G g) Gᵀ, row by row
        u[4 * r], u[4 * r + 3] = w[0], w[2]
        u[4 * r + 1] = (w[0] + w[1] + w[2]) * 0.5
        u[4 * r + 2] = (w[0] - w[1] + w[2]) * 0.5
    return u


def _chunks(n, hq, wq, channels, filters):
    """Slices of n images, each making at most :data:`CHUNK` elements of transformed patches
    and products (V and M, or V and W; at least one image)."""
    chunk = max(1, CHUNK // max(1, 16 * hq * wq * (channels + filters)))
    return [slice(start, start + chunk) for start in range(0, n, chunk)]


def convolve_tiled(x, u, bias, t, geo):
    """Write the convolution of images x (N, H, W, C) into t (N, 2, 2, Hq, Wq, F) (see
    :func:`.fused.winograd_untiles`: the tiled layout of a 2 x 2 max pooling, or an output's
    2 x 2 ``ops.windows.tile``), from the transformed kernel u (16, C, F) and the bias (F,) or None; a
    chunk of images at a time (:data:`CHUNK`)."""
    kernels = fused.compiled()
    n, _, _, hq, wq, filters = t.shape
    channels = x.shape[3]
    bias = np.zeros(filters, t.dtype) if bias is None else np.ascontiguousarray(bias, t.dtype)
    (top, _), (left, _) = geo.pads
    for images in _chunks(n, hq, wq, channels, filters):
        part = np.ascontiguousarray(x[images])
        v = np.empty((16, len(part) * hq * wq, channels), x.dtype)
        kernels.winograd_tiles(part, v, top, left, hq, wq)
        kernels.winograd_untiles(np.matmul(v, u), bias, t[images])


def gradients(x, dy, u, dx, geo, kernel=True):
    """The gradients of :func:`convolve_tiled`'s output for some images, given dy (N, 2, 2, Hq,
    Wq, F), the gradient of its tiles: added into dx (N, Hp, Wp, C), the padded input's
    gradient (at least 2 Hq + 2 by 2 Wq + 2), unless dx is None; and returned for the kernel,
    (1, 9 C, F) as ``kernels.kernel_gradient`` returns it, if ``kernel`` (else None; then x
    and u may be None where not needed). As the forward is Y = Aᵀ (U ⊙ V) A for each tile,

        W = A dY Aᵀ,   dL/dV = W ⊙ U (summed over filters: 16 products W[p] U[p]ᵀ),
        dL/dd = B (dL/dV) Bᵀ,   dL/dU = W ⊙ V (summed over tiles: 16 products V[p]ᵀ W[p]),
        dL/dg = Gᵀ (dL/dU) G

    (d a tile's 4 x 4 input patch, g the kernel's 3 x 3 taps for one channel and filter): the
    convolution's gradients, to rounding, from products 2.25 times smaller than the im2col
    matrix's, over the forward's tiles only."""
    kernels = fused.compiled()
    n, _, _, hq, wq, filters = dy.shape
    w = np.empty((16, n * hq * wq, filters), dy.dtype)
    kernels.winograd_gradient_tiles(dy, w)
    if dx is not None:
        kernels.winograd_untiles_add(np.matmul(w, u.transpose(0, 2, 1)), dx, hq, wq)
    if not kernel:
        return None
    (top, _), (left, _) = geo.pads
    v = np.empty((16, n * hq * wq, x.shape[3]), x.dtype)
    kernels.winograd_tiles(np.ascontiguousarray(x), v, top, left, hq, wq)
    du = np.matmul(v.transpose(0, 2, 1), w).reshape(4, 4, x.shape[3], filters)
    rows = (du[0] + (du[1] + du[2]) * 0.5, (du[1] - du[2]) * 0.5, (du[1] + du[2]) * 0.5 + du[3])
    taps = np.empty((3, 3, x.shape[3], filters), du.dtype)  # Gᵀ dU G, row by row
    for a, h in enumerate(rows):
        taps[a, 0] = h[0] + (h[1] + h[2]) * 0.5
        taps[a, 1] = (h[1] - h[2]) * 0.5
        taps[a, 2] = (h[1] + h[2]) * 0.5 + h[3]
    return taps.reshape(1, -1, filters)


# ----- an output in its own layout (N, Ho, Wo, F): a convolution without its pooling ------------


def _even(shape, hq, wq):
    return (shape[0], 2 * hq, 2 * wq, shape[3])


def convolve(x, u, bias, y, geo):
    """Write the convolution of images x into y (N, Ho, Wo, F), from the transformed kernel u
    and the bias (F,) or None: its 2 x 2 tiles as :func:`convolve_tiled` computes them, then
    copied into place (writing them in place, a
    strided pass, took three times as long as the contiguous one and the copy)."""
    n, ho, wo, filters = y.shape
    hq, wq = -(-ho // 2), -(-wo // 2)
    t = np.empty((n, 2, 2, hq, wq, filters), y.dtype)
    convolve_tiled(x, u, bias, t, geo)
    if (2 * hq, 2 * wq) == (ho, wo):
        tile(y, (2, 2))[...] = t
        return
    even = np.empty(_even(y.shape, hq, wq), y.dtype)
    tile(even, (2, 2))[...] = t
    y[...] = even[:, :ho, :wo]


def _gradient_tiles(g):
    """g (N, Ho, Wo, F) as the contiguous tiles of :func:`gradients`, zero in the row or column
    that no output has where Ho or Wo is odd."""
    n, ho, wo, filters = g.shape
    hq, wq = -(-ho // 2), -(-wo // 2)
    if (2 * hq, 2 * wq) != (ho, wo):
        even = np.zeros(_even(g.shape, hq, wq), g.dtype)
        even[:, :ho, :wo] = g
        g = even
    return np.ascontiguousarray(tile(g, (2, 2)))


def kernel_gradient(x, g, geo):
    """dL/dkernel of the convolution, (1, 9 C, F) as ``kernels.kernel_gradient`` returns it,
    for its output's gradient g (N, Ho, Wo, F), summed over chunks of images in order."""
    dy = _gradient_tiles(g)
    total = None
    for images in _chunks(len(x), *dy.shape[3:5], x.shape[3], g.shape[3]):
        part = gradients(x[images], dy[images], None, None, geo)
        total = part if total is None else total + part
    return total
