"""Loops fused into one pass over memory, for Numba to compile (``chainrule[fast]``): the
optimizers' updates, ReLU with its gradient, the softmax with its cross-entropy and their
gradient, the max pooling of a tiled convolution with its gradient's routing, the col2im of a
convolution's input gradient, and the transforms of a Winograd convolution (:mod:`.winograd`).

An optimizer's ``update_step`` in NumPy reads and writes the weights, the gradient and the state
once per operation: Adam's twelve operations make twelve passes. Each kernel here makes one: it
reads an element of each array, computes the element's new weight and state in registers, and
writes them back. The operations are the optimizer's own, in the same order and in the same
dtype (the coefficients are rounded to the weights' dtype first, as NumPy does with a Python
float), so the results are the NumPy update's to the last bit. ReLU and its gradient, max(a, 0)
and g [a > 0], are one pass in NumPy too, but a slow one: NumPy's ``maximum`` takes about 0.4 ns
a float32 element where it stays in cache, the kernel 0.1 ns.

The kernels are plain Python loops over NumPy arrays. :func:`compiled` compiles them with
Numba, without ``fastmath`` (no reassociation) and with NumPy's error model (a division by zero
gives inf or NaN, as in NumPy), which lets the compiler vectorise them. ``numpy.maximum`` and
``numpy.clip`` are written out as comparisons that keep a NaN, as NumPy's do. Measured on a
2-core AMD EPYC, one thread: Adam's update of the wide MLP's 669,706 float32 weights 1.2 ms in
NumPy blocks, 0.2 ms compiled; ReLU of 65,536 float32 numbers 25 µs against 6 µs, and of a
convolution's 2.8 million 1.07 ms against 0.41 ms; its gradient 1.9 ms against 0.8 ms. The
max pooling of 64 tiled 26 x 26 x 32 convolution outputs (:mod:`.tiled`), with the ReLU after it:
0.30 ms in NumPy's running maximum, 0.15 ms here; routing its gradient to the first maxima, a
dozen NumPy passes of masks, 0.80 ms against 0.27 ms. The col2im of a convolution's input
gradient, with the one product for all taps that it allows: see ``kernels.add_input_gradient``.

An optimizer kernel takes the weights ``w`` and the gradient ``g``, then the optimizer's state
arrays, then its coefficients, as ``Optimizer.fused_update`` lists them. The kernels run in the
calling thread, start no threads of their own, and release the interpreter lock, so that
:mod:`.threads` can run them on parts of a batch at once.
"""

import functools
import importlib.util
import types
import warnings

import numpy as np

#: The kernels, by the names ``Optimizer.fused_update`` and :mod:`.kernels` use.
KERNELS = (
    "sgd_momentum", "adam", "rmsprop", "adagrad", "adadelta", "adamax", "nadam", "ftrl", "lion",
    "relu", "relu_vjp", "softmax_rows", "softmax_cross_entropy", "sparse_softmax_cross_entropy",
    "tile_max", "route_to_first_maxima", "col2im_add",
    "winograd_tiles", "winograd_untiles", "winograd_gradient_tiles", "winograd_untiles_add",
)  # fmt: skip

#: Functions the kernels call, compiled as the kernels are.
HELPERS = ("softmax_row",)

#: Arrays of fewer elements are left to NumPy: calling a kernel costs about 2 µs more than a
#: NumPy operation, so below this size NumPy is within a microsecond of the kernel, and faster
#: for a short update. Measured, one update, µs (NumPy / kernel): SGD with momentum 3.6 / 4.9
#: at 10 elements, 4.2 / 5.2 at 1,000, 6.7 / 6.2 at 10,000; Adam 7.5 / 6.7, 9.3 / 7.1 and
#: 19.7 / 9.5. (A small softmax and its cross-entropy take the kernels below
#: ``kernels.ROWS_LOOP_UNTIL``: one call for a dozen NumPy operations.)
FUSED_FROM = 4096


