"""keras.ops math: special functions, top-k, segment reductions, framing and Fourier transforms.

chainrule has no complex dtype; as in Keras 3, a complex tensor is a ``(real, imag)`` pair of real
tensors, what the transforms take and return.
"""

import math as _math

import numpy as np

from ... import ops
from ...engine import Tensor
from ...ops import decompositions, segments, spectral
from .core import cast, custom_gradient, to_floating
from .dispatch import keras_op
from .dtypes import convert_to_tensor, standardize_dtype

__all__ = [
    "cdist",
    "erf",
    "erfc",
    "erfinv",
    "extract_sequences",
    "fft",
    "fft2",
    "ifft2",
    "in_top_k",
    "irfft",
    "istft",
    "logdet",
    "logsumexp",
    "rfft",
    "rsqrt",
    "segment_max",
    "segment_min",
    "segment_prod",
    "segment_sum",
    "stft",
    "top_k",
]


@keras_op
def erf(x):
    """erf(x) = (2/√π) ∫_0^x e^(-t²) dt.   d/dx = (2/√π) e^(-x²)."""
    return ops.erf(to_floating(x))


@keras_op
def erfc(x):
    """erfc(x) = 1 - erf(x).   d/dx = -(2/√π) e^(-x²)."""
    return 1 - erf(x)


def _erfinv_values(x):
    """erfinv on raw values: Giles's single-precision approximation, then two Newton steps on
    erf(y) = x; ±inf at ±1 and nan outside [-1, 1]."""
    x = np.asarray(x, dtype=np.float64)
    w = -np.log(np.maximum((1.0 - x) * (1.0 + x), 1e-300))
    small = w < 5.0
    ws, wl = w - 2.5, np.sqrt(w) - 3.0
    ps = [2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
          -0.00125372503, -0.00417768164, 0.246640727, 1.50140941]  # fmt: skip
    pl = [-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773,
          -0.0076224613, 0.00943887047, 1.00167406, 2.83297682]  # fmt: skip
    p_small, p_large = np.full_like(x, ps[0]), np.full_like(x, pl[0])
    for cs, cl in zip(ps[1:], pl[1:]):
        p_small, p_large = cs + p_small * ws, cl + p_large * wl
    y = np.where(small, p_small, p_large) * x
    erf_values = np.vectorize(_math.erf, otypes=[np.float64])
    inside = np.abs(x) < 1
    for _ in range(2):
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            step = (erf_values(y) - x) / (2 / np.sqrt(np.pi) * np.exp(-y * y))
        y = np.where(inside, y - step, y)
    y = np.where(np.abs(x) == 1, np.copysign(np.inf, x), y)
    return np.where(np.abs(x) > 1, np.nan, y)


@custom_gradient
def _erfinv(x):
    y = Tensor(_erfinv_values(x.data).astype(x.dtype))
    return y, lambda g: g * (np.sqrt(np.pi) / 2) * ops.exp(y * y)


@keras_op
def erfinv(x):
    """y = erf⁻¹(x) for x in [-1, 1].   dy/dx = (√π/2) e^(y²)."""
    return _erfinv(to_floating(x))


@keras_op
def rsqrt(x):
    """1 / √x.   d/dx = -½ x^(-3/2)."""
    return 1 / ops.sqrt(to_floating(x))


@keras_op
def logsumexp(x, axis=None, keepdims=False):
    """log Σ e^x over ``axis`` (all axes for None), computed stably.   d/dx = softmax(x)."""
    return ops.logsumexp(to_floating(x), axis=axis, keepdims=keepdims)


@keras_op
def logdet(x):
    """log |det x| for square x (..., n, n) -> (...); log det for a positive-definite x.
    d/dx = x⁻ᵀ."""
    return decompositions.logabsdet(to_floating(x))


@keras_op
def cdist(x, y):
    """The Euclidean distances between the rows of x (..., m, d) and y (..., n, d):
    D_ij = √(Σ_k (x_ik - y_jk)²), shape (..., m, n)."""
    x, y = to_floating(x), to_floating(y)
    if x.ndim < 2 or y.ndim < 2 or x.shape[-1] != y.shape[-1]:
        raise ValueError(
            f"cdist: expects x (..., m, d) and y (..., n, d) with the same d; got shapes "
            f"{x.shape} and {y.shape}"
        )
    dtype = np.result_type(x.dtype, y.dtype)
    x, y = cast(x, dtype), cast(y, dtype)
    diff = ops.expand_dims(x, axis=-2) - ops.expand_dims(y, axis=-3)
    return ops.sqrt(ops.sum(diff * diff, axis=-1))


@keras_op
def top_k(x, k, sorted=True):
    """The k largest entries of the last axis, largest first, and their indices (int32); among
    ties the lower index comes first. The values' gradient goes back to where they came from."""
    x = convert_to_tensor(x)
    if not 0 <= k <= x.shape[-1]:
        raise ValueError(f"top_k: k={k} must lie in [0, {x.shape[-1]}] for shape {x.shape}")
    order = ops.argsort(-x, axis=-1)[..., :k]  # stable: ties keep their order
    return ops.take_along_axis(x, order, axis=-1), cast(order, "int32")


