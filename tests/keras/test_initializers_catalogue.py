"""keras.initializers: the distributions (mean, standard deviation and bounds, with tolerances
from the sample size), orthogonality, exact constants, STFT kernels against real Keras, fans,
seeds, Keras's configs and get/serialize/deserialize."""

import json
import math

import numpy as np
import pytest

import chainrule as cr
from chainrule.keras import initializers
from chainrule.keras.random import SeedGenerator
from chainrule.keras.utils import set_random_seed

N = (400, 500)  # 200,000 samples: the sample mean's standard error is stddev / 447
SIZE = math.prod(N)


def _check_moments(values, mean, std):
    """Sample mean and std within 6 standard errors of the expected ones."""
    values = np.asarray(values, np.float64)
    assert abs(values.mean() - mean) < 6 * std / math.sqrt(values.size)
    # the sample variance's standard error is about std² sqrt(2 / n) (up to the kurtosis)
    assert abs(values.std() - std) < 6 * std * math.sqrt(2.0 / values.size)


def test_random_normal_moments():
    _check_moments(initializers.RandomNormal(0.5, 2.0, seed=1)(N), 0.5, 2.0)


def test_random_uniform_moments_and_bounds():
    values = initializers.RandomUniform(-1.0, 3.0, seed=2)(N).numpy()
    assert values.min() >= -1.0 and values.max() < 3.0
    _check_moments(values, 1.0, 4.0 / math.sqrt(12))


def test_truncated_normal_moments_and_bounds():
    values = initializers.TruncatedNormal(1.0, 0.5, seed=3)(N).numpy()
    assert values.min() >= 0.0 and values.max() <= 2.0  # within two standard deviations
    # the standard deviation of N(0, 1) cut at ±2 is 0.8796...
    _check_moments(values, 1.0, 0.5 * 0.87962566103423978)


@pytest.mark.parametrize(
    "cls, variance, distribution",
    [
        (initializers.GlorotUniform, lambda i, o: 2 / (i + o), "uniform"),
        (initializers.GlorotNormal, lambda i, o: 2 / (i + o), "normal"),
        (initializers.HeUniform, lambda i, o: 2 / i, "uniform"),
        (initializers.HeNormal, lambda i, o: 2 / i, "normal"),
        (initializers.LecunUniform, lambda i, o: 1 / i, "uniform"),
        (initializers.LecunNormal, lambda i, o: 1 / i, "normal"),
    ],
    ids=lambda v: getattr(v, "__name__", str(v)),
)
def test_variance_scaling_presets(cls, variance, distribution):
    values = cls(seed=4)(N).numpy()
    std = math.sqrt(variance(*N))
    _check_moments(values, 0.0, std)
    if distribution == "uniform":
        assert np.abs(values).max() <= math.sqrt(3) * std
    else:  # truncated at two standard deviations of the underlying normal
        assert np.abs(values).max() <= 2 * std / 0.87962566103423978


@pytest.mark.parametrize("mode", ["fan_in", "fan_out", "fan_avg"])
@pytest.mark.parametrize("distribution", ["uniform", "truncated_normal", "untruncated_normal"])
def test_variance_scaling_modes_and_distributions(mode, distribution):
    shape = (3, 5, 40, 300)  # receptive field 15: fan_in = 600, fan_out = 4500
    n = {"fan_in": 600, "fan_out": 4500, "fan_avg": 2550}[mode]
    values = initializers.VarianceScaling(3.0, mode, distribution, seed=5)(shape)
    _check_moments(values.numpy(), 0.0, math.sqrt(3.0 / n))


def test_variance_scaling_explicit_axes_and_fans():
    assert initializers.compute_fans((3, 3, 8, 16)) == (72, 144)
    assert initializers.compute_fans((7,)) == (7, 7) and initializers.compute_fans(()) == (1, 1)
    assert initializers.compute_fans((4, 6, 10), input_axes=(0,), output_axes=(1, 2)) == (4, 60)
    init = initializers.VarianceScaling(
        1.0, "fan_out", "untruncated_normal", seed=6, input_axes=(0,), output_axes=(1, 2)
    )
    _check_moments(init((500, 20, 20)).numpy(), 0.0, math.sqrt(1 / 400))
    assert init.get_config()["input_axes"] == (0,)
    assert initializers.VarianceScaling(distribution="normal").distribution == "truncated_normal"


