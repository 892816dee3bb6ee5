"""Precision, Recall, AUC, F1/F-beta, top-k accuracies and the regression metrics: values by
hand (Keras's documented examples among them), running-ratio semantics over several batches,
reset, identifiers and errors."""

import numpy as np
import pytest

from chainrule.keras import metrics, optimizers
from chainrule.keras.layers import Dense
from chainrule.keras.models import Sequential

rng = np.random.default_rng(0)


def test_precision_and_recall_keras_examples():
    m = metrics.Precision()
    m.update_state([0, 1, 1, 1], [1, 0, 1, 1])
    assert m.result() == pytest.approx(2 / 3)
    m.reset_state()
    m.update_state([0, 1, 1, 1], [1, 0, 1, 1], sample_weight=[0, 0, 1, 0])
    assert m.result() == 1.0
    top2, top4 = metrics.Precision(top_k=2), metrics.Precision(top_k=4)
    top2.update_state([0, 0, 1, 1], [1, 1, 1, 1])
    top4.update_state([0, 0, 1, 1], [1, 1, 1, 1])
    assert top2.result() == 0.0 and top4.result() == 0.5  # ties keep the first k
    r = metrics.Recall()
    r.update_state([0, 1, 1, 1], [1, 0, 1, 1])
    assert r.result() == pytest.approx(2 / 3)
    r.reset_state()
    r.update_state([0, 1, 1, 1], [1, 0, 1, 1], sample_weight=[0, 0, 1, 0])
    assert r.result() == 1.0


def test_precision_is_a_running_ratio_not_a_mean_of_batches():
    y = rng.integers(0, 2, 40)
    p = rng.random(40)
    m = metrics.Precision()
    m.update_state(y[:10], p[:10])
    m.update_state(y[10:], p[10:])
    predicted = p > 0.5
    assert m.result() == pytest.approx((predicted & (y == 1)).sum() / predicted.sum())


def test_thresholds_class_id_and_strict_comparison():
    m = metrics.Recall(thresholds=[0.3, 0.5, 0.7])
    m.update_state([1, 1, 1, 0], [0.5, 0.6, 0.9, 0.8])
    np.testing.assert_allclose(m.result(), [1.0, 2 / 3, 1 / 3])  # 0.5 > 0.5 is False
    by_class = metrics.Precision(class_id=1)
    by_class.update_state(np.eye(3)[[1, 1, 0]], [[0.1, 0.8, 0.1], [0.6, 0.3, 0.1], [0.2, 0.7, 0.1]])
    assert by_class.result() == 0.5  # class 1 predicted for samples 0 and 2; right once
    weighted = metrics.Precision(class_id=1)
    weighted.update_state(
        np.eye(3)[[1, 0]], [[0.1, 0.8, 0.1], [0.2, 0.7, 0.1]], sample_weight=[3.0, 1.0]
    )
    assert weighted.result() == pytest.approx(0.75)


def test_auc_keras_example_and_riemann_sum():
    m = metrics.AUC(num_thresholds=3)
    m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9])
    assert m.result() == pytest.approx(0.75)
    m.reset_state()
    m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9], sample_weight=[1, 0, 0, 1])
    assert m.result() == pytest.approx(1.0)
    assert len(metrics.AUC().thresholds) == 200
    assert metrics.AUC().thresholds[:2] == [-1e-7, 1 / 199]


def test_auc_with_many_thresholds_approximates_the_rank_statistic():
    y = rng.integers(0, 2, 300)
    p = np.clip(0.5 + 0.25 * (2 * y - 1) + 0.3 * rng.standard_normal(300), 0, 1)
    m = metrics.AUC(num_thresholds=1000)
    m.update_state(y[:150], p[:150])
    m.update_state(y[150:], p[150:])
    positives, negatives = p[y == 1], p[y == 0]
    exact = (positives[:, None] > negatives[None]).mean() + 0.5 * (
        positives[:, None] == negatives[None]
    ).mean()
    assert m.result() == pytest.approx(exact, abs=2e-3)


