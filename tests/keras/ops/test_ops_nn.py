"""keras.ops.nn: activations, encodings, statistics, normalisations and cross-entropies, against
Keras 3's docstring examples and values computed with real Keras 3.15.1 (JAX backend), and
their gradients against finite differences.

The values marked "real Keras" were printed by, e.g.::

    KERAS_BACKEND=jax python -c "import keras, numpy as np; x = np.array([-1., 0., 1.], 'float32');
    print(np.asarray(keras.ops.hard_sigmoid(x)).tolist())"
"""

import math

import numpy as np
import pytest

import chainrule as cr
import chainrule.keras as keras
from chainrule.engine import ShapeError, Tensor

ops = keras.ops
nn = keras.ops.nn

X3 = [-1.0, 0.0, 1.0]

# (function, input, expected): Keras's docstring examples; where a docstring printed an older
# formula (hard_sigmoid, gelu's exact form) the value is real Keras's output on that input.
DOCSTRING_EXAMPLES = [
    ("relu", [-1.0, 0.0, 1.0, 0.2], [0.0, 0.0, 1.0, 0.2]),
    ("relu6", [-3.0, -2.0, 0.1, 0.2, 6.0, 8.0], [0.0, 0.0, 0.1, 0.2, 6.0, 6.0]),
    ("sigmoid", [-6.0, 1.0, 0.0, 1.0, 6.0], [0.00247262, 0.7310586, 0.5, 0.7310586, 0.9975274]),
    ("sparse_sigmoid", [-6.0, 1.0, 0.0, 1.0, 6.0], [0.0, 1.0, 0.5, 1.0, 1.0]),
    ("softplus", [-0.555, 0.0, 0.555], [0.45366603, 0.6931472, 1.008666]),
    ("softsign", [-0.1, -10.0, 1.0, 0.0, 100.0], [-0.09090909, -0.90909094, 0.5, 0.0, 0.990099]),
    ("soft_shrink", X3, [-0.5, 0.0, 0.5]),
    ("sparse_plus", X3, [0.0, 0.25, 1.0]),
    ("silu", [-6.0, 1.0, 0.0, 1.0, 6.0], [-0.0148357, 0.7310586, 0.0, 0.7310586, 5.9851646]),
    ("swish", [-6.0, 1.0, 0.0, 1.0, 6.0], [-0.0148357, 0.7310586, 0.0, 0.7310586, 5.9851646]),
    ("squareplus", X3, [0.618034, 1.0, 1.618034]),
    ("log_sigmoid", [-0.541391, 0.0, 0.5, 5.0], [-1.0000418, -0.6931472, -0.474077, -0.00671535]),
    ("leaky_relu", X3, [-0.2, 0.0, 1.0]),
    ("hard_sigmoid", X3, [0.33333334, 0.5, 0.6666667]),  # real Keras
    ("hard_silu", [-3.0, -1.0, 0.0, 1.0, 3.0], [-0.0, -0.3333333, 0.0, 0.6666667, 3.0]),
    ("hard_swish", [-3.0, -1.0, 0.0, 1.0, 3.0], [-0.0, -0.3333333, 0.0, 0.6666667, 3.0]),
    ("elu", X3, [-0.63212055, 0.0, 1.0]),
    ("selu", X3, [-1.11133055, 0.0, 1.05070098]),
    ("gelu", X3, [-0.15880796, 0.0, 0.841192]),  # real Keras: ops.gelu is the tanh form
    ("celu", X3, [-0.63212056, 0.0, 1.0]),
    ("glu", [-1.0, 0.0, 1.0, 1.0], [-0.73105858, 0.0]),
    ("tanh_shrink", X3, [-0.23840584, 0.0, 0.23840584]),
    ("hard_tanh", [-2.0, -1.0, 0.0, 1.0, 2.0], [-1.0, -1.0, 0.0, 1.0, 1.0]),
    ("hard_shrink", [-0.5, 0.0, 1.0], [0.0, 0.0, 1.0]),
    ("softmax", X3, [0.09003057, 0.24472847, 0.66524096]),
    ("log_softmax", X3, [-2.40760596, -1.40760596, -0.40760596]),
    ("sparsemax", X3, [0.0, 0.0, 1.0]),
]