@pytest.mark.parametrize("shape", [(6, 6), (10, 4), (4, 10), (3, 3, 4, 5)])
def test_orthogonal_has_orthonormal_columns_or_rows(shape):
    q = initializers.Orthogonal(gain=2.0, seed=7)(shape, dtype="float64").numpy()
    assert q.shape == shape
    flat = q.reshape(-1, shape[-1]) / 2.0
    rows, cols = flat.shape
    gram = flat.T @ flat if rows >= cols else flat @ flat.T
    np.testing.assert_allclose(gram, np.eye(min(rows, cols)), atol=1e-12)
    with pytest.raises(ValueError, match="Orthogonal: the shape to initialize must have at least"):
        initializers.Orthogonal()((5,))


def test_constants_identity_and_dtypes():
    np.testing.assert_array_equal(initializers.Zeros()((2, 3)).numpy(), np.zeros((2, 3)))
    np.testing.assert_array_equal(initializers.Ones()((4,), dtype="int32").numpy(), np.ones(4))
    assert initializers.Ones()((4,), dtype="int32").dtype == np.int32
    assert initializers.Constant(2.5)((2, 2)).numpy().tolist() == [[2.5, 2.5], [2.5, 2.5]]
    np.testing.assert_array_equal(initializers.Constant([1.0, 2.0])((3, 2)).numpy()[2], [1, 2])
    # Keras 3.15.1: keras.initializers.Identity(gain=2.0)((2, 3))
    assert initializers.Identity(gain=2.0)((2, 3)).numpy().tolist() == [
        [2.0, 0.0, 0.0],
        [0.0, 2.0, 0.0],
    ]
    value = initializers.GlorotUniform(seed=1)((3, 4))
    assert isinstance(value, cr.Tensor) and value.dtype == np.float32
    assert initializers.HeNormal(seed=1)((3, 4), dtype="float64").dtype == np.float64
    with pytest.raises(ValueError, match="Identity: the identity matrix initializer needs a 2-D"):
        initializers.Identity()((2, 2, 2))
    with pytest.raises(ValueError, match="RandomNormal: random values need a floating-point"):
        initializers.RandomNormal()((2,), dtype="int32")


# Keras 3.15.1: np.asarray(keras.initializers.STFT(**kwargs)((5, 2, 4)))[:, 0, :], to 6 digits
# (Keras returns the kernel for one channel, of shape (5, 1, 4); here it is broadcast to (5, 2, 4))
_HANN = [
    [0.0, 0.0, 0.0, 0.0],
    [0.408248, 0.204124, -0.204124, -0.408248],
    [0.816497, -0.408248, -0.408248, 0.816497],
    [0.408248, -0.408248, 0.408248, -0.408248],
    [0.0, 0.0, 0.0, 0.0],
]
STFT_CASES = [
    ({}, _HANN),
    (
        {"side": "imag", "window": "hamming", "scaling": "spectrum", "periodic": True},
        [
            [0.0, 0.0, 0.0, 0.0],
            [0.0, -0.127611, -0.127611, 0.0],
            [0.0, -0.292572, 0.292572, 0.0],
            [0.0, 0.0, 0.0, 0.0],
            [0.0, 0.127611, -0.127611, 0.0],
        ],
    ),
    (
        {"window": "blackman", "periodic": True},
        [
            [0.0, 0.0, 0.0, 0.0],
            [0.162686, 0.0813428, -0.0813428, -0.162686],
            [0.688138, -0.344069, -0.344069, 0.688138],
            [0.688138, -0.688138, 0.688138, -0.688138],
            [0.162686, -0.0813428, -0.0813428, 0.162686],
        ],
    ),
    ({"window": "bartlett"}, _HANN),
    (
        {"window": None},
        [[1, 1, 1, 1], [1, 0.5, -0.5, -1], [1, -0.5, -0.5, 1], [1, -1, 1, -1], [1, -0.5, -0.5, 1]],
    ),
]


@pytest.mark.parametrize("kwargs, expected", STFT_CASES)
def test_stft_kernels_match_keras(kwargs, expected):
    kernel = initializers.STFT(**kwargs)((5, 2, 4)).numpy()
    assert kernel.shape == (5, 2, 4)
    for channel in range(2):
        np.testing.assert_allclose(kernel[:, channel], expected, atol=2e-6, rtol=1e-5)


def test_stft_checks_its_arguments():
    with pytest.raises(ValueError, match="STFT: side must be 'real' or 'imag'"):
        initializers.STFT(side="both")
    with pytest.raises(ValueError, match="STFT: unknown window 'kaiser'"):
        initializers.STFT(window="kaiser")
    with pytest.raises(ValueError, match=r"STFT: the window must have shape \(5,\)"):
        initializers.STFT(window=np.ones(3))((5, 1, 4))


# ----- seeds --------------------------------------------------------------------------------------