def test_auc_summation_methods_and_pr_curve():
    y, p = [0, 0, 1, 1], [0.1, 0.6, 0.4, 0.9]
    # thresholds -eps, 0.5, 1+eps: tp [2,1,0] fp [2,1,0] tn [0,1,2] fn [0,1,2]
    # tpr [1, .5, 0], fpr [1, .5, 0]
    for method, expected in [("interpolation", 0.5), ("minoring", 0.25), ("majoring", 0.75)]:
        m = metrics.AUC(num_thresholds=3, summation_method=method)
        m.update_state(y, p)
        assert m.result() == pytest.approx(expected), method
    perfect = metrics.AUC(num_thresholds=3, curve="PR")
    perfect.update_state([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9])
    assert perfect.result() == pytest.approx(1.0)
    # PR with majoring: recall [1, .5, 0], precision [.5, .5, 0]
    pr = metrics.AUC(num_thresholds=3, curve="PR", summation_method="majoring")
    pr.update_state(y, p)
    assert pr.result() == pytest.approx(0.5 * 0.5 + 0.5 * 0.5)


def test_auc_multi_label_and_logits():
    y = np.array([[1, 0], [0, 1], [1, 1], [0, 0]])
    p = np.array([[0.9, 0.2], [0.1, 0.3], [0.8, 0.1], [0.2, 0.6]])
    m = metrics.AUC(num_thresholds=101, multi_label=True)
    m.update_state(y, p)
    assert m.result() == pytest.approx((1.0 + 0.25) / 2)  # label 0 perfect, label 1 at 1/4
    weighted = metrics.AUC(num_thresholds=101, multi_label=True, label_weights=[3.0, 1.0])
    weighted.update_state(y, p)
    assert weighted.result() == pytest.approx((3 * 1.0 + 0.25) / 4)
    logits = metrics.AUC(from_logits=True)
    logits.update_state([0, 1], [-3.0, 3.0])
    assert logits.result() == pytest.approx(1.0)


def test_f1_and_fbeta_keras_examples():
    y = np.array([[1, 1, 1], [1, 0, 0], [1, 1, 0]])
    p = np.array([[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.0]])
    f1 = metrics.F1Score(threshold=0.5)
    f1.update_state(y, p)
    np.testing.assert_allclose(f1.result(), [0.5, 0.8, 0.6666667], rtol=1e-5)
    fbeta = metrics.FBetaScore(beta=2.0, threshold=0.5)
    fbeta.update_state(y, p)
    np.testing.assert_allclose(fbeta.result(), [0.3846154, 0.90909094, 0.8333334], rtol=1e-5)
    macro = metrics.F1Score(average="macro", threshold=0.5)
    macro.update_state(y, p)
    assert macro.result() == pytest.approx(np.mean([0.5, 0.8, 2 / 3]), rel=1e-5)
    micro = metrics.F1Score(average="micro", threshold=0.5)
    micro.update_state(y, p)
    tp, fp, fn = 4, 2, 2  # summed over the classes
    assert micro.result() == pytest.approx(2 * tp / (2 * tp + fp + fn), rel=1e-5)
    weighted = metrics.F1Score(average="weighted", threshold=0.5)
    weighted.update_state(y, p)
    assert weighted.result() == pytest.approx((3 * 0.5 + 2 * 0.8 + 1 * 2 / 3) / 6, rel=1e-5)


def test_f1_without_threshold_takes_the_row_maximum():
    f1 = metrics.F1Score()
    f1.update_state(
        np.eye(3)[[0, 1, 2, 2]],
        [[0.7, 0.2, 0.1], [0.1, 0.5, 0.4], [0.3, 0.4, 0.3], [0.0, 0.0, 0.0]],
    )
    # predicted classes 0, 1, 1 and nothing for the all-zero row
    np.testing.assert_allclose(f1.result(), [1.0, 2 / 3, 0.0], atol=1e-6)


