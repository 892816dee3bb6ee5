"""Discrete Fourier transforms on (real, imaginary) pairs.

chainrule has no complex dtype, so a complex array travels as two real arrays, as Keras 3's
``keras.ops`` passes it; each primitive returns its two real outputs stacked on a new first axis,
``y[0]`` the real and ``y[1]`` the imaginary part. With F the unnormalised DFT matrix over the
transformed axes (n points in all), F x costs O(n log n) by NumPy's FFT, and F⁻¹ = Fᴴ / n.

A loss L of the real and imaginary parts of y = A z (A complex-linear, z = a + ib) has
dL/da = Re(Aᴴ ĝ), dL/db = Im(Aᴴ ĝ) with ĝ = g_re + i g_im: each VJP applies the adjoint transform.
"""

from ..backend import xp_of
from ..engine import ShapeError, primitive


def _pair(z):
    """A complex array as its (real, imaginary) parts stacked on a new first axis."""
    return xp_of(z).stack([z.real, z.imag])


@primitive
def fft(re, im, axes=(-1,), inverse=False):
    """y = F z over ``axes`` (F⁻¹ z with ``inverse``), z = re + i im; y (2, ...) as re, im.

    dL/d(re, im) = Fᴴ ĝ = n F⁻¹ ĝ for the forward transform, (F⁻¹)ᴴ ĝ = F ĝ / n for the inverse.
    """
    if re.shape != im.shape:
        raise ShapeError(
            f"fft: the real and imaginary parts must have the same shape; got {re.shape} and "
            f"{im.shape}"
        )
    xp = xp_of(re, im)
    z = re + 1j * im
    out = xp.fft.ifftn(z, axes=axes) if inverse else xp.fft.fftn(z, axes=axes)
    return _pair(out).astype(xp.result_type(re.dtype, im.dtype))


def _points(shape, axes):
    n = 1
    for axis in axes:
        n *= shape[axis]
    return n


def _fft_vjp(part):
    def vjp(g, y, re, im, axes=(-1,), inverse=False):
        n = _points(re.shape, axes)
        adjoint = fft(g[0], g[1], axes=axes, inverse=not inverse)
        return adjoint[part] * (1 / n if inverse else n)

    return vjp


fft.defvjp(0)(_fft_vjp(0))
fft.defvjp(1)(_fft_vjp(1))


def hermitian_weights(n, like):
    """w_k for the n // 2 + 1 one-sided frequencies of a real signal of length n: 1 for k = 0
    and (n even) k = n/2, whose terms appear once in the full spectrum, 2 for the others."""
    w = xp_of(like).full(n // 2 + 1, 2.0, dtype=like.dtype)
    w[0] = 1.0
    if n % 2 == 0:
        w[-1] = 1.0
    return w


@primitive
def rfft(x, n=None):
    """y = the n // 2 + 1 non-negative frequencies of F x over the last axis of a real x of
    length n; y (2, ..., n // 2 + 1) as re, im.

    dL/dx = Re(Fᴴ ĝ) with ĝ zero beyond the kept frequencies, which is n irfft(ĝ / w)
    (w: :func:`hermitian_weights`; irfft ignores the imaginary parts that sin(0) drops anyway).
    """
    if n is not None and n != x.shape[-1]:
        raise ShapeError(f"rfft: n={n} must equal the last axis of x, {x.shape}")
    return _pair(xp_of(x).fft.rfft(x)).astype(x.dtype)


@rfft.defvjp(0)
def _rfft_vjp(g, y, x, n=None):
    length = x.shape[-1]
    w = hermitian_weights(length, y)
    return irfft(g[0] / w, g[1] / w, n=length) * length


@primitive
def irfft(re, im, n):
    """y = the real signal of length n whose one-sided spectrum (last axis, n // 2 + 1 points)
    is re + i im: y_t = (1/n) Σ_k w_k (re_k cos(2πkt/n) - im_k sin(2πkt/n)).

    dL/d(re, im) = (w / n) rfft(g)   (w: :func:`hermitian_weights`).
    """
    if re.shape != im.shape or re.shape[-1] != n // 2 + 1:
        raise ShapeError(
            f"irfft: needs real and imaginary parts of the same shape (..., {n // 2 + 1}) for "
            f"n={n}; got {re.shape} and {im.shape}"
        )
    return xp_of(re, im).fft.irfft(re + 1j * im, n=n).astype(re.dtype)


def _irfft_vjp(part):
    def vjp(g, y, re, im, n):
        return rfft(g)[part] * (hermitian_weights(n, y) / n)

    return vjp


irfft.defvjp(0)(_irfft_vjp(0))
irfft.defvjp(1)(_irfft_vjp(1))