@pytest.mark.parametrize("name, x, expected", DOCSTRING_EXAMPLES, ids=lambda v: str(v)[:12])
def test_activation_docstring_values(name, x, expected):
    y = getattr(nn, name)(np.array(x, dtype="float32"))
    assert isinstance(y, Tensor) and y.dtype == np.float32
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-6, atol=1e-7)
    assert getattr(ops, name) is getattr(nn, name)


def test_every_keras_ops_nn_name_is_there():
    # dir(keras.ops.nn) in real Keras 3.15.1, public names
    names = (
        "adaptive_average_pool adaptive_max_pool average_pool batch_normalization "
        "binary_crossentropy categorical_crossentropy celu conv conv_transpose ctc_decode "
        "ctc_loss depth_to_space depthwise_conv dot_product_attention elu fold gelu glu "
        "hard_shrink hard_sigmoid hard_silu hard_swish hard_tanh layer_normalization leaky_relu "
        "log_sigmoid log_softmax max_pool moments multi_hot normalize one_hot polar psnr relu "
        "relu6 rms_normalization selu separable_conv sigmoid silu soft_shrink softmax softplus "
        "softsign space_to_depth sparse_categorical_crossentropy sparse_plus sparse_sigmoid "
        "sparsemax squareplus swish tanh_shrink threshold unfold"
    ).split()
    assert len(names) == 55
    assert sorted(nn.__all__) == sorted(names)
    assert all(callable(getattr(nn, n)) for n in names)


def test_gelu_exact_threshold_and_defaults():
    x = np.array(X3, dtype="float32")
    exact = [0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in X3]  # x Phi(x)
    np.testing.assert_allclose(nn.gelu(x, approximate=False).numpy(), exact, rtol=1e-6)
    x4 = np.array([-1.0, 0.0, 1.0, 2.0])
    np.testing.assert_array_equal(nn.threshold(x4, 1, 0).numpy(), [0.0, 0.0, 0.0, 2.0])
    np.testing.assert_allclose(nn.leaky_relu(x, negative_slope=0.5).numpy(), [-0.5, 0, 1])
    np.testing.assert_allclose(nn.elu(x, alpha=2.0).numpy(), [2 * (math.exp(-1) - 1), 0, 1])
    np.testing.assert_allclose(nn.squareplus(x, b=0).numpy(), [0.0, 0.0, 1.0])
    np.testing.assert_allclose(
        nn.celu(x, alpha=2.0).numpy(), [2 * (math.exp(-0.5) - 1), 0, 1], rtol=1e-6
    )
    np.testing.assert_allclose(nn.soft_shrink(x, threshold=0.25).numpy(), [-0.75, 0, 0.75])
    np.testing.assert_allclose(nn.hard_shrink(x, threshold=1.0).numpy(), [0, 0, 0])


def test_activations_keep_float64_and_make_integers_float32():
    assert nn.sigmoid(np.array([0.5])).dtype == np.float64
    assert nn.gelu(np.array([1, 2], dtype="int32")).dtype == np.float32
    assert nn.relu(np.array([-1, 2], dtype="int32")).dtype == np.int32


def test_softmax_over_several_axes_and_sparsemax_sums_to_one():
    x = np.random.default_rng(0).standard_normal((2, 3, 4))
    y = nn.softmax(x, axis=(1, 2)).numpy()
    e = np.exp(x - x.max(axis=(1, 2), keepdims=True))
    np.testing.assert_allclose(y, e / e.sum(axis=(1, 2), keepdims=True), rtol=1e-12)
    np.testing.assert_allclose(
        nn.log_softmax(x, axis=None).numpy(), x - np.log(np.exp(x).sum()), rtol=1e-12
    )
    p = nn.sparsemax(x, axis=1).numpy()
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-12)
    assert (p >= 0).all() and (p == 0).any()
    # the projection of [1, 0.5] onto the simplex: tau = 0.25
    np.testing.assert_allclose(nn.sparsemax(np.array([1.0, 0.5])).numpy(), [0.75, 0.25])