def test_int_seeds_repeat_and_seed_generators_advance():
    a = initializers.RandomNormal(seed=11)
    np.testing.assert_array_equal(a((3, 3)).numpy(), a((3, 3)).numpy())
    np.testing.assert_array_equal(a((3, 3)).numpy(), initializers.RandomNormal(seed=11)((3, 3)))
    generator = initializers.RandomUniform(seed=SeedGenerator(5))
    first, second = generator((3, 3)).numpy(), generator((3, 3)).numpy()
    assert not np.array_equal(first, second)
    again = initializers.RandomUniform(seed=SeedGenerator(5))
    np.testing.assert_array_equal(again((3, 3)).numpy(), first)
    with pytest.raises(ValueError, match="`seed` must be an int, a keras.random.SeedGenerator"):
        initializers.HeNormal(seed=1.5)


def test_unseeded_initializers_repeat_per_instance_and_follow_set_random_seed():
    init = initializers.GlorotNormal()
    np.testing.assert_array_equal(init((4, 4)).numpy(), init((4, 4)).numpy())  # as in Keras
    assert not np.array_equal(init((4, 4)).numpy(), initializers.GlorotNormal()((4, 4)).numpy())
    set_random_seed(3)
    first = initializers.RandomNormal()((4,)).numpy()
    set_random_seed(3)
    np.testing.assert_array_equal(initializers.RandomNormal()((4,)).numpy(), first)


# ----- configs and identifiers ------------------------------------------------------------------


def test_configs_are_keras_s():
    # Keras 3.15.1: keras.initializers.X().get_config() (input_axes/output_axes, written as None
    # by Keras 3.15, appear here only when set)
    assert initializers.Orthogonal().get_config() == {"seed": None, "gain": 1.0}
    assert initializers.TruncatedNormal().get_config() == {
        "seed": None,
        "mean": 0.0,
        "stddev": 0.05,
    }
    assert initializers.RandomUniform().get_config() == {
        "seed": None,
        "minval": -0.05,
        "maxval": 0.05,
    }
    assert initializers.VarianceScaling().get_config() == {
        "seed": None,
        "scale": 1.0,
        "mode": "fan_in",
        "distribution": "truncated_normal",
    }
    assert initializers.HeNormal(seed=3).get_config() == {"seed": 3}
    assert initializers.STFT().get_config() == {
        "side": "real",
        "window": "hann",
        "periodic": False,
        "scaling": "density",
    }
    assert initializers.Identity().get_config() == {}
    assert initializers.Constant().get_config() == {"value": 0.0}
    config = initializers.RandomNormal(seed=SeedGenerator(3)).get_config()
    assert config["seed"]["class_name"] == "SeedGenerator"
    assert config["seed"]["config"]["seed"] == 3
    rebuilt = initializers.RandomNormal.from_config(config)
    np.testing.assert_array_equal(
        rebuilt((2,)).numpy(), initializers.RandomNormal(seed=SeedGenerator(3))((2,)).numpy()
    )


NAMES = [
    "Constant", "GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform", "Identity",
    "IdentityInitializer", "LecunNormal", "LecunUniform", "Ones", "Orthogonal",
    "OrthogonalInitializer", "RandomNormal", "RandomUniform", "STFT", "STFTInitializer",
    "TruncatedNormal", "VarianceScaling", "Zeros", "constant", "glorot_normal", "glorot_uniform",
    "he_normal", "he_uniform", "identity", "lecun_normal", "lecun_uniform", "ones", "orthogonal",
    "random_normal", "random_uniform", "stft", "truncated_normal", "variance_scaling", "zeros",
]  # fmt: skip


@pytest.mark.parametrize("name", NAMES)
def test_every_keras_name_exists_and_get_builds_it(name):
    cls = getattr(initializers, name)
    assert isinstance(cls, type) and issubclass(cls, initializers.Initializer)
    assert type(initializers.get(name)) is cls
    obj = cls()
    description = json.loads(json.dumps(initializers.serialize(obj)))
    assert description["module"] == "keras.initializers"
    rebuilt = initializers.deserialize(description)
    assert type(rebuilt) is cls and rebuilt.get_config() == obj.get_config()
    assert type(obj.clone()) is cls


def test_get_accepts_aliases_configs_classes_and_callables():
    assert type(initializers.get("normal")) is initializers.RandomNormal
    assert type(initializers.get("zero")) is initializers.Zeros
    assert initializers.get(None) is None
    built = initializers.get({"class_name": "Constant", "config": {"value": 3.0}})
    assert built((1,)).item() == 3.0
    assert type(initializers.get(initializers.HeUniform)) is initializers.HeUniform

    def custom(shape, dtype=None):
        return np.full(shape, 7.0)

    assert initializers.get(custom) is custom
    with pytest.raises(ValueError, match="Unknown initializer: 'glorot'"):
        initializers.get("glorot")
