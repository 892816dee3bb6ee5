"""Dense, activations and losses: gradients (float64 finite differences) and closed forms."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.keras import activations, losses
from chainrule.keras.layers import Activation, Dense

rng = np.random.default_rng(0)


@pytest.mark.parametrize(
    "activation",
    ["relu", "sigmoid", "tanh", "elu", "selu", "gelu", "softplus", "swish", "leaky_relu", "linear"],
)
def test_dense_gradients_match_finite_differences(activation):
    x = rng.standard_normal((6, 4))
    w = rng.standard_normal((4, 3)) * 0.7
    b = rng.standard_normal(3) * 0.1
    layer = Dense(3, activation=activation, dtype="float64")
    layer.build((None, 4))

    def fn(x, w, b):
        layer.kernel, layer.bias = w, b
        return layer.call(x)

    assert cr.gradcheck(fn, x, w, b, atol=1e-6, rtol=1e-5) < 1e-4


LOSS_CASES = [
    ("categorical_crossentropy", "softmax", lambda n: np.eye(3)[rng.integers(0, 3, n)]),
    ("sparse_categorical_crossentropy", "softmax", lambda n: rng.integers(0, 3, n)),
    ("binary_crossentropy", "sigmoid", lambda n: rng.integers(0, 2, (n, 3)).astype(float)),
    ("mean_squared_error", None, lambda n: rng.standard_normal((n, 3))),
    ("mean_absolute_error", None, lambda n: rng.standard_normal((n, 3))),
]


@pytest.mark.parametrize("name, out_activation, make_y", LOSS_CASES)
def test_every_loss_backpropagates_correctly_through_a_small_model(name, out_activation, make_y):
    x, y = rng.standard_normal((6, 4)), make_y(6)
    hidden, out = (
        Dense(5, activation="tanh", dtype="float64"),
        Dense(3, activation=out_activation, dtype="float64"),
    )
    hidden.build((None, 4))
    out.build((None, 5))
    loss = losses.get(name)

    def fn(w0, b0, w1, b1):
        hidden.kernel, hidden.bias, out.kernel, out.bias = w0, b0, w1, b1
        return loss(y, out.call(hidden.call(cr.Tensor(x)))).mean()

    weights = [
        rng.standard_normal((4, 5)),
        rng.standard_normal(5),
        rng.standard_normal((5, 3)),
        rng.standard_normal(3),
    ]
    assert cr.gradcheck(fn, *weights, atol=1e-6, rtol=1e-5) < 1e-4


@pytest.mark.parametrize("from_logits", [False, True])
def test_crossentropy_gradcheck_on_logits_and_probabilities(from_logits):
    y = np.eye(4)[[0, 3, 1]]
    z = rng.standard_normal((3, 4))
    fn = (
        (lambda z: losses.categorical_crossentropy(y, z, from_logits=True))
        if from_logits
        else (lambda z: losses.categorical_crossentropy(y, cr.softmax(z)))
    )
    assert cr.gradcheck(fn, z) < 1e-4


def test_losses_against_closed_forms():
    p = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    onehot = np.eye(3)[[0, 2]]
    np.testing.assert_allclose(
        losses.categorical_crossentropy(onehot, p).numpy(), -np.log([0.7, 0.8]), rtol=1e-6
    )
    np.testing.assert_allclose(
        losses.sparse_categorical_crossentropy([0, 2], p).numpy(), -np.log([0.7, 0.8]), rtol=1e-6
    )
    np.testing.assert_allclose(
        losses.sparse_categorical_crossentropy([[0], [2]], p).numpy(),
        -np.log([0.7, 0.8]),
        rtol=1e-6,
    )
    t, q = np.array([[1.0, 0.0]]), np.array([[0.9, 0.2]])
    np.testing.assert_allclose(
        losses.binary_crossentropy(t, q).numpy(), [-(np.log(0.9) + np.log(0.8)) / 2], rtol=1e-6
    )
    a, b = np.array([[1.0, 2.0], [0.0, 0.0]]), np.array([[0.0, 0.0], [3.0, -1.0]])
    np.testing.assert_allclose(losses.mean_squared_error(a, b).numpy(), [2.5, 5.0])
    np.testing.assert_allclose(losses.mean_absolute_error(a, b).numpy(), [1.5, 2.0])
    # logits: the fused primitive equals -log softmax
    z = np.array([[2.0, -1.0, 0.5]])
    expected = -(z[0, 1] - np.log(np.exp(z).sum()))
    np.testing.assert_allclose(
        losses.categorical_crossentropy([[0, 1, 0]], z, from_logits=True).numpy(),
        [expected],
        rtol=1e-6,
    )


def test_probabilities_are_clipped_as_keras_does():
    p = np.array([[1.0, 0.0]], dtype=np.float32)
    value = losses.categorical_crossentropy(np.array([[0.0, 1.0]]), p).numpy()[0]
    assert value == pytest.approx(-np.log(np.float32(1e-7)), rel=1e-5)  # 16.118...
    value = losses.binary_crossentropy(np.array([[1.0]]), np.array([[0.0]])).numpy()[0]
    assert value == pytest.approx(-np.log(1e-7), rel=1e-4)


def test_a_softmax_output_is_scored_from_its_logits():
    z = cr.Tensor(np.array([[30.0, 0.0, -30.0]]), requires_grad=True)
    value = losses.categorical_crossentropy(np.array([[0.0, 0.0, 1.0]]), activations.softmax(z))
    assert value.numpy()[0] == pytest.approx(60.0, rel=1e-5)  # not capped at -log(1e-7)
    value.sum().backward()
    np.testing.assert_allclose(z.grad.numpy(), [[1.0, 0.0, -1.0]], atol=1e-6)


def test_loss_reduction_and_sample_weight():
    y, p = np.array([[1.0], [2.0], [3.0]]), np.array([[0.0], [0.0], [0.0]])
    mse = losses.MeanSquaredError()
    assert mse(y, p).item() == pytest.approx(14 / 3)
    assert mse(y, p, sample_weight=[1.0, 0.0, 2.0]).item() == pytest.approx((1 + 18) / 3)
    assert losses.MeanSquaredError(reduction="sum")(y, p).item() == pytest.approx(14)
    np.testing.assert_allclose(losses.MeanSquaredError(reduction="none")(y, p).numpy(), [1, 4, 9])
    with pytest.raises(ValueError, match="Invalid reduction"):
        losses.MeanSquaredError(reduction="average")


def test_activations_closed_forms():
    x = np.array([-2.0, -0.5, 0.0, 0.5, 2.0])
    t = cr.Tensor(x, dtype="float64")
    np.testing.assert_allclose(activations.relu(t).numpy(), np.maximum(x, 0))
    np.testing.assert_allclose(activations.leaky_relu(t).numpy(), np.where(x > 0, x, 0.2 * x))
    np.testing.assert_allclose(activations.elu(t).numpy(), np.where(x > 0, x, np.expm1(x)))
    np.testing.assert_allclose(activations.softplus(t).numpy(), np.log1p(np.exp(x)))
    np.testing.assert_allclose(activations.swish(t).numpy(), x / (1 + np.exp(-x)))
    np.testing.assert_allclose(
        activations.selu(t).numpy(),
        1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772 * np.expm1(x)),
    )
    # gelu(x) = x Φ(x); Φ(0.5) = 0.691462461274013, Φ(2) = 0.977249868051821
    np.testing.assert_allclose(
        activations.gelu(t).numpy()[[3, 4]],
        [0.5 * 0.691462461274013, 2 * 0.977249868051821],
        rtol=1e-12,
    )
    np.testing.assert_allclose(
        activations.relu(t, max_value=1.0, negative_slope=0.1).numpy(), [-0.2, -0.05, 0.0, 0.5, 1.0]
    )
    assert activations.get(None) is activations.linear
    with pytest.raises(ValueError, match=r"Unknown activation: 'rleu'. Known activations: .*relu"):
        activations.get("rleu")


def test_activation_layer():
    np.testing.assert_allclose(
        Activation("tanh")(np.array([[0.5]])).numpy(), [[np.tanh(0.5)]], rtol=1e-6
    )


@pytest.mark.parametrize(
    "kwargs, through",
    [
        ({}, "softmax"),  # the fused op on the recorded logits, reusing the probabilities
        ({"from_logits": True}, "logits"),
        ({"label_smoothing": 0.1}, "softmax"),
        ({}, "probabilities"),  # no recorded softmax: the clipped formula, then its mean
    ],
)
def test_the_fused_mean_crossentropy_equals_the_mean_of_the_per_sample_loss(kwargs, through):
    """CategoricalCrossentropy's default reduction runs as one fused op: the same value and the
    same gradient as the per-sample losses followed by their mean."""
    labels = rng.dirichlet(np.ones(4), 5)
    logits = rng.standard_normal((5, 4))

    def y_pred(z):
        if through == "softmax":
            return activations.softmax(z)
        if through == "probabilities":
            return cr.Tensor(1.0) * activations.softmax(z)  # a product: not a recorded softmax
        return z

    def fused(z):
        return losses.CategoricalCrossentropy(**kwargs)(labels, y_pred(z))

    def reference(z):
        return cr.mean(losses.categorical_crossentropy(labels, y_pred(z), **kwargs))

    z1, z2 = (cr.Tensor(logits, requires_grad=True) for _ in range(2))
    value, expected = fused(z1), reference(z2)
    assert value.item() == pytest.approx(expected.item(), rel=1e-12)
    value.backward()
    expected.backward()
    np.testing.assert_allclose(z1.grad.numpy(), z2.grad.numpy(), rtol=1e-10, atol=1e-14)
    assert cr.gradcheck(fused, logits) < 1e-6
    if through in ("softmax", "logits"):
        assert value._node.prim is cr.ops.mean_softmax_cross_entropy