@functools.cache
def compiled():
    """The kernels compiled by Numba, by name; None where Numba is not installed (or cannot be
    imported: then with a warning, once), or its compiler is switched off (``NUMBA_DISABLE_JIT``).

    Numba is imported on the first call, which training makes only for work a kernel would do
    (:data:`FUSED_FROM`). Each kernel compiles on its first use for a dtype (about a second)
    into Numba's cache on disk (beside this file, or in the user's cache folder where this one
    is read-only), from which a later process loads it in milliseconds; where neither can be
    written, each process compiles its own."""
    if importlib.util.find_spec("numba") is None:
        return None
    try:
        import numba
    except ImportError as error:  # a Numba that does not support this NumPy, say
        warnings.warn(
            f"chainrule: Numba is installed but could not be imported ({error}); training "
            f"runs the NumPy forms of the fused kernels.",
            RuntimeWarning,
            stacklevel=2,
        )
        return None
    if numba.config.DISABLE_JIT:  # NUMBA_DISABLE_JIT=1: the loops would run in the interpreter
        return None

    def compile_(function):
        options = {"nogil": True, "error_model": "numpy"}
        try:
            return numba.njit(cache=True, **options)(function)
        except RuntimeError:  # no folder to cache in (a read-only install and home): each
            return numba.njit(**options)(function)  # process compiles its own

    for name in HELPERS:  # compiled first (once), so that the kernels calling them compile too
        helper = globals()[name]
        globals()[name] = compile_(getattr(helper, "py_func", helper))
    return types.SimpleNamespace(**{name: compile_(globals()[name]) for name in KERNELS})


def for_arrays(name, *arrays, smallest=None):
    """Compiled kernel ``name`` where it suits ``arrays``: NumPy arrays of one dtype, float32 or
    float64, each C-contiguous, the first of ``smallest`` elements at least (by default
    :data:`FUSED_FROM`); else None (and then Numba is not imported)."""
    first = arrays[0]
    if first.size < (FUSED_FROM if smallest is None else smallest):
        return None
    dtype = first.dtype
    if dtype not in _FLOATS:
        return None
    for a in arrays:
        if type(a) is not np.ndarray or a.dtype != dtype or not a.flags.c_contiguous:
            return None
    kernels = compiled()
    return None if kernels is None else getattr(kernels, name)


_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


# ----- the optimizers' updates --------------------------------------------------------------------


def sgd_momentum(w, g, velocity, momentum, learning_rate, nesterov):
    """v <- μ v - η g; w <- w + v, or w <- w + (μ v - η g) with Nesterov's momentum."""
    for i in range(w.size):
        step = learning_rate * g[i]
        v = velocity[i] * momentum - step
        velocity[i] = v
        if nesterov:
            w[i] = w[i] + (momentum * v - step)
        else:
            w[i] = w[i] + v


def adam(w, g, m, v, v_max, one_minus_beta_1, one_minus_beta_2, alpha, epsilon, amsgrad):
    """m <- m + (g - m)(1 - β1); v <- v + (g² - v)(1 - β2); w <- w - α m / (sqrt(v) + ε),
    with v's running maximum (kept in ``v_max``) in place of v under ``amsgrad``."""
    for i in range(w.size):
        gi = g[i]
        mi = m[i] + (gi - m[i]) * one_minus_beta_1
        vi = v[i] + (gi * gi - v[i]) * one_minus_beta_2
        m[i] = mi
        v[i] = vi
        if amsgrad:  # v's running maximum, NaN if either is NaN
            previous = v_max[i]
            vi = previous if previous != previous or previous >= vi else vi
            v_max[i] = vi
        w[i] = w[i] - mi * alpha / (np.sqrt(vi) + epsilon)


def rmsprop(
    w, g, velocity, average, momentum_state, rho, one_minus_rho, epsilon, learning_rate,
    momentum, centered, with_momentum,
):  # fmt: skip
    """s <- ρ s + (1 - ρ) g²; d = s + ε, less ā² where centered (ā <- ρ ā + (1 - ρ) g);
    Δ = η g / sqrt(d), accumulated as u <- μ u + Δ with momentum; w <- w - Δ (or u)."""
    for i in range(w.size):
        gi = g[i]
        s = velocity[i] * rho + one_minus_rho * gi * gi
        velocity[i] = s
        denominator = s + epsilon
        if centered:
            a = average[i] * rho + one_minus_rho * gi
            average[i] = a
            denominator = denominator - a * a
        step = learning_rate * gi / np.sqrt(denominator)
        if with_momentum:
            step = momentum_state[i] * momentum + step
            momentum_state[i] = step
        w[i] = w[i] - step


def adagrad(w, g, accumulator, learning_rate, epsilon):
    """a <- a + g²; w <- w - η g / sqrt(a + ε)."""
    for i in range(w.size):
        gi = g[i]
        a = accumulator[i] + gi * gi
        accumulator[i] = a
        w[i] = w[i] - learning_rate * gi / np.sqrt(a + epsilon)


