"""Weight initializers with Keras 3's names, defaults, seeds and configs.

``initializer(shape, dtype=None)`` returns a Tensor of ``shape`` (float32 unless ``dtype`` says
otherwise).

Fans of a kernel follow Keras: for a shape (..., fan_in, fan_out) the receptive field (the product
of the leading axes) multiplies both fans; a vector has fan_in = fan_out = its length; explicit
``input_axes`` and ``output_axes`` multiply those axes instead.

Seeds follow Keras 3: an int gives the same values at every call; a
``keras.random.SeedGenerator`` gives new values at each call; None draws a fixed seed from the
global generator when the initializer is made (so ``keras.utils.set_random_seed`` fixes it), and
the instance then repeats its values, as in Keras. The numbers come from NumPy's generator, not
from Keras's backends: a seed gives other values than in Keras, the same distributions.
"""

import math

import numpy as np

from .. import random as global_random
from ..engine import Tensor
from . import config
from . import random as keras_random
from .registry import describe, deserialize_object, get_object, register_classes


def compute_fans(shape, input_axes=None, output_axes=None):
    """(fan_in, fan_out) of a weight of ``shape``, as Keras computes them."""
    shape = tuple(shape)
    if input_axes is not None and output_axes is not None:
        return math.prod(shape[a] for a in input_axes), math.prod(shape[a] for a in output_axes)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


def _dtype(dtype, name, floating=False):
    """``dtype`` (float32 when None) as a NumPy dtype; a float one if ``floating``."""
    dtype = np.dtype(config.floatx() if dtype is None else dtype)
    if floating and dtype.kind != "f":
        raise ValueError(f"{name}: random values need a floating-point dtype; received {dtype}.")
    return dtype


def _shape(shape):
    return (int(shape),) if np.ndim(shape) == 0 else tuple(int(n) for n in shape)


class Initializer:
    """Base class: ``initializer(shape, dtype=None)`` returns a Tensor of initial values."""

    def __call__(self, shape, dtype=None):
        raise NotImplementedError(
            f"{type(self).__name__}: Initializer subclasses must implement __call__(shape, dtype)."
        )

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def clone(self):
        """A new initializer of the same class and config."""
        return type(self).from_config(self.get_config())


class Zeros(Initializer):
    """All zeros (Keras's default bias initializer)."""

    def __call__(self, shape, dtype=None):
        return Tensor(np.zeros(_shape(shape), dtype=_dtype(dtype, "Zeros")))


class Ones(Initializer):
    """All ones."""

    def __call__(self, shape, dtype=None):
        return Tensor(np.ones(_shape(shape), dtype=_dtype(dtype, "Ones")))


class Constant(Initializer):
    """Every value equal to ``value`` (a scalar, or an array that broadcasts to the shape)."""

    def __init__(self, value=0.0):
        self.value = value

    def __call__(self, shape, dtype=None):
        dtype = _dtype(dtype, "Constant")
        return Tensor(np.asarray(self.value, dtype=dtype) * np.ones(_shape(shape), dtype=dtype))

    def get_config(self):
        value = self.value
        return {"value": value.tolist() if isinstance(value, np.ndarray) else value}


class Identity(Initializer):
    """``gain`` times the identity matrix (2-D shapes only; a rectangular one has ones on its
    diagonal). ``gain`` is in the config only when it is not 1 (Keras's config leaves it out)."""

    def __init__(self, gain=1.0):
        self.gain = gain

    def __call__(self, shape, dtype=None):
        shape = _shape(shape)
        if len(shape) != 2:
            raise ValueError(
                f"Identity: the identity matrix initializer needs a 2-D shape; received "
                f"shape={shape} of rank {len(shape)}."
            )
        dtype = _dtype(dtype, "Identity")
        return Tensor((self.gain * np.eye(*shape)).astype(dtype))

    def get_config(self):
        return {} if self.gain == 1.0 else {"gain": self.gain}


def _serialize_seed(seed):
    """A seed as a config holds it: an int or None as it is, a SeedGenerator as Keras's form."""
    if isinstance(seed, keras_random.SeedGenerator):
        return describe(seed, "keras.random")
    return seed


class RandomInitializer(Initializer):
    """Base of the random initializers: holds the ``seed`` (see the module).

    Raises:
        ValueError: a seed that is not an int, a SeedGenerator, its config or None.
    """

    def __init__(self, seed=None):
        self._init_seed = seed
        if seed is None:
            seed = int(global_random.generator().integers(1, 10**9))
        elif isinstance(seed, dict):
            seed = keras_random.SeedGenerator.from_config(seed.get("config", seed))
        elif isinstance(seed, bool) or not isinstance(
            seed, (int, np.integer, keras_random.SeedGenerator)
        ):
            raise ValueError(
                f"{type(self).__name__}: `seed` must be an int, a keras.random.SeedGenerator or "
                f"None; received seed={seed!r}."
            )
        self.seed = seed

    def get_config(self):
        return {"seed": _serialize_seed(self._init_seed)}