SMOOTH = ["sigmoid", "softplus", "softsign", "silu", "log_sigmoid", "selu", "celu", "gelu"]
SMOOTH += ["tanh_shrink", "squareplus", "softmax", "log_softmax", "elu", "leaky_relu"]
PIECEWISE = ["relu6", "sparse_sigmoid", "sparse_plus", "hard_sigmoid", "hard_silu", "hard_tanh"]
PIECEWISE += ["hard_shrink", "soft_shrink", "relu"]


@pytest.mark.parametrize("name", SMOOTH + PIECEWISE)
def test_activation_gradients(name):
    rng = np.random.default_rng(1)
    # away from the kinks at -3, -1, 0, +-0.5, 1, 3 and 6
    x = rng.choice([-4.2, -2.1, -0.8, -0.3, 0.2, 0.7, 1.6, 2.4, 4.5]) + rng.uniform(-0.05, 0.05)
    x = np.asarray(x + np.linspace(-0.04, 0.04, 6).reshape(2, 3))
    fn = getattr(nn, name)
    cr.gradcheck(lambda a: fn(a), x)
    if name == "gelu":
        cr.gradcheck(lambda a: nn.gelu(a, approximate=False), x)


def test_glu_gradient_and_odd_axis_error():
    x = np.random.default_rng(2).standard_normal((3, 4))
    cr.gradcheck(lambda a: nn.glu(a, axis=0 if a.shape[0] % 2 == 0 else -1), x)
    with pytest.raises(ValueError, match=r"glu: .*even.*\(3, 4\)"):
        nn.glu(x, axis=0)


# ----- encodings ---------------------------------------------------------------------------------


def test_one_hot_and_multi_hot():
    # Keras docstring: one_hot([1, 3, 2, 0], num_classes=4)
    y = nn.one_hot(np.array([1, 3, 2, 0]), num_classes=4)
    np.testing.assert_array_equal(y.numpy(), np.eye(4)[[1, 3, 2, 0]])
    assert y.dtype == np.float32
    # the class axis first, and a negative class gives zeros (real Keras: the same)
    y = nn.one_hot(np.array([[1, -1], [2, 0]]), 3, axis=0, dtype="int32")
    assert y.shape == (3, 2, 2) and y.dtype == np.int32
    np.testing.assert_array_equal(y.numpy()[:, 0, 1], [0, 0, 0])
    np.testing.assert_array_equal(y.numpy()[:, 1, 0], [0, 0, 1])
    # Keras docstring: multi_hot([0, 4], num_classes=5)
    np.testing.assert_array_equal(
        nn.multi_hot(np.array([0, 4]), num_classes=5).numpy(), [1, 0, 0, 0, 1]
    )
    # real Keras: multi_hot([[1, 2], [2, 0]], 4) -> [[0, 1, 1, 0], [1, 0, 1, 0]]
    np.testing.assert_array_equal(
        nn.multi_hot(np.array([[1, 2], [2, 0]]), 4).numpy(), [[0, 1, 1, 0], [1, 0, 1, 0]]
    )


# ----- statistics and normalisation --------------------------------------------------------------


def test_moments_docstring_and_keepdims():
    mean, variance = nn.moments(np.array([0, 1, 2, 3, 100], dtype="float32"), axes=[0])
    np.testing.assert_allclose([mean.numpy(), variance.numpy()], [21.2, 1553.3601], rtol=1e-6)
    x = np.random.default_rng(3).standard_normal((2, 3, 4))
    mean, variance = nn.moments(x, axes=(0, 2), keepdims=True)
    assert mean.shape == variance.shape == (1, 3, 1)
    np.testing.assert_allclose(variance.numpy(), x.var(axis=(0, 2), keepdims=True), rtol=1e-12)
    half = nn.moments(x.astype("float16"), axes=0)
    assert half[0].dtype == half[1].dtype == np.float16
    cr.gradcheck(lambda a: nn.moments(a, axes=(0, 2))[1], x)