def adadelta(w, g, accumulated_grad, accumulated_delta, rho, one_minus_rho, epsilon, learning_rate):
    """E[g²] <- ρ E[g²] + (1 - ρ) g²; Δ = -sqrt(E[Δ²] + ε) g / sqrt(E[g²] + ε);
    E[Δ²] <- ρ E[Δ²] + (1 - ρ) Δ²; w <- w + η Δ."""
    for i in range(w.size):
        gi = g[i]
        a = accumulated_grad[i] * rho + one_minus_rho * gi * gi
        accumulated_grad[i] = a
        delta = -np.sqrt(accumulated_delta[i] + epsilon) * gi / np.sqrt(a + epsilon)
        accumulated_delta[i] = accumulated_delta[i] * rho + one_minus_rho * delta * delta
        w[i] = w[i] + learning_rate * delta


def adamax(w, g, m, u, one_minus_beta_1, beta_2, learning_rate, bias_correction, epsilon):
    """m <- m + (g - m)(1 - β1); u <- max(β2 u, |g|); w <- w - η m / (c (u + ε)),
    c = 1 - β1^t."""
    for i in range(w.size):
        gi = g[i]
        mi = m[i] + (gi - m[i]) * one_minus_beta_1
        m[i] = mi
        ui, size = u[i] * beta_2, np.abs(gi)
        ui = ui if ui != ui or ui >= size else size  # max(β2 u, |g|), NaN if either is NaN
        u[i] = ui
        w[i] = w[i] - learning_rate * mi / (bias_correction * (ui + epsilon))


def nadam(
    w, g, m, v, one_minus_beta_1, one_minus_beta_2, u_next, m_divisor, one_minus_u,
    g_divisor, v_divisor, learning_rate, epsilon,
):  # fmt: skip
    """m and v as Adam's; m̂ = μ_{t+1} m / (1 - Π_t μ_{t+1}) + (1 - μ_t) g / (1 - Π_t);
    v̂ = v / (1 - β2^t); w <- w - η m̂ / (sqrt(v̂) + ε)."""
    for i in range(w.size):
        gi = g[i]
        mi = m[i] + (gi - m[i]) * one_minus_beta_1
        vi = v[i] + (gi * gi - v[i]) * one_minus_beta_2
        m[i] = mi
        v[i] = vi
        m_hat = u_next * mi / m_divisor + one_minus_u * gi / g_divisor
        w[i] = w[i] - learning_rate * m_hat / (np.sqrt(vi / v_divisor) + epsilon)


def ftrl(w, g, n, z, p, square_root, l1, twice_l2, twice_shrinkage, learning_rate):
    """n' = n + g²; z <- z + g + 2 λ₂' w - (n'^p - n^p) / η w;
    w <- (clip(z, -λ₁, λ₁) - z) / (n'^p / η + 2 λ₂); n <- n' (p = -learning_rate_power)."""
    for i in range(w.size):
        gi, wi, ni = g[i], w[i], n[i]
        new_n = ni + gi * gi
        if square_root:  # NumPy's a ** 0.5
            new_n_power, n_power = np.sqrt(new_n), np.sqrt(ni)
        else:
            new_n_power, n_power = new_n**p, ni**p
        zi = z[i] + (gi + twice_shrinkage * wi)
        zi = zi - (new_n_power - n_power) / learning_rate * wi
        z[i] = zi
        clipped = zi if zi != zi else min(max(zi, -l1), l1)  # clip(z, -λ₁, λ₁), NaN kept
        w[i] = (clipped - zi) / (new_n_power / learning_rate + twice_l2)
        n[i] = new_n


def lion(w, g, m, beta_1, one_minus_beta_1, beta_2, one_minus_beta_2, learning_rate):
    """w <- w - η sign(β1 m + (1 - β1) g); m <- β2 m + (1 - β2) g."""
    for i in range(w.size):
        gi = g[i]
        w[i] = w[i] - learning_rate * np.sign(m[i] * beta_1 + gi * one_minus_beta_1)
        m[i] = m[i] * beta_2 + gi * one_minus_beta_2


# ----- ReLU ---------------------------------------------------------------------------------------


def relu(a, out):
    """out = max(a, 0) as ``numpy.maximum(a, 0)``: NaN kept, -0 made +0."""
    for i in range(a.size):
        v = a[i]
        out[i] = v if v > 0 or v != v else 0.0