@keras_op
def in_top_k(targets, predictions, k):
    """Whether each target's score is among the k largest of its row: fewer than k scores are
    strictly larger (so ties with the k-th count as in; a nan score or a target outside the row
    never does)."""
    predictions, targets = convert_to_tensor(predictions), convert_to_tensor(targets)
    targets = cast(targets, "int64")
    inside = ops.logical_and(targets >= 0, targets < predictions.shape[-1])
    picked = ops.expand_dims(ops.where(inside, targets, 0), axis=-1)
    at_label = ops.take_along_axis(predictions, picked, axis=-1)
    at_label = ops.where(ops.isnan(at_label), -np.inf, at_label)
    rank = 1 + ops.count_nonzero(predictions > at_label, axis=-1)
    return ops.logical_and(rank <= k, inside)


def _segment(kind, data, segment_ids, num_segments):
    data = convert_to_tensor(data)
    ids = np.asarray(convert_to_tensor(segment_ids).numpy())
    if ids.dtype.kind not in "iu":
        raise TypeError(f"segment_{kind}: segment_ids must be integers; got dtype {ids.dtype}")
    if num_segments is None:
        num_segments = int(ids.max()) + 1 if ids.size else 0
    return segments.segment_reduce(data, ids, num_segments=int(num_segments), kind=kind)


@keras_op
def segment_sum(data, segment_ids, num_segments=None, sorted=False):
    """y[s] = Σ data[i] over the rows with segment_ids[i] = s (num_segments: max id + 1 when
    None; ``sorted`` is only a hint). Empty segments are 0."""
    return _segment("sum", data, segment_ids, num_segments)


@keras_op
def segment_max(data, segment_ids, num_segments=None, sorted=False):
    """y[s] = max of data[i] over the rows with segment_ids[i] = s; -inf for an empty one."""
    return _segment("max", data, segment_ids, num_segments)


@keras_op
def segment_min(data, segment_ids, num_segments=None, sorted=False):
    """y[s] = min of data[i] over the rows with segment_ids[i] = s; +inf for an empty one."""
    return _segment("min", data, segment_ids, num_segments)


@keras_op
def segment_prod(data, segment_ids, num_segments=None, sorted=False):
    """y[s] = Π data[i] over the rows with segment_ids[i] = s; 1 for an empty one."""
    return _segment("prod", data, segment_ids, num_segments)


def _frames(x, length, stride, owner):
    """x (..., L) -> (..., F, length), frame f starting at f * stride; F = 1 + (L - length)
    // stride. A gather, so the gradient adds each frame's share back."""
    if x.shape[-1] < length:
        raise ValueError(
            f"{owner}: the signal (last axis {x.shape[-1]}) is shorter than one frame ({length})"
        )
    count = 1 + (x.shape[-1] - length) // stride
    positions = np.arange(count)[:, None] * stride + np.arange(length)[None, :]
    return x[..., positions]


@keras_op
def extract_sequences(x, sequence_length, sequence_stride):
    """Frames of ``sequence_length`` along the last axis, one every ``sequence_stride``:
    x (..., L) -> (..., 1 + (L - sequence_length) // sequence_stride, sequence_length)."""
    return _frames(convert_to_tensor(x), sequence_length, sequence_stride, "extract_sequences")


def _complex_pair(x, owner):
    if not isinstance(x, (tuple, list)) or len(x) != 2:
        raise ValueError(
            f"{owner}: expects a complex tensor as a (real, imag) pair of real tensors; got "
            f"{type(x).__name__}"
        )
    real, imag = (to_floating(p) for p in x)
    if real.shape != imag.shape:
        raise ValueError(
            f"{owner}: the real and imaginary parts must have the same shape; got {real.shape} "
            f"and {imag.shape}"
        )
    dtype = np.result_type(real.dtype, imag.dtype)
    return cast(real, dtype), cast(imag, dtype)


def _transform(x, axes, inverse, owner):
    real, imag = _complex_pair(x, owner)
    if real.ndim < len(axes):
        raise ValueError(f"{owner}: needs at least {len(axes)} axes; got shape {real.shape}")
    out = spectral.fft(real, imag, axes=axes, inverse=inverse)
    return out[0], out[1]


@keras_op
def fft(x):
    """The DFT over the last axis of x = (real, imag): X_k = Σ_t x_t e^(-2πikt/n); a pair."""
    return _transform(x, (-1,), False, "fft")


@keras_op
def fft2(x):
    """The 2-D DFT over the last two axes of x = (real, imag); a (real, imag) pair."""
    return _transform(x, (-2, -1), False, "fft2")


@keras_op
def ifft2(x):
    """The inverse 2-D DFT over the last two axes: x_t = (1/n) Σ_k X_k e^(2πikt/n); a pair."""
    return _transform(x, (-2, -1), True, "ifft2")