def test_top_k_accuracies_keras_examples_and_ties():
    m = metrics.TopKCategoricalAccuracy(k=1)
    m.update_state([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])
    assert m.result() == 0.5
    s = metrics.SparseTopKCategoricalAccuracy(k=1)
    s.update_state([2, 1], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])
    assert s.result() == 0.5
    two = metrics.SparseTopKCategoricalAccuracy(2)
    two.update_state([[2], [0]], [[0.1, 0.9, 0.8], [0.3, 0.3, 0.3]])
    assert two.result() == 1.0  # a tie at the boundary counts as in the top k
    assert metrics.TopKCategoricalAccuracy().get_config()["k"] == 5


def test_regression_metrics_are_running_means():
    y, p = rng.standard_normal((10, 3)), rng.standard_normal((10, 3))
    mse, mae = metrics.MeanSquaredError(), metrics.MeanAbsoluteError()
    for part in (slice(0, 4), slice(4, 10)):
        mse.update_state(y[part], p[part])
        mae.update_state(y[part], p[part])
    assert mse.result() == pytest.approx(((y - p) ** 2).mean())
    assert mae.result() == pytest.approx(np.abs(y - p).mean())
    assert mse.name == "mean_squared_error" and mae.name == "mean_absolute_error"


def test_metric_identifiers_and_names():
    for identifier, cls in [
        ("precision", metrics.Precision),
        ("Recall", metrics.Recall),
        ("AUC", metrics.AUC),
        ("f1_score", metrics.F1Score),
        ("mse", metrics.MeanSquaredError),
        ("top_k_categorical_accuracy", metrics.TopKCategoricalAccuracy),
    ]:
        metric = metrics.get(identifier)
        assert type(metric) is cls and metric.name == identifier
    assert metrics.Precision().name == "precision" and metrics.AUC().name == "auc"
    with pytest.raises(ValueError, match="Unknown metric: 'presicion'. Known metrics: "):
        metrics.get("presicion")


def test_bad_arguments_are_rejected_clearly():
    with pytest.raises(ValueError, match=r"thresholds must be values in \[0, 1\]"):
        metrics.Precision(thresholds=1.5)
    with pytest.raises(ValueError, match='invalid curve "ROCK"'):
        metrics.AUC(curve="ROCK")
    with pytest.raises(ValueError, match="num_thresholds must be an integer > 1"):
        metrics.AUC(num_thresholds=1)
    with pytest.raises(ValueError, match="invalid average 'mean'"):
        metrics.F1Score(average="mean")
    with pytest.raises(ValueError, match=r"expects 2D inputs .* y_pred.shape=\(3,\)"):
        metrics.F1Score().update_state([1, 0, 1], [0.2, 0.3, 0.9])
    with pytest.raises(
        ValueError,
        match=r"Labels of shape \(2, 3\) and predictions of shape "
        r"\(2, 4\) are incompatible",
    ):
        metrics.Recall().update_state(np.ones((2, 3)), np.ones((2, 4)))


def test_metrics_report_running_values_during_fit():
    x = rng.standard_normal((96, 4)).astype(np.float32)
    y = (x[:, :1] + 0.3 * rng.standard_normal((96, 1)) > 0).astype(np.float32)
    model = Sequential([Dense(1, activation="sigmoid")])
    model.compile(
        optimizers.SGD(0.0),
        "binary_crossentropy",
        metrics=[
            "precision",
            metrics.Recall(),
            metrics.AUC(num_thresholds=500),
            metrics.F1Score(average="micro", threshold=0.5),
        ],
    )
    history = model.fit(x, y, batch_size=10, epochs=1, shuffle=False, verbose=0)
    p = model.predict(x, verbose=0)  # lr 0: the same predictions as during the epoch
    predicted, actual = p > 0.5, y > 0.5
    tp = (predicted & actual).sum()
    assert history.history["precision"][0] == pytest.approx(tp / predicted.sum())
    assert history.history["recall"][0] == pytest.approx(tp / actual.sum())
    f1 = 2 * tp / (2 * tp + (predicted & ~actual).sum() + (~predicted & actual).sum())
    assert history.history["f1_score"][0] == pytest.approx(f1, rel=1e-5)
    at_once = metrics.AUC(num_thresholds=500)
    at_once.update_state(y, p)
    assert history.history["auc"][0] == pytest.approx(at_once.result())