class RandomNormal(RandomInitializer):
    """Samples of N(mean, stddev²)."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev = mean, stddev
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        dtype = _dtype(dtype, "RandomNormal", floating=True)
        return keras_random.normal(shape, self.mean, self.stddev, dtype=dtype, seed=self.seed)

    def get_config(self):
        return {**super().get_config(), "mean": self.mean, "stddev": self.stddev}


class TruncatedNormal(RandomInitializer):
    """Samples of N(mean, stddev²) kept within two standard deviations of the mean (values
    beyond are drawn again), so the standard deviation of the values is about 0.88 stddev."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev = mean, stddev
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        dtype = _dtype(dtype, "TruncatedNormal", floating=True)
        return keras_random.truncated_normal(
            shape, self.mean, self.stddev, dtype=dtype, seed=self.seed
        )

    def get_config(self):
        return {**super().get_config(), "mean": self.mean, "stddev": self.stddev}


class RandomUniform(RandomInitializer):
    """Samples of U[minval, maxval)."""

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval, self.maxval = minval, maxval
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        dtype = _dtype(dtype, "RandomUniform", floating=True)
        return keras_random.uniform(shape, self.minval, self.maxval, dtype=dtype, seed=self.seed)

    def get_config(self):
        return {**super().get_config(), "minval": self.minval, "maxval": self.maxval}


class VarianceScaling(RandomInitializer):
    """Samples with variance ``scale / n``, n = max(1, fan_in, fan_out or their mean: ``mode``).

    ``uniform``: U[-limit, limit] with limit = sqrt(3 scale / n);
    ``truncated_normal`` (or ``normal``): N(0, s²) cut at 2 s, s = sqrt(scale / n) / 0.8796...,
    which restores the variance scale / n after the cut;
    ``untruncated_normal``: N(0, scale / n).

    Raises:
        ValueError: scale <= 0, or an unknown mode or distribution.
    """

    def __init__(
        self,
        scale=1.0,
        mode="fan_in",
        distribution="truncated_normal",
        seed=None,
        input_axes=None,
        output_axes=None,
    ):
        if scale <= 0:
            raise ValueError(f"VarianceScaling: scale must be positive; got {scale}")
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(
                f"VarianceScaling: mode must be fan_in, fan_out or fan_avg; got {mode!r}"
            )
        distribution = distribution.lower()
        distribution = "truncated_normal" if distribution == "normal" else distribution
        if distribution not in ("uniform", "truncated_normal", "untruncated_normal"):
            raise ValueError(
                "VarianceScaling: distribution must be uniform, truncated_normal (or normal) or "
                f"untruncated_normal; got {distribution!r}"
            )
        self.scale, self.mode, self.distribution = scale, mode, distribution
        self.input_axes, self.output_axes = input_axes, output_axes
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        dtype = _dtype(dtype, type(self).__name__, floating=True)
        shape = _shape(shape)
        fan_in, fan_out = compute_fans(shape, self.input_axes, self.output_axes)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        variance = self.scale / max(1.0, n)
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * variance)
            return keras_random.uniform(shape, -limit, limit, dtype=dtype, seed=self.seed)
        if self.distribution == "untruncated_normal":
            stddev = math.sqrt(variance)
            return keras_random.normal(shape, 0.0, stddev, dtype=dtype, seed=self.seed)
        stddev = math.sqrt(variance) / 0.87962566103423978
        return keras_random.truncated_normal(shape, 0.0, stddev, dtype=dtype, seed=self.seed)

    def get_config(self):
        return {
            **super().get_config(),
            "scale": self.scale,
            "mode": self.mode,
            "distribution": self.distribution,
            **self._axes_config(),
        }

    def _axes_config(self):
        """``input_axes`` and ``output_axes`` when they are set. Keras 3.15 writes them always
        (as None by default); earlier Keras 3 files, which chainrule reads too, do not."""
        if self.input_axes is None and self.output_axes is None:
            return {}
        return {"input_axes": self.input_axes, "output_axes": self.output_axes}


class _VarianceScalingPreset(VarianceScaling):
    """A VarianceScaling with Keras's fixed scale, mode and distribution (``_SETTINGS``)."""

    _SETTINGS = (1.0, "fan_in", "truncated_normal")

    def __init__(self, seed=None, input_axes=None, output_axes=None):
        scale, mode, distribution = self._SETTINGS
        super().__init__(scale, mode, distribution, seed, input_axes, output_axes)

    def get_config(self):
        return {"seed": _serialize_seed(self._init_seed), **self._axes_config()}