def relu_vjp(g, a, out):
    """out = g [a > 0], the product by 1 or 0 (so that an infinite g where a <= 0 gives NaN, as
    in NumPy)."""
    for i in range(g.size):
        out[i] = g[i] * (a[i] > 0)


# ----- softmax with its cross-entropy -----------------------------------------------------------


def softmax_row(z, p):
    """p = softmax(z) for one row z (C,), written into p; returns (m, s), the row's maximum (NaN
    where the row holds one, as NumPy's maximum) and sum_i exp(z_i - m), summed in float64. The
    kernels below call it for every row, so each computes the same probabilities to the bit."""
    m = z[0]
    for i in range(1, z.shape[0]):
        v = z[i]
        if v > m or v != v:
            m = v
    s = 0.0
    for i in range(z.shape[0]):
        e = np.exp(z[i] - m)
        p[i] = e
        s += e
    for i in range(z.shape[0]):
        p[i] = p[i] / s
    return m, s


def softmax_rows(z, p):
    """p = softmax(z) over the last axis of a matrix z (N, C)."""
    for r in range(z.shape[0]):
        softmax_row(z[r], p[r])


def softmax_cross_entropy(z, t, p, grad, scale):
    """For logits z (N, C) and labels t (N, C), row by row: p = softmax(z) and
    grad = (p sum_i t_i - t) scale written out, and returned the sum over the rows of the
    cross-entropy log(sum_i exp(z_i - m)) sum_i t_i - sum_i t_i (z_i - m). The sums over a row
    are taken in float64."""
    total = 0.0
    for r in range(z.shape[0]):
        zr, tr, pr, gr = z[r], t[r], p[r], grad[r]
        m, s = softmax_row(zr, pr)
        label_sum, label_dot = 0.0, 0.0
        for i in range(zr.shape[0]):
            label_sum += tr[i]
            label_dot += tr[i] * (zr[i] - m)
        for i in range(zr.shape[0]):
            gr[i] = (pr[i] * label_sum - tr[i]) * scale
        total += np.log(s) * label_sum - label_dot
    return total


def sparse_softmax_cross_entropy(z, labels, p, losses, g, grad):
    """:func:`softmax_cross_entropy` with each row's label a class index k (labels (N,)): the
    cross-entropy of each row, log(sum_i exp(z_i - m)) - (z_k - m), written to ``losses`` (N,),
    and the gradient for each row's incoming gradient g (N,), g (p - onehot(k)), to ``grad``.
    Returns False, at the first label outside [0, C), else True."""
    for r in range(z.shape[0]):
        zr, pr, gr, k = z[r], p[r], grad[r], labels[r]
        if k < 0 or k >= zr.shape[0]:
            return False
        m, s = softmax_row(zr, pr)
        losses[r] = np.log(s) - (zr[k] - m)
        for i in range(zr.shape[0]):
            gr[i] = g[r] * pr[i]
        gr[k] = g[r] * (pr[k] - 1)
    return True


# ----- max pooling of a tiled convolution (see .tiled) --------------------------------------------


def tile_max(t, out, relu):
    """out[n, q] = max_p t[n, p, q], the maximum of each pooling window over its P pixels, as
    NumPy's running ``maximum`` makes it (NaN kept; of equal numbers the later, so that -0 and
    +0 give +0), then max(out, 0) with ``relu``. t (N, P, Q), out (N, Q)."""
    n, window, q = t.shape
    for i in range(n):
        o, first = out[i], t[i, 0]
        for k in range(q):
            o[k] = first[k]
        for p in range(1, window):
            tp = t[i, p]
            for k in range(q):
                m, v = o[k], tp[k]
                o[k] = m if m > v or m != m else v
        if relu:
            for k in range(q):
                v = o[k]
                o[k] = v if v > 0 or v != v else 0.0


def route_to_first_maxima(t, y, g, out):
    """out[n, p, q] = g[n, q] where t[n, p, q] is the first pixel of its window equal to the
    window's maximum y[n, q] (the last pixel where none is), else 0 g: the gradient of
    :func:`tile_max` with ties to the first maximum, as max pooling's. t, out (N, P, Q);
    y, g (N, Q)."""
    n, window, q = t.shape
    free = np.empty(q, np.bool_)  # windows whose first maximum is not found yet
    for i in range(n):
        yi, gi = y[i], g[i]
        for k in range(q):
            free[k] = True
        for p in range(window - 1):
            tp, op = t[i, p], out[i, p]
            for k in range(q):
                hit = free[k] and tp[k] == yi[k]
                op[k] = gi[k] * hit
                free[k] = free[k] and not hit
        last = out[i, window - 1]
        for k in range(q):
            last[k] = gi[k] * free[k]