def test_a_per_class_f1_score_is_logged_as_an_array(capsys):
    x = rng.standard_normal((30, 4)).astype(np.float32)
    y = np.eye(3)[rng.integers(0, 3, 30)].astype(np.float32)
    model = Sequential([Dense(3, activation="softmax")])
    model.compile(optimizers.SGD(0.0), "categorical_crossentropy", metrics=[metrics.F1Score()])
    history = model.fit(x, y, epochs=1, verbose=2)
    at_once = metrics.F1Score()
    at_once.update_state(y, model.predict(x, verbose=0))
    np.testing.assert_allclose(history.history["f1_score"][0], at_once.result())
    # the progress line shows the mean over the classes, as Keras's does
    assert f"f1_score: {np.mean(at_once.result()):.4f}" in capsys.readouterr().out


@pytest.mark.parametrize("sparse", [False, True])
def test_accuracies_count_hits_as_the_mean_of_their_per_sample_values(sparse):
    """An unweighted update counts the correct predictions directly; the result is the running
    mean of the per-sample function over all batches, as with sample weights of one."""
    rng = np.random.default_rng(4)
    cls, fn = (
        (metrics.SparseCategoricalAccuracy, metrics.sparse_categorical_accuracy)
        if sparse
        else (metrics.CategoricalAccuracy, metrics.categorical_accuracy)
    )
    counted, weighted, values = cls(), cls(), []
    for n in (7, 1, 12):
        labels = rng.integers(0, 3, n)
        y_true = labels[:, None] if sparse else np.eye(3, dtype=np.float32)[labels]
        y_pred = rng.random((n, 3)).astype(np.float32)
        y_pred[0] = y_pred[0, 0]  # a tie: the first maximum is the prediction, as argmax says
        counted.update_state(y_true, y_pred)
        weighted.update_state(y_true, y_pred, sample_weight=np.ones(n))
        values.append(fn(y_true, y_pred))
    expected = np.concatenate(values).astype(np.float64).mean()
    assert counted.result_value() == pytest.approx(expected, abs=1e-12)
    assert weighted.result_value() == pytest.approx(expected, abs=1e-7)
    assert 0 < expected < 1


@pytest.mark.parametrize(
    "cls, fn, sparse",
    [
        (metrics.CategoricalAccuracy, metrics.categorical_accuracy, False),
        (metrics.SparseCategoricalAccuracy, metrics.sparse_categorical_accuracy, True),
    ],
)
@pytest.mark.parametrize("shape", [(7, 4), (4,), (3, 5, 4)])
@pytest.mark.parametrize("weighted", [False, True])
def test_counted_accuracies_keep_the_state_of_their_running_mean(cls, fn, sparse, shape, weighted):
    # CategoricalAccuracy counts its hits when it can; its state must be, bit for bit, that of
    # the running mean of the same function, which sums the float values.
    counted, summed = cls(), metrics.MeanMetricWrapper(lambda t, p: fn(t, p))
    for batch in range(3):
        y_pred = rng.random(shape).astype(np.float32)
        classes = rng.integers(0, shape[-1], shape[:-1])
        y_true = classes[..., None] if sparse else np.eye(shape[-1], dtype=np.float32)[classes]
        weight = rng.random(shape[:1]).astype(np.float32) if weighted and len(shape) > 1 else None
        counted.update_state(y_true, y_pred, sample_weight=weight)
        summed.update_state(y_true, y_pred, sample_weight=weight)
        assert counted.total.numpy() == summed.total.numpy()
        assert counted.count.numpy() == summed.count.numpy()
        assert counted.result().numpy() == summed.result().numpy()