class GlorotUniform(_VarianceScalingPreset):
    """U[-limit, limit], limit = sqrt(6 / (fan_in + fan_out)) (Keras's default kernel
    initializer)."""

    _SETTINGS = (1.0, "fan_avg", "uniform")


class GlorotNormal(_VarianceScalingPreset):
    """Truncated normal with standard deviation sqrt(2 / (fan_in + fan_out))."""

    _SETTINGS = (1.0, "fan_avg", "truncated_normal")


class HeUniform(_VarianceScalingPreset):
    """U[-limit, limit], limit = sqrt(6 / fan_in)."""

    _SETTINGS = (2.0, "fan_in", "uniform")


class HeNormal(_VarianceScalingPreset):
    """Truncated normal with standard deviation sqrt(2 / fan_in)."""

    _SETTINGS = (2.0, "fan_in", "truncated_normal")


class LecunUniform(_VarianceScalingPreset):
    """U[-limit, limit], limit = sqrt(3 / fan_in)."""

    _SETTINGS = (1.0, "fan_in", "uniform")


class LecunNormal(_VarianceScalingPreset):
    """Truncated normal with standard deviation sqrt(1 / fan_in)."""

    _SETTINGS = (1.0, "fan_in", "truncated_normal")


class Orthogonal(RandomInitializer):
    """``gain`` times an orthogonal matrix: the Q of the QR factorization of a standard normal
    matrix, with the signs of R's diagonal moved into Q so that Q is uniformly distributed.

    The shape is flattened to (rows, cols) = (product of all axes but the last, last axis):
    with rows >= cols the columns are orthonormal (QᵀQ = I), otherwise the rows (QQᵀ = I).
    """

    def __init__(self, gain=1.0, seed=None):
        self.gain = gain
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        shape = _shape(shape)
        if len(shape) < 2:
            raise ValueError(
                f"Orthogonal: the shape to initialize must have at least two axes; received "
                f"shape={shape} of rank {len(shape)}."
            )
        dtype = _dtype(dtype, "Orthogonal", floating=True)
        rows, cols = math.prod(shape[:-1]), shape[-1]
        flat = (max(rows, cols), min(rows, cols))
        a = keras_random.normal(flat, dtype="float64", seed=self.seed).numpy()
        q, r = np.linalg.qr(a)
        q = q * np.where(np.diag(r) < 0, -1.0, 1.0)
        if rows < cols:
            q = q.T
        return Tensor((self.gain * q.reshape(shape)).astype(dtype))

    def get_config(self):
        return {**super().get_config(), "gain": self.gain}


_WINDOWS = {"hann": np.hanning, "hamming": np.hamming, "blackman": np.blackman, "bartlett": None}


def _window(name, length, periodic):
    """The named window of ``length`` samples; ``periodic`` drops the last of length + 1
    (the form for spectral analysis), otherwise it is symmetric."""
    n = length + 1 if periodic else length
    values = np.bartlett(n) if name == "bartlett" else _WINDOWS[name](n)
    return values[:length]


class STFT(Initializer):
    """The kernel of a short-time Fourier transform as a 1-D convolution, of shape
    (frame_length, input_channels, fft_length):

        real: cos(-2π t f / (2 (fft_length - 1))) · w(t) / c;   imag: the same with sin,

    for times t < frame_length and frequencies f < fft_length, with the window w (hann, hamming,
    blackman, bartlett, an array of frame_length values, or None) and c = sqrt(sum w²)
    (``scaling="density"``), sum |w| (``"spectrum"``) or 1 (None).

    Raises:
        ValueError: an unknown side, window or scaling.
    """

    def __init__(self, side="real", window="hann", scaling="density", periodic=False):
        if side not in ("real", "imag"):
            raise ValueError(f"STFT: side must be 'real' or 'imag'; got {side!r}.")
        if isinstance(window, str) and window not in _WINDOWS:
            raise ValueError(
                f"STFT: unknown window {window!r}; use one of {', '.join(_WINDOWS)}, an array of "
                "frame_length values, or None."
            )
        if scaling not in (None, "density", "spectrum"):
            raise ValueError(
                f"STFT: scaling must be None, 'density' or 'spectrum'; got {scaling!r}."
            )
        self.side, self.window, self.scaling, self.periodic = side, window, scaling, periodic

    def __call__(self, shape, dtype=None):
        dtype = _dtype(dtype, "STFT", floating=True)
        shape = _shape(shape)
        if len(shape) != 3:
            raise ValueError(
                f"STFT: expected a shape (frame_length, input_channels, fft_length); received "
                f"shape={shape}."
            )
        frame_length, _, fft_length = shape
        time = np.arange(frame_length, dtype=np.float64).reshape(frame_length, 1, 1)
        frequency = np.arange(fft_length, dtype=np.float64).reshape(1, 1, fft_length)
        angle = -2.0 * np.pi * time * frequency / ((fft_length - 1) * 2)
        kernel = np.cos(angle) if self.side == "real" else np.sin(angle)
        if self.window is not None:
            window = (
                _window(self.window, frame_length, self.periodic)
                if isinstance(self.window, str)
                else np.asarray(self.window, dtype=np.float64)
            )
            if window.shape != (frame_length,):
                raise ValueError(
                    f"STFT: the window must have shape ({frame_length},) (frame_length); "
                    f"received {window.shape}."
                )
            scale = {"density": np.sqrt(np.sum(window**2)), "spectrum": np.sum(np.abs(window))}
            kernel = kernel * window.reshape(frame_length, 1, 1) / scale.get(self.scaling, 1.0)
        return Tensor(np.broadcast_to(kernel, shape).astype(dtype))

    def get_config(self):
        window = self.window.tolist() if isinstance(self.window, np.ndarray) else self.window
        return {
            "side": self.side,
            "window": window,
            "periodic": self.periodic,
            "scaling": self.scaling,
        }