# ----- col2im -------------------------------------------------------------------------------------


def col2im_add(columns, grad, sh, sw, dh, dw):
    """grad[n, i sh + a dh, j sw + b dw, c] += columns[n, i, j, a, b, c]: each window's share of
    the input gradient (G Kᵀ) added back to the pixels it read. columns (N, Ho, Wo, kh, kw, C),
    grad (N, Hp, Wp, C), the padded input's gradient. Image by image, tap by tap, as the
    primitive adds them (ops.conv.add_input_gradient), so each pixel sums in the same order."""
    n, ho, wo, kh, kw, c = columns.shape
    for image in range(n):
        for a in range(kh):
            for b in range(kw):
                for i in range(ho):
                    row = grad[image, i * sh + a * dh]
                    for j in range(wo):
                        source, target = columns[image, i, j, a, b], row[j * sw + b * dw]
                        for k in range(c):
                            target[k] += source[k]


# ----- the transforms of a Winograd convolution (see .winograd) -----------------------------------


def winograd_tiles(x, v, top, left, hq, wq):
    """v[4 r + s, (n hq + i) wq + j, c] = (Bᵀ d B)[r, s] for d the 4 x 4 pixels of channel c
    that output tile (i, j) of image n reads, rows 2 i - top .. 2 i - top + 3 and columns
    2 j - left .. 2 j - left + 3 of x (zero outside it: the padding). Bᵀ z = (z0 - z2,
    z1 + z2, z2 - z1, z1 - z3), applied to the columns of d, then to its rows. x (N, H, W, C),
    v (16, N hq wq, C)."""
    n, h, w, c = x.shape
    column = np.zeros(4, x.dtype)  # a column of d at the border, its padding zero
    for image in range(n):
        for i in range(hq):
            y0 = 2 * i - top
            for j in range(wq):
                z0 = 2 * j - left
                row = (image * hq + i) * wq + j
                inside = y0 >= 0 and z0 >= 0 and y0 + 4 <= h and z0 + 4 <= w
                for s in range(4):
                    z = z0 + s
                    for k in range(c):
                        if inside:
                            d0, d1 = x[image, y0, z, k], x[image, y0 + 1, z, k]
                            d2, d3 = x[image, y0 + 2, z, k], x[image, y0 + 3, z, k]
                        else:
                            for r in range(4):
                                inside_x = 0 <= y0 + r < h and 0 <= z < w
                                column[r] = x[image, y0 + r, z, k] if inside_x else 0
                            d0, d1, d2, d3 = column[0], column[1], column[2], column[3]
                        v[s, row, k] = d0 - d2
                        v[4 + s, row, k] = d1 + d2
                        v[8 + s, row, k] = d2 - d1
                        v[12 + s, row, k] = d1 - d3
                for r in range(0, 16, 4):
                    for k in range(c):
                        u0, u1 = v[r, row, k], v[r + 1, row, k]
                        u2, u3 = v[r + 2, row, k], v[r + 3, row, k]
                        v[r, row, k] = u0 - u2
                        v[r + 1, row, k] = u1 + u2
                        v[r + 2, row, k] = u2 - u1
                        v[r + 3, row, k] = u1 - u3


def winograd_untiles(m, bias, t):
    """t[n, a, b, i, j, f] = (Aᵀ M A)[a, b] + bias[f] for M the 4 x 4 numbers
    m[4 r + s, (n Hq + i) Wq + j, f] of output tile (i, j) of image n. t (N, 2, 2, Hq, Wq, F)
    is the tiled layout of a 2 x 2 max pooling (see .tiled) or a view of an output
    (N, 2 Hq, 2 Wq, F) whose element [n, 2 i + a, 2 j + b, f] t[n, a, b, i, j, f] is.
    Aᵀ z = (z0 + z1 + z2, z1 - z2 - z3), applied to the columns of M, then to its rows.
    m (16, N Hq Wq, F), bias (F,)."""
    n, _, _, hq, wq, f = t.shape
    for image in range(n):
        for i in range(hq):
            for j in range(wq):
                row = (image * hq + i) * wq + j
                for k in range(f):
                    a0 = m[0, row, k] + m[4, row, k] + m[8, row, k]
                    a1 = m[1, row, k] + m[5, row, k] + m[9, row, k]
                    a2 = m[2, row, k] + m[6, row, k] + m[10, row, k]
                    a3 = m[3, row, k] + m[7, row, k] + m[11, row, k]
                    b0 = m[4, row, k] - m[8, row, k] - m[12, row, k]
                    b1 = m[5, row, k] - m[9, row, k] - m[13, row, k]
                    b2 = m[6, row, k] - m[10, row, k] - m[14, row, k]
                    b3 = m[7, row, k] - m[11, row, k] - m[15, row, k]
                    t[image, 0, 0, i, j, k] = a0 + a1 + a2 + bias[k]
                    t[image, 0, 1, i, j, k] = a1 - a2 - a3 + bias[k]
                    t[image, 1, 0, i, j, k] = b0 + b1 + b2 + bias[k]
                    t[image, 1, 1, i, j, k] = b1 - b2 - b3 + bias[k]