def _fit_last_axis(x, n):
    """x cropped or zero-padded on the last axis to length n."""
    length = x.shape[-1]
    if length >= n:
        return x[..., :n]
    zeros = Tensor(np.zeros(x.shape[:-1] + (n - length,), dtype=x.dtype))
    return ops.concatenate([x, zeros], axis=-1)


@keras_op
def rfft(x, fft_length=None):
    """The non-negative frequencies of the DFT of a real x over its last axis, cropped or
    zero-padded to ``fft_length`` first: (..., fft_length // 2 + 1) real and imaginary parts."""
    x = to_floating(x)
    n = x.shape[-1] if fft_length is None else int(fft_length)
    out = spectral.rfft(_fit_last_axis(x, n))
    return out[0], out[1]


@keras_op
def irfft(x, fft_length=None):
    """The real signal of length ``fft_length`` (default 2 (m - 1) for m frequencies) whose
    one-sided spectrum is x = (real, imag) on the last axis."""
    real, imag = _complex_pair(x, "irfft")
    n = 2 * (real.shape[-1] - 1) if fft_length is None else int(fft_length)
    bins = n // 2 + 1
    return spectral.irfft(_fit_last_axis(real, bins), _fit_last_axis(imag, bins), n=n)


def _window(window, sequence_length, fft_length, dtype, owner):
    """The analysis window, zero-padded on both sides to ``fft_length`` (centred)."""
    if window is None:
        win = np.ones(sequence_length)
    elif isinstance(window, str):
        if window not in ("hann", "hamming"):
            raise ValueError(f"{owner}: window must be 'hann', 'hamming', a tensor or None")
        a = 0.5 if window == "hann" else 0.54  # periodic windows; a window of one sample is 1
        win = np.ones(1) if sequence_length == 1 else None
        if win is None:
            win = a - (1 - a) * np.cos(2 * np.pi * np.arange(sequence_length) / sequence_length)
    else:
        win = np.asarray(convert_to_tensor(window).numpy(), dtype=np.float64)
        if win.shape != (sequence_length,):
            raise ValueError(
                f"{owner}: the window must have shape ({sequence_length},); got {win.shape}"
            )
    left = (fft_length - sequence_length) // 2
    return np.pad(win, (left, fft_length - sequence_length - left)).astype(dtype)


@keras_op
def stft(x, sequence_length, sequence_stride, fft_length, window="hann", center=True):
    """Short-time Fourier transform of x (..., L): frames of ``fft_length`` samples (reflect-
    padded by fft_length // 2 on both ends when ``center``), one every ``sequence_stride``,
    times the window, then rfft: a (real, imag) pair of shape (..., frames, fft_length // 2 + 1).
    """
    x = convert_to_tensor(x)
    if standardize_dtype(x.dtype) not in ("float32", "float64"):
        raise TypeError(f"stft: expects float32 or float64 input; got {x.dtype}")
    if fft_length < sequence_length:
        raise ValueError(
            f"stft: fft_length ({fft_length}) must be at least sequence_length ({sequence_length})"
        )
    if center:
        half, length = fft_length // 2, x.shape[-1]
        reflect = np.concatenate(
            [np.arange(half, 0, -1), np.arange(length), length - 2 - np.arange(half)]
        )
        x = x[..., reflect]
    win = _window(window, sequence_length, fft_length, x.dtype, "stft")
    frames = _frames(x, fft_length, sequence_stride, "stft") * win
    out = spectral.rfft(frames)
    return out[0], out[1]


@keras_op
def istft(x, sequence_length, sequence_stride, fft_length, length=None, window="hann", center=True):
    """Inverse of :func:`stft`: irfft of each frame, times the window, overlap-added and divided
    by the overlap-added squared window; cropped by fft_length // 2 on both ends when
    ``center`` (or to ``length`` samples)."""
    real, imag = _complex_pair(x, "istft")
    if real.ndim < 2:
        raise ValueError(f"istft: needs (..., frames, bins); got shape {real.shape}")
    win = _window(window, sequence_length, fft_length, real.dtype, "istft")
    frames = spectral.irfft(real, imag, n=fft_length) * win
    count = frames.shape[-2]
    total = fft_length + sequence_stride * (count - 1)
    positions = (np.arange(count)[:, None] * sequence_stride + np.arange(fft_length)).reshape(-1)
    flat = frames.reshape(frames.shape[:-2] + (count * fft_length,))
    signal = ops.scatter_add(flat, index=(Ellipsis, positions), shape=flat.shape[:-1] + (total,))
    norm = np.zeros(total, dtype=real.dtype)
    np.add.at(norm, positions, np.tile(win * win, count))
    signal = signal / np.where(norm > 1e-10, norm, 1)
    start = fft_length // 2 if center else 0
    if length is not None:
        return signal[..., start : start + length]
    return signal[..., start : total - start] if center else signal