def test_batch_normalization_docstring_and_gradient():
    x = np.array([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6], [0.7, 0.8, 0.9]], dtype="float32")
    mean, var = np.array([0.4, 0.5, 0.6], "float32"), np.array([0.67, 0.67, 0.67], "float32")
    y = nn.batch_normalization(x, mean, var, axis=-1)
    row = 0.3 / math.sqrt(0.67 + 1e-3)  # Keras docstring: 3.6624e-01
    np.testing.assert_allclose(y.numpy(), [[-row] * 3, [0] * 3, [row] * 3], rtol=1e-5, atol=1e-7)
    assert y.dtype == np.float32
    rng = np.random.default_rng(4)
    args = (rng.standard_normal((2, 3, 4)), rng.standard_normal(3), rng.uniform(0.5, 2, 3))
    args += (rng.standard_normal(3), rng.standard_normal(3))
    cr.gradcheck(lambda a, m, v, o, s: nn.batch_normalization(a, m, v, 1, o, s), *args)
    with pytest.raises(ShapeError, match=r"batch_normalization: `variance` must have shape \(3,\)"):
        nn.batch_normalization(args[0], args[1], np.ones(4), axis=1)


def test_layer_rms_and_l2_normalization():
    # Keras docstrings: layer_normalization(arange(5)), normalize([[1, 2, 3], [4, 5, 6]])
    y = nn.layer_normalization(np.arange(5, dtype="float32"))
    np.testing.assert_allclose(
        y.numpy(), [-1.4142135, -0.70710677, 0.0, 0.7071067, 1.4142135], rtol=1e-6
    )
    y = nn.normalize(np.array([[1, 2, 3], [4, 5, 6]], dtype="float32"))
    np.testing.assert_allclose(
        y.numpy(),
        [[0.26726124, 0.5345225, 0.8017837], [0.45584232, 0.5698029, 0.6837635]],
        rtol=1e-6,
    )
    # real Keras: rms_normalization([[1, -2, 3, 0.5]], scale=[1, 2, 1, 0.5])
    y = nn.rms_normalization(
        np.array([[1, -2, 3, 0.5]], "float32"), scale=np.array([1, 2, 1, 0.5], "float32")
    )
    np.testing.assert_allclose(
        y.numpy(), [[0.5298129, -2.1192517, 1.5894388, 0.13245323]], rtol=1e-6
    )
    x = np.random.default_rng(5).standard_normal((2, 3, 4))
    np.testing.assert_allclose(
        nn.normalize(x, axis=1, order=3).numpy(),
        x / (np.abs(x) ** 3).sum(axis=1, keepdims=True) ** (1 / 3),
        rtol=1e-12,
    )
    g, b = np.linspace(0.5, 1.5, 4), np.linspace(-1, 1, 4)
    ref = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-7) * g + b
    np.testing.assert_allclose(nn.layer_normalization(x, g, b).numpy(), ref, rtol=1e-9)
    cr.gradcheck(lambda a, gg, bb: nn.layer_normalization(a, gg, bb, epsilon=1e-3), x, g, b)
    cr.gradcheck(lambda a: nn.layer_normalization(a, axis=(1, 2), rms_scaling=True), x)
    cr.gradcheck(lambda a, s: nn.rms_normalization(a, s, axis=-1), x, g)
    cr.gradcheck(lambda a: nn.normalize(a, axis=0), x)
    cr.gradcheck(lambda a: nn.normalize(a, order=1), x)
    assert nn.layer_normalization(x.astype("float16")).dtype == np.float16


def test_psnr():
    x1 = np.array([[0.1, 0.5], [0.9, 0.2]], "float32")
    x2 = np.array([[0.2, 0.5], [0.7, 0.2]], "float32")
    # closed form: mse = (0.01 + 0.04) / 4 = 0.0125; real Keras prints 19.0309
    np.testing.assert_allclose(nn.psnr(x1, x2, 1.0).numpy(), -10 * math.log10(0.0125), rtol=1e-5)
    cr.gradcheck(lambda a, b: nn.psnr(a, b, 2.0), x1.astype("float64"), x2.astype("float64"))
    with pytest.raises(ShapeError, match="psnr: x1 and x2 must have the same shape"):
        nn.psnr(x1, x2[0], 1.0)