def winograd_gradient_tiles(dy, w):
    """w[4 r + s, (n Hq + i) Wq + j, f] = (A dY Aᵀ)[r, s] for dY the 2 x 2 gradient
    dy[n, a, b, i, j, f] of output tile (i, j) of image n, laid out as the ``t`` of
    :func:`winograd_untiles`: the gradient with respect to the transformed products.
    A z = (z0, z0 + z1, z0 - z1, -z1), applied to the columns of dY, then to its rows.
    dy (N, 2, 2, Hq, Wq, F), w (16, N Hq Wq, F). Each row r of A dY is written on its own
    (four arrays of w at a time: sixteen, 400 KB apart, thrashed the cache: 4.8 ms against
    0.28 for the MNIST convnet's 64 images)."""
    n, _, _, hq, wq, f = dy.shape
    for image in range(n):
        for i in range(hq):
            for j in range(wq):
                row = (image * hq + i) * wq + j
                y00, y01 = dy[image, 0, 0, i, j], dy[image, 0, 1, i, j]
                y10, y11 = dy[image, 1, 0, i, j], dy[image, 1, 1, i, j]
                for r in range(4):
                    w0, w1, w2, w3 = (
                        w[4 * r, row],
                        w[4 * r + 1, row],
                        w[4 * r + 2, row],
                        w[4 * r + 3, row],
                    )
                    for k in range(f):
                        if r == 0:
                            e0, e1 = y00[k], y01[k]
                        elif r == 1:
                            e0, e1 = y00[k] + y10[k], y01[k] + y11[k]
                        elif r == 2:
                            e0, e1 = y00[k] - y10[k], y01[k] - y11[k]
                        else:
                            e0, e1 = -y10[k], -y11[k]
                        w0[k], w1[k], w2[k], w3[k] = e0, e0 + e1, e0 - e1, -e1


def winograd_untiles_add(dv, dx, hq, wq):
    """dx[n, 2 i + r, 2 j + s, c] += (B dV Bᵀ)[r, s] for dV the 4 x 4 numbers
    dv[4 r + s, (n hq + i) wq + j, c] of tile (i, j) of image n: the gradient with respect to
    the patches that :func:`winograd_tiles` transforms, added to the pixels each read (the
    patches of neighbouring tiles overlap by two rows or columns), tile by tile in order.
    B z = (z0, z1 - z2 + z3, -z0 + z1 + z2, -z3), applied to the columns of dV, then to its
    rows. dv (16, N hq wq, C), overwritten by the columns' sums; dx (N, Hp, Wp, C), the padded
    input's gradient."""
    n, c = dx.shape[0], dx.shape[3]
    for image in range(n):
        for i in range(hq):
            for j in range(wq):
                row = (image * hq + i) * wq + j
                for s in range(4):
                    for k in range(c):
                        v0, v1 = dv[s, row, k], dv[4 + s, row, k]
                        v2, v3 = dv[8 + s, row, k], dv[12 + s, row, k]
                        dv[4 + s, row, k] = v1 - v2 + v3
                        dv[8 + s, row, k] = v1 + v2 - v0
                        dv[12 + s, row, k] = -v3
                for r in range(4):
                    target = dx[image, 2 * i + r]
                    for k in range(c):
                        e0, e1 = dv[4 * r, row, k], dv[4 * r + 1, row, k]
                        e2, e3 = dv[4 * r + 2, row, k], dv[4 * r + 3, row, k]
                        target[2 * j, k] += e0
                        target[2 * j + 1, k] += e1 - e2 + e3
                        target[2 * j + 2, k] += e1 + e2 - e0
                        target[2 * j + 3, k] += -e3
