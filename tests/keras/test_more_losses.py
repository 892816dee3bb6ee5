"""Huber, log-cosh, KL divergence, Poisson, the hinges and cosine similarity: closed forms
(Keras's documented examples among them), float64 gradient checks through a small model, label
smoothing, identifiers and errors."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.keras import losses, optimizers
from chainrule.keras.layers import Dense
from chainrule.keras.models import Sequential

rng = np.random.default_rng(0)


def value(loss, y_true, y_pred, **kwargs):
    return loss(np.asarray(y_true, np.float64), np.asarray(y_pred, np.float64), **kwargs).numpy()


def test_huber_closed_form_and_keras_example():
    assert losses.Huber()([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]]).item() == pytest.approx(
        0.155, abs=1e-6
    )  # Keras's docstring example
    e = np.array([[0.5, -2.0, 3.0]])
    expected = np.mean([0.5 * 0.25, 1.5 * 2.0 - 0.5 * 2.25, 1.5 * 3.0 - 0.5 * 2.25])
    np.testing.assert_allclose(value(losses.huber, np.zeros((1, 3)), e, delta=1.5), [expected])
    assert losses.Huber(delta=1.5).get_config()["delta"] == 1.5


def test_log_cosh_closed_form_and_stability():
    y_pred = np.array([[1.0, 1.0], [0.0, 0.0]])
    assert losses.LogCosh()([[0.0, 1.0], [0.0, 0.0]], y_pred).item() == pytest.approx(
        0.108, abs=1e-3
    )  # Keras's example
    e = np.array([[0.3, -2.0, 400.0]])
    np.testing.assert_allclose(
        value(losses.log_cosh, np.zeros((1, 3)), e),
        [np.mean([np.log(np.cosh(0.3)), np.log(np.cosh(2.0)), 400.0 - np.log(2.0)])],
    )  # cosh(400) overflows float64


def test_kl_divergence_clips_both_distributions():
    t = np.array([[0.2, 0.8, 0.0]])
    p = np.array([[0.5, 0.4, 0.1]])
    expected = 0.2 * np.log(0.2 / 0.5) + 0.8 * np.log(0.8 / 0.4) + 1e-7 * np.log(1e-7 / 0.1)
    np.testing.assert_allclose(value(losses.kl_divergence, t, p), [expected])
    np.testing.assert_allclose(value(losses.kl_divergence, p, p), [0.0], atol=1e-12)


def test_poisson_closed_form():
    t, p = np.array([[1.0, 3.0]]), np.array([[2.0, 0.5]])
    expected = np.mean(p - t * np.log(p + 1e-7))
    np.testing.assert_allclose(value(losses.poisson, t, p), [expected])


def test_hinges_convert_binary_labels():
    p = np.array([[0.3, -2.0, 0.8]])
    expected = np.mean(np.maximum(1 - np.array([1.0, -1.0, -1.0]) * p, 0))
    np.testing.assert_allclose(value(losses.hinge, [[1, 0, 0]], p), [expected])  # 0/1 labels
    np.testing.assert_allclose(value(losses.hinge, [[1, -1, -1]], p), [expected])  # ±1 labels
    np.testing.assert_allclose(
        value(losses.squared_hinge, [[1, 0, 0]], p),
        [np.mean(np.maximum(1 - np.array([1.0, -1.0, -1.0]) * p, 0) ** 2)],
    )


def test_categorical_hinge_closed_form():
    t = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    p = np.array([[0.2, 0.5, 0.3], [0.1, 2.0, -1.0]])
    # pos = score of the true class, neg = best other score
    np.testing.assert_allclose(
        value(losses.categorical_hinge, t, p), [max(0.3 - 0.5 + 1, 0), max(2.0 - 0.1 + 1, 0)]
    )


def test_cosine_similarity_sign_and_zero_vectors():
    out = losses.cosine_similarity(
        [[0.0, 1.0], [1.0, 1.0], [1.0, 1.0]], [[1.0, 0.0], [1.0, 1.0], [-1.0, -1.0]]
    ).numpy()
    np.testing.assert_allclose(out, [0.0, -1.0, 1.0], atol=1e-6)  # Keras: minus the cosine
    assert value(losses.cosine_similarity, [[0.0, 0.0]], [[1.0, 2.0]]) == 0.0
    zero = cr.Tensor(np.zeros((1, 2)), requires_grad=True)
    losses.cosine_similarity(np.array([[1.0, 2.0]]), zero).sum().backward()
    assert np.isfinite(zero.grad.numpy()).all()


def _labels(kind, n):
    if kind == "pm1":
        return rng.choice([-1.0, 1.0], (n, 3))
    if kind == "onehot":
        return np.eye(3)[rng.integers(0, 3, n)]
    if kind == "distribution":
        return rng.dirichlet(np.ones(3), n)
    if kind == "counts":
        return rng.integers(0, 4, (n, 3)).astype(float)
    return rng.standard_normal((n, 3))


GRADIENT_CASES = [
    ("huber", None, "real"),
    ("log_cosh", None, "real"),
    ("kl_divergence", "softmax", "distribution"),
    ("poisson", "softplus", "counts"),
    ("hinge", "tanh", "pm1"),
    ("squared_hinge", None, "pm1"),
    ("categorical_hinge", None, "onehot"),
    ("cosine_similarity", None, "real"),
]


@pytest.mark.parametrize(
    "name, out_activation, labels", GRADIENT_CASES, ids=[c[0] for c in GRADIENT_CASES]
)
def test_every_new_loss_backpropagates_correctly_through_a_small_model(
    name, out_activation, labels
):
    x, y = rng.standard_normal((6, 4)), _labels(labels, 6)
    hidden = Dense(5, activation="tanh", dtype="float64")
    out = Dense(3, activation=out_activation, dtype="float64")
    hidden.build((None, 4))
    out.build((None, 5))
    loss = losses.get(name)

    def fn(w0, b0, w1, b1):
        hidden.kernel, hidden.bias, out.kernel, out.bias = w0, b0, w1, b1
        return loss(y, out.call(hidden.call(cr.Tensor(x)))).mean()

    weights = (
        rng.standard_normal((4, 5)),
        rng.standard_normal(5) * 0.1,
        rng.standard_normal((5, 3)),
        rng.standard_normal(3) * 0.1,
    )
    assert cr.gradcheck(fn, *weights, atol=1e-6, rtol=1e-5) < 1e-4


def test_label_smoothing_matches_keras_formulas():
    y = np.array([[0.0, 1.0, 0.0]])
    p = np.array([[0.1, 0.7, 0.2]])
    smoothed = y * 0.8 + 0.2 / 3  # categorical: t (1 - s) + s / k
    expected = -(smoothed * np.log(p)).sum()
    got = losses.CategoricalCrossentropy(label_smoothing=0.2)(y, p).item()
    assert got == pytest.approx(expected, rel=1e-6)
    logits = np.array([[0.5, 2.0, -1.0]])
    log_softmax = logits - np.log(np.exp(logits).sum())
    got = losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.2)(y, logits).item()
    assert got == pytest.approx(-(smoothed * log_softmax).sum(), rel=1e-6)
    b, q = np.array([[1.0, 0.0]]), np.array([[0.9, 0.3]])
    tb = b * 0.9 + 0.05  # binary: t (1 - s) + s / 2
    expected = -np.mean(tb * np.log(q) + (1 - tb) * np.log(1 - q))
    assert losses.BinaryCrossentropy(label_smoothing=0.1)(b, q).item() == pytest.approx(
        expected, rel=1e-6
    )


def test_loss_identifiers_classes_and_reductions():
    for name, fn in [
        ("huber", losses.huber),
        ("logcosh", losses.log_cosh),
        ("kld", losses.kl_divergence),
        ("poisson", losses.poisson),
        ("categorical_hinge", losses.categorical_hinge),
    ]:
        assert losses.get(name) is fn
    for cls, default_name in [
        (losses.Huber, "huber_loss"),
        (losses.LogCosh, "log_cosh"),
        (losses.KLDivergence, "kl_divergence"),
        (losses.Hinge, "hinge"),
        (losses.SquaredHinge, "squared_hinge"),
        (losses.CosineSimilarity, "cosine_similarity"),
    ]:
        assert cls().name == default_name
        assert type(losses.get(cls.__name__)) is cls
    values = losses.Hinge(reduction="none")(np.array([[1.0], [-1.0]]), np.array([[0.5], [0.5]]))
    np.testing.assert_allclose(values.numpy(), [0.5, 1.5])
    with pytest.raises(ValueError, match="Unknown loss: 'hubber'. Known losses:"):
        losses.get("hubber")


def test_shape_mismatch_names_the_loss_and_the_shapes():
    with pytest.raises(
        ValueError,
        match=r"huber: labels of shape \(2, 3\) and predictions of shape \(2, 4\) do not "
        r"broadcast",
    ):
        losses.huber(np.zeros((2, 3)), np.zeros((2, 4)))


def test_a_model_trains_with_huber_loss():
    x = rng.standard_normal((64, 2)).astype(np.float32)
    y = (x @ np.array([[1.5], [-2.0]]) + 0.5).astype(np.float32)
    model = Sequential([Dense(1)])
    model.compile(optimizers.Adam(0.05), loss="huber")
    history = model.fit(x, y, epochs=30, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