# ----- cross-entropies ---------------------------------------------------------------------------

PROBS = np.array([[0.9, 0.05, 0.05], [0.1, 0.8, 0.1], [0.2, 0.3, 0.5]], dtype="float32")


def test_cross_entropy_docstring_values():
    bce = nn.binary_crossentropy(np.array([0, 1, 1, 0.0]), np.array([0.1, 0.9, 0.8, 0.2]))
    np.testing.assert_allclose(
        bce.numpy(), [0.10536054, 0.10536054, 0.22314355, 0.22314355], rtol=1e-6
    )
    cce = nn.categorical_crossentropy(np.eye(3, dtype="float32"), PROBS)
    np.testing.assert_allclose(cce.numpy(), [0.10536054, 0.22314355, 0.6931472], rtol=1e-6)
    scce = nn.sparse_categorical_crossentropy(np.array([0, 1, 2]), PROBS)
    np.testing.assert_allclose(scce.numpy(), [0.10536056, 0.22314355, 0.6931472], rtol=1e-6)
    # a trailing target axis of size 1 is dropped
    np.testing.assert_allclose(
        nn.sparse_categorical_crossentropy(np.array([[0], [1], [2]]), PROBS).numpy(), scce.numpy()
    )


def test_cross_entropies_from_logits_match_closed_forms():
    rng = np.random.default_rng(6)
    z = rng.standard_normal((4, 5))
    t = rng.uniform(size=(4, 5))
    log_p = z - np.log(np.exp(z).sum(-1, keepdims=True))
    np.testing.assert_allclose(
        nn.categorical_crossentropy(t, z, from_logits=True).numpy(), -(t * log_p).sum(-1)
    )
    log_p0 = z - np.log(np.exp(z).sum(0, keepdims=True))
    np.testing.assert_allclose(
        nn.categorical_crossentropy(t, z, from_logits=True, axis=0).numpy(), -(t * log_p0).sum(0)
    )
    labels = np.array([0, 4, 2, 1])
    np.testing.assert_allclose(
        nn.sparse_categorical_crossentropy(labels, z, from_logits=True).numpy(),
        -log_p[np.arange(4), labels],
    )
    s = 1 / (1 + np.exp(-z))
    np.testing.assert_allclose(
        nn.binary_crossentropy(t, z, from_logits=True).numpy(),
        -(t * np.log(s) + (1 - t) * np.log(1 - s)),
    )
    p = np.exp(log_p)
    cr.gradcheck(lambda a, b: nn.categorical_crossentropy(a, b, from_logits=True), t, z)
    cr.gradcheck(lambda b: nn.categorical_crossentropy(t, b), p)
    cr.gradcheck(lambda b: nn.sparse_categorical_crossentropy(labels, b), p)
    cr.gradcheck(lambda b: nn.binary_crossentropy(t, b), s)
    cr.gradcheck(lambda a, b: nn.binary_crossentropy(a, b, from_logits=True), t, z)


def test_cross_entropy_shape_errors_name_the_op():
    with pytest.raises(
        ShapeError, match=r"binary_crossentropy: .*target.shape=\(2,\), output.shape=\(3,\)"
    ):
        nn.binary_crossentropy(np.ones(2), np.ones(3) * 0.5)
    with pytest.raises(ShapeError, match="categorical_crossentropy: .*same shape"):
        nn.categorical_crossentropy(np.ones((2, 3)), np.ones((2, 4)))
    with pytest.raises(ShapeError, match="sparse_categorical_crossentropy: .*without its last"):
        nn.sparse_categorical_crossentropy(np.array([0, 1, 2]), PROBS[:2])


def test_polar_is_complex():
    z = nn.polar(np.array([1.0, 2.0], "float32"), np.array([0.5, -1.0], "float32"))
    assert z.dtype == np.complex64
    expected = [
        1.0 * complex(math.cos(0.5), math.sin(0.5)),
        2.0 * complex(math.cos(-1), math.sin(-1)),
    ]
    np.testing.assert_allclose(z.numpy(), expected, rtol=1e-6)