_CLASSES = (
    Constant,
    Identity,
    Ones,
    STFT,
    Zeros,
    GlorotNormal,
    GlorotUniform,
    HeNormal,
    HeUniform,
    LecunNormal,
    LecunUniform,
    Orthogonal,
    RandomNormal,
    RandomUniform,
    TruncatedNormal,
    VarianceScaling,
)
# Keras's snake_case names are the classes themselves
constant, identity, ones, stft, zeros = Constant, Identity, Ones, STFT, Zeros
glorot_normal, glorot_uniform, he_normal, he_uniform = (
    GlorotNormal,
    GlorotUniform,
    HeNormal,
    HeUniform,
)
lecun_normal, lecun_uniform, orthogonal = LecunNormal, LecunUniform, Orthogonal
random_normal, random_uniform = RandomNormal, RandomUniform
truncated_normal, variance_scaling = TruncatedNormal, VarianceScaling
IdentityInitializer, OrthogonalInitializer, STFTInitializer = Identity, Orthogonal, STFT

INITIALIZERS = {
    "zeros": Zeros,
    "ones": Ones,
    "constant": Constant,
    "identity": Identity,
    "orthogonal": Orthogonal,
    "stft": STFT,
    "random_normal": RandomNormal,
    "random_uniform": RandomUniform,
    "truncated_normal": TruncatedNormal,
    "variance_scaling": VarianceScaling,
    "glorot_uniform": GlorotUniform,
    "glorot_normal": GlorotNormal,
    "he_uniform": HeUniform,
    "he_normal": HeNormal,
    "lecun_uniform": LecunUniform,
    "lecun_normal": LecunNormal,
    # Keras's aliases
    "normal": RandomNormal,
    "uniform": RandomUniform,
    "one": Ones,
    "zero": Zeros,
    "identityinitializer": Identity,
    "orthogonalinitializer": Orthogonal,
    "stftinitializer": STFT,
}
INITIALIZERS.update({cls.__name__.lower(): cls for cls in _CLASSES})  # lookup is case-blind
register_classes("keras.initializers", [*_CLASSES, Initializer])


def serialize(initializer):
    """Keras's description ``{"module", "class_name", "config", "registered_name"}`` of an
    Initializer; None stays None.

    Raises:
        TypeError: an object that is not an Initializer (a regularizer or constraint has its
            own module's ``serialize``).
    """
    if initializer is None:
        return None
    if not isinstance(initializer, Initializer):
        raise TypeError(
            f"initializers.serialize: expected a keras.initializers.Initializer, got "
            f"{initializer!r} (type {type(initializer).__name__}). Subclass Initializer and "
            f"define get_config() to save your own initializer."
        )
    return describe(initializer, "keras.initializers")


def deserialize(config, custom_objects=None):
    """The initializer that :func:`serialize` (or Keras) describes, or one from its name.

    ``custom_objects`` maps further class names to classes.
    """
    return deserialize_object("initializer", INITIALIZERS, config, custom_objects)


def get(identifier):
    """An initializer from its name, a config dict, a class, an instance or a callable
    ``(shape, dtype)``; None stays None.

    Raises:
        ValueError: an unknown name, listing the known ones.
    """
    return get_object("initializer", INITIALIZERS, identifier, Initializer)
