"""The whole catalogue of keras.losses: every class against values computed with real Keras 3
(each reduction, with and without sample weights), Keras's docstring examples, float64 gradient
checks of every loss with respect to y_pred, masks (ignore_class, Circle), configs and the
get/serialize/deserialize round trips."""

import json
import re

import numpy as np
import pytest

import chainrule as cr
from chainrule.keras import losses

# The inputs below, and KERAS_VALUES, were made with Keras 3.15.1 on JAX (float32) by:
#
#   T = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]], "float32")
#   P = np.array([[0.2, 0.7, 0.1], [0.6, 0.3, 0.1]], "float32")
#   Z = np.array([[-1.0, 2.0, 0.5], [1.5, -0.5, 0.3]], "float32")
#   R = np.array([[0.5, 1.5, 2.0], [3.0, 0.2, 1.0]], "float32")
#   S = np.array([1, 0], "int32"); S2 = np.array([[1, -1], [0, 2]], "int32")
#   P3 = np.stack([P, P[::-1]]); W = np.array([0.3, 1.2], "float32")
#   E = np.array([[0.6, 0.8, 0], [0, 0.6, 0.8], [0.8, 0, 0.6], [0.48, 0.6, 0.64]], "float32")
#   C = np.array([0, 1, 0, 1], "int32")
#   for key, (kwargs, y_true, y_pred) in CASES.items():
#       cls = getattr(keras.losses, key.split("_")[0])
#       for reduction in REDUCTIONS:
#           loss = cls(reduction=reduction, **kwargs)
#           row[reduction] = (fmt(loss(y_true, y_pred)),
#                             fmt(loss(y_true, y_pred, sample_weight=W if key != "Circle"
#                                      else np.tile(W, 2))))
#
# with fmt = 7 significant digits, and CASES as below.
T = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]], "float32")
P = np.array([[0.2, 0.7, 0.1], [0.6, 0.3, 0.1]], "float32")
Z = np.array([[-1.0, 2.0, 0.5], [1.5, -0.5, 0.3]], "float32")
R = np.array([[0.5, 1.5, 2.0], [3.0, 0.2, 1.0]], "float32")
S = np.array([1, 0], "int32")
S2 = np.array([[1, -1], [0, 2]], "int32")
P3 = np.stack([P, P[::-1]])
W = np.array([0.3, 1.2], "float32")
E = np.array([[0.6, 0.8, 0.0], [0.0, 0.6, 0.8], [0.8, 0.0, 0.6], [0.48, 0.6, 0.64]], "float32")
C = np.array([0, 1, 0, 1], "int32")
CASES = {
    "MeanSquaredError": ({}, R, Z),
    "MeanAbsoluteError": ({}, R, Z),
    "MeanAbsolutePercentageError": ({}, R, Z),
    "MeanSquaredLogarithmicError": ({}, R, P),
    "CosineSimilarity": ({}, R, Z),
    "Huber": ({"delta": 0.8}, R, Z),
    "LogCosh": ({}, R, Z),
    "KLDivergence": ({}, P[::-1].copy(), P),
    "Poisson": ({}, R, P),
    "Hinge": ({}, T, Z),
    "SquaredHinge": ({}, T, Z),
    "CategoricalHinge": ({}, T, P),
    "BinaryCrossentropy": ({}, T, P),
    "BinaryCrossentropy_logits": ({"from_logits": True, "label_smoothing": 0.1}, T, Z),
    "BinaryFocalCrossentropy": ({"apply_class_balancing": True, "gamma": 1.5}, T, P),
    "BinaryFocalCrossentropy_logits": ({"from_logits": True, "label_smoothing": 0.2}, T, Z),
    "CategoricalCrossentropy": ({"label_smoothing": 0.1}, T, P),
    "CategoricalCrossentropy_logits": ({"from_logits": True}, T, Z),
    "CategoricalFocalCrossentropy": ({}, T, P),
    "CategoricalFocalCrossentropy_logits": ({"from_logits": True, "alpha": 0.5}, T, Z),
    "SparseCategoricalCrossentropy": ({}, S, P),
    "SparseCategoricalCrossentropy_logits": ({"from_logits": True}, S, Z),
    "CategoricalGeneralizedCrossEntropy": ({"q": 0.7}, S, P),
    "Dice": ({"axis": 1}, T, P),
    "Tversky": ({"alpha": 0.3, "beta": 0.7, "axis": 1}, P[::-1].copy(), P),
    "Dice_all": ({}, T, P),
    "SparseCategoricalCrossentropy_ignore": ({"ignore_class": -1}, S2, P3),
    "Circle": ({"gamma": 2.0}, C, E),
}
# {case: {reduction: (without sample_weight, with sample_weight)}}
KERAS_VALUES = {
    "MeanSquaredError": {
        "sum_over_batch_size": (1.33, 0.8835),
        "sum": (2.66, 1.767),
        "mean": (1.33, 0.8835),
        "mean_with_sample_weight": (1.33, 1.178),
        "none": ([1.583333, 1.076667], [0.475, 1.292]),
    },
    "MeanAbsoluteError": {
        "sum_over_batch_size": (1.066667, 0.7550001),
        "sum": (2.133333, 1.51),
        "mean": (1.066667, 0.7550001),
        "mean_with_sample_weight": (1.066667, 1.006667),
        "none": ([1.166667, 0.9666667], [0.35, 1.16]),
    },
    "MeanAbsolutePercentageError": {
        "sum_over_batch_size": (146.3889, 114.4167),
        "sum": (292.7778, 228.8333),
        "mean": (146.3889, 114.4167),
        "mean_with_sample_weight": (146.3889, 152.5556),
        "none": ([136.1111, 156.6667], [40.83333, 188.0]),
    },
    "MeanSquaredLogarithmicError": {
        "sum_over_batch_size": (0.4014247, 0.3009381),
        "sum": (0.8028494, 0.6018762),
        "mean": (0.4014247, 0.3009381),
        "mean_with_sample_weight": (0.4014247, 0.4012508),
        "none": ([0.4017146, 0.4011348], [0.1205144, 0.4813618]),
    },
    "CosineSimilarity": {
        "sum_over_batch_size": (-0.7604134, -0.642881),
        "sum": (-1.520827, -1.285762),
        "mean": (-0.7604134, -0.642881),
        "mean_with_sample_weight": (-0.7604134, -0.8571746),
        "none": ([-0.5991447, -0.9216821], [-0.1797434, -1.106019]),
    },
    "Huber": {
        "sum_over_batch_size": (0.5425, 0.36825),
        "sum": (1.085, 0.7365),
        "mean": (0.5425, 0.36825),
        "mean_with_sample_weight": (0.5425, 0.491),
        "none": ([0.6283333, 0.4566667], [0.1885, 0.548]),
    },
    "LogCosh": {
        "sum_over_batch_size": (0.5234959, 0.3535458),
        "sum": (1.046992, 0.7070917),
        "mean": (0.5234959, 0.3535458),
        "mean_with_sample_weight": (0.5234959, 0.4713944),
        "none": ([0.6103317, 0.4366601], [0.1830995, 0.5239922]),
    },
    "KLDivergence": {
        "sum_over_batch_size": (0.389182, 0.2847783),
        "sum": (0.7783641, 0.5695567),
        "mean": (0.389182, 0.2847783),
        "mean_with_sample_weight": (0.389182, 0.3797044),
        "none": ([0.4049781, 0.373386], [0.1214934, 0.4480633]),
    },
    "Poisson": {
        "sum_over_batch_size": (2.003459, 1.362416),
        "sum": (4.006918, 2.724832),
        "mean": (2.003459, 1.362416),
        "mean_with_sample_weight": (2.003459, 1.816555),
        "none": ([2.314966, 1.691952], [0.69449, 2.030342]),
    },
    "Hinge": {
        "sum_over_batch_size": (0.55, 0.435),
        "sum": (1.1, 0.87),
        "mean": (0.55, 0.435),
        "mean_with_sample_weight": (0.55, 0.58),
        "none": ([0.5, 0.6], [0.15, 0.72]),
    },
    "SquaredHinge": {
        "sum_over_batch_size": (0.6983333, 0.5005),
        "sum": (1.396667, 1.001),
        "mean": (0.6983333, 0.5005),
        "mean_with_sample_weight": (0.6983333, 0.6673334),
        "none": ([0.75, 0.6466666], [0.225, 0.776]),
    },
    "CategoricalHinge": {
        "sum_over_batch_size": (0.6, 0.495),
        "sum": (1.2, 0.99),
        "mean": (0.6, 0.495),
        "mean_with_sample_weight": (0.6, 0.66),
        "none": ([0.5, 0.7], [0.15, 0.84]),
    },
    "BinaryCrossentropy": {
        "sum_over_batch_size": (0.27634, 0.2288312),
        "sum": (0.5526801, 0.4576624),
        "mean": (0.27634, 0.2288312),
        "mean_with_sample_weight": (0.27634, 0.3051083),
        "none": ([0.228393, 0.3242871], [0.06851791, 0.3891445]),
    },
    "BinaryCrossentropy_logits": {
        "sum_over_batch_size": (0.5256854, 0.3999325),
        "sum": (1.051371, 0.7998649),
        "mean": (0.5256854, 0.3999325),
        "mean_with_sample_weight": (0.5256854, 0.5332433),
        "none": ([0.5130889, 0.5382819], [0.1539267, 0.6459383]),
    },
    "BinaryFocalCrossentropy": {
        "sum_over_batch_size": (0.01848029, 0.01735839),
        "sum": (0.03696058, 0.03471679),
        "mean": (0.01848029, 0.01735839),
        "mean_with_sample_weight": (0.01848029, 0.02314453),
        "none": ([0.01070656, 0.02625402], [0.003211969, 0.03150482]),
    },
    "BinaryFocalCrossentropy_logits": {
        "sum_over_batch_size": (0.1246683, 0.0920108),
        "sum": (0.2493366, 0.1840216),
        "mean": (0.1246683, 0.0920108),
        "mean_with_sample_weight": (0.1246683, 0.1226811),
        "none": ([0.1279804, 0.1213562], [0.03839412, 0.1456275]),
    },
    "CategoricalCrossentropy": {
        "sum_over_batch_size": (0.5284766, 0.4256881),
        "sum": (1.056953, 0.8513763),
        "mean": (0.5284766, 0.4256881),
        "mean_with_sample_weight": (0.5284766, 0.5675842),
        "none": ([0.4632974, 0.5936558], [0.1389892, 0.712387]),
    },
    "CategoricalCrossentropy_logits": {
        "sum_over_batch_size": (0.3017707, 0.2535348),
        "sum": (0.6035415, 0.5070696),
        "mean": (0.3017707, 0.2535348),
        "mean_with_sample_weight": (0.3017707, 0.3380464),
        "none": ([0.2413113, 0.3622302], [0.0723934, 0.4346762]),
    },
    "CategoricalFocalCrossentropy": {
        "sum_over_batch_size": (0.0142291, 0.01346359),
        "sum": (0.02845821, 0.02692718),
        "mean": (0.0142291, 0.01346359),
        "mean_with_sample_weight": (0.0142291, 0.01795145),
        "none": ([0.008025187, 0.02043302], [0.002407556, 0.02451962]),
    },
    "CategoricalFocalCrossentropy_logits": {
        "sum_over_batch_size": (0.01113543, 0.01086664),
        "sum": (0.02227085, 0.02173329),
        "mean": (0.01113543, 0.01086664),
        "mean_with_sample_weight": (0.01113543, 0.01448886),
        "none": ([0.005546376, 0.01672448], [0.001663913, 0.02006938]),
    },
    "SparseCategoricalCrossentropy": {
        "sum_over_batch_size": (0.4337503, 0.3599966),
        "sum": (0.8675005, 0.7199932),
        "mean": (0.4337503, 0.3599966),
        "mean_with_sample_weight": (0.4337503, 0.4799955),
        "none": ([0.356675, 0.5108256], [0.1070025, 0.6129907]),
    },
    "SparseCategoricalCrossentropy_logits": {
        "sum_over_batch_size": (0.3017707, 0.2535348),
        "sum": (0.6035415, 0.5070696),
        "mean": (0.3017707, 0.2535348),
        "mean_with_sample_weight": (0.3017707, 0.3380464),
        "none": ([0.2413113, 0.3622302], [0.0723934, 0.4346762]),
    },
    "CategoricalGeneralizedCrossEntropy": {
        "sum_over_batch_size": (0.3725542, 0.3050295),
        "sum": (0.7451084, 0.6100591),
        "mean": (0.3725542, 0.3050295),
        "mean_with_sample_weight": (0.3725542, 0.4067061),
        "none": ([0.3156345, 0.429474], [0.09469035, 0.5153688]),
    },
    "Dice": {
        "sum_over_batch_size": (0.35, 0.285),
        "sum": (0.7, 0.57),
        "mean": (0.35, 0.285),
        "mean_with_sample_weight": (0.35, 0.38),
        "none": ([0.3, 0.4], [0.09, 0.48]),
    },
    "Tversky": {
        "sum_over_batch_size": (0.66, 0.495),
        "sum": (1.32, 0.9900001),
        "mean": (0.66, 0.495),
        "mean_with_sample_weight": (0.66, 0.66),
        "none": ([0.66, 0.66], [0.198, 0.7920001]),
    },
    "Dice_all": {
        "sum_over_batch_size": (0.35, 0.2625),
        "sum": (0.35, 0.525),
        "mean": (0.35, 0.2625),
        "mean_with_sample_weight": (0.35, 0.35),
        "none": (0.35, [0.105, 0.42]),
    },
    "SparseCategoricalCrossentropy_ignore": {
        "sum_over_batch_size": (1.056695, 1.007784),
        "sum": (3.170086, 3.023352),
        "mean": (1.056695, 1.007784),
        "mean_with_sample_weight": (1.056695, 1.67964),
        "none": (
            [[0.356675, 0.0], [0.5108256, 2.302585]],
            [[0.1070025, 0.0], [0.1532477, 2.763102]],
        ),
    },
    "Circle": {
        "sum_over_batch_size": (1.47086, 1.007686),
        "sum": (5.883438, 4.030744),
        "mean": (1.47086, 1.007686),
        "mean_with_sample_weight": (1.47086, 1.343581),
        "none": (
            [1.68299, 1.003411, 1.68299, 1.514047],
            [0.5048971, 1.204093, 0.5048971, 1.816857],
        ),
    },
}
REDUCTIONS = ["sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none"]


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_every_loss_class_matches_keras_with_each_reduction_and_sample_weights(case, reduction):
    kwargs, y_true, y_pred = CASES[case]
    loss = getattr(losses, case.split("_")[0])(reduction=reduction, **kwargs)
    weight = np.tile(W, 2) if case == "Circle" else W
    unweighted, weighted = KERAS_VALUES[case][reduction]
    value = loss(y_true, y_pred)
    assert isinstance(value, cr.Tensor) and value.dtype == np.float32
    np.testing.assert_allclose(value.numpy(), unweighted, rtol=2e-5, atol=2e-6)
    np.testing.assert_allclose(
        loss(y_true, y_pred, sample_weight=weight).numpy(), weighted, rtol=2e-5, atol=2e-6
    )


def test_reduction_none_and_None_agree_and_bad_reductions_are_refused():
    a = losses.MeanSquaredError(reduction=None)(R, Z).numpy()
    np.testing.assert_allclose(a, losses.MeanSquaredError(reduction="none")(R, Z).numpy())
    with pytest.raises(ValueError, match="Invalid reduction 'average'"):
        losses.Huber(reduction="average")


# ----- Keras's docstring examples ---------------------------------------------------------------


def test_regression_docstring_examples():
    assert losses.MeanSquaredError()([1.0, 0.0, 1.0], [0.9, 0.1, 0.8]).item() == pytest.approx(
        0.02, abs=1e-6
    )
    assert losses.MeanAbsoluteError()([1.0, 0.3, 1.0], [1.9, 0.3, 1.8]).item() == pytest.approx(
        0.5666667, rel=1e-6
    )
    mape = losses.MeanAbsolutePercentageError()([100.0, 200.0, 300.0], [90.0, 210.0, 310.0])
    assert mape.item() == pytest.approx(6.111111, rel=1e-6)
    cosine = losses.cosine_similarity(
        [[0.0, 1.0], [1.0, 1.0], [1.0, 1.0]], [[1.0, 0.0], [1.0, 1.0], [-1.0, -1.0]]
    )
    np.testing.assert_allclose(cosine.numpy(), [0.0, -0.99999994, 0.99999994], atol=1e-6)
    assert losses.log_cosh([[0.0, 1.0], [0.0, 0.0]], [[1.0, 1.0], [0.0, 0.0]]).numpy().mean() == (
        pytest.approx(0.108, abs=5e-4)
    )


def test_binary_crossentropy_docstring_examples():
    y_true, y_pred = np.array([[0, 1], [0, 0]]), np.array([[-18.6, 0.51], [2.94, -12.8]])
    bce = losses.BinaryCrossentropy(from_logits=True)
    assert bce([0, 1, 0, 0], [-18.6, 0.51, 2.94, -12.8]).item() == pytest.approx(0.8654, abs=1e-4)
    assert bce(y_true, y_pred).item() == pytest.approx(0.8654, abs=1e-4)
    assert bce(y_true, y_pred, sample_weight=[0.8, 0.2]).item() == pytest.approx(0.243, abs=1e-3)
    summed = losses.BinaryCrossentropy(from_logits=True, reduction="sum")(y_true, y_pred)
    assert summed.item() == pytest.approx(1.730, abs=1e-3)
    none = losses.BinaryCrossentropy(from_logits=True, reduction=None)(y_true, y_pred)
    np.testing.assert_allclose(none.numpy(), [0.235, 1.496], atol=1e-3)


def test_binary_focal_crossentropy_docstring_examples():
    y_true, y_pred = np.array([[0, 1], [0, 0]]), np.array([[-18.6, 0.51], [2.94, -12.8]])
    flat_true, flat_pred = [0, 1, 0, 0], [-18.6, 0.51, 2.94, -12.8]

    def focal(balanced, gamma, **kwargs):
        return losses.BinaryFocalCrossentropy(
            apply_class_balancing=balanced, gamma=gamma, from_logits=True, **kwargs
        )

    assert focal(False, 2)(flat_true, flat_pred).item() == pytest.approx(0.691, abs=1e-3)
    assert focal(True, 2)(flat_true, flat_pred).item() == pytest.approx(0.51, abs=1e-2)
    assert focal(False, 3)(y_true, y_pred).item() == pytest.approx(0.647, abs=1e-3)
    assert focal(True, 3)(y_true, y_pred).item() == pytest.approx(0.482, abs=1e-3)
    weighted = focal(False, 3)(y_true, y_pred, sample_weight=[0.8, 0.2])
    assert weighted.item() == pytest.approx(0.133, abs=1e-3)
    weighted = focal(True, 3)(y_true, y_pred, sample_weight=[0.8, 0.2])
    assert weighted.item() == pytest.approx(0.097, abs=1e-3)
    assert focal(False, 4, reduction="sum")(y_true, y_pred).item() == pytest.approx(1.222, abs=1e-3)
    assert focal(True, 4, reduction="sum")(y_true, y_pred).item() == pytest.approx(0.914, abs=1e-3)
    none = focal(False, 5, reduction=None)(y_true, y_pred).numpy()
    np.testing.assert_allclose(none, [0.0017, 1.1561], atol=1e-4)
    none = focal(True, 5, reduction=None)(y_true, y_pred).numpy()
    np.testing.assert_allclose(none, [0.0004, 0.8670], atol=1e-4)


@pytest.mark.parametrize(
    "make, labels",
    [
        (losses.CategoricalCrossentropy, [[0, 1, 0], [0, 0, 1]]),
        (losses.SparseCategoricalCrossentropy, [1, 2]),
    ],
)
def test_categorical_and_sparse_crossentropy_docstring_examples(make, labels):
    y_pred = np.array([[0.05, 0.95, 0], [0.1, 0.8, 0.1]])
    assert make()(labels, y_pred).item() == pytest.approx(1.177, abs=1e-3)
    weighted = make()(labels, y_pred, sample_weight=np.array([0.3, 0.7]))
    assert weighted.item() == pytest.approx(0.814, abs=1e-3)
    assert make(reduction="sum")(labels, y_pred).item() == pytest.approx(2.354, abs=1e-3)
    np.testing.assert_allclose(
        make(reduction=None)(labels, y_pred).numpy(), [0.0513, 2.303], atol=1e-3
    )


def test_categorical_focal_crossentropy_docstring_examples():
    y_true = [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    y_pred = [[0.05, 0.95, 0], [0.1, 0.8, 0.1]]
    cfce = losses.CategoricalFocalCrossentropy()
    assert cfce(y_true, y_pred).item() == pytest.approx(0.23315276, rel=1e-5)
    weighted = cfce(y_true, y_pred, sample_weight=np.array([0.3, 0.7]))
    assert weighted.item() == pytest.approx(0.1632, abs=1e-4)
    summed = losses.CategoricalFocalCrossentropy(reduction="sum")(y_true, y_pred)
    assert summed.item() == pytest.approx(0.46631, rel=1e-4)
    none = losses.CategoricalFocalCrossentropy(reduction=None)(y_true, y_pred).numpy()
    np.testing.assert_allclose(none, [3.2058331e-05, 4.6627346e-01], rtol=1e-4)


def test_dice_docstring_examples():
    y_true = [[[[1.0], [1.0]], [[0.0], [0.0]]], [[[1.0], [1.0]], [[0.0], [0.0]]]]
    y_pred = [[[[0.0], [1.0]], [[0.0], [1.0]]], [[[0.4], [0.0]], [[0.0], [0.9]]]]
    per_sample = losses.Dice(axis=(1, 2, 3), reduction=None)(y_true, y_pred)
    np.testing.assert_allclose(per_sample.numpy(), [0.5, 0.75757575], rtol=1e-6)
    whole = losses.Dice()(y_true, y_pred)
    assert whole.shape == () and whole.item() == pytest.approx(0.6164384, rel=1e-6)


# ----- closed forms, masks and shapes -----------------------------------------------------------


def test_tversky_with_equal_weights_is_dice_and_generalized_ce_closed_form():
    y_true, y_pred = np.array([[1.0, 0.0, 1.0]]), np.array([[0.8, 0.3, 0.6]])
    np.testing.assert_allclose(
        losses.tversky(y_true, y_pred, axis=-1).numpy(),
        losses.dice(y_true, y_pred, axis=-1).numpy(),
        rtol=1e-6,
    )
    tp, fp, fn = 1.4, 0.6, 0.3  # sum t p, sum (1 - p) t, sum p (1 - t)
    expected = 1 - tp / (tp + 0.2 * fp + 0.8 * fn + 1e-7)
    got = losses.tversky(y_true, y_pred, alpha=0.2, beta=0.8).item()
    assert got == pytest.approx(expected, rel=1e-6)
    p = np.array([[0.2, 0.5, 0.3]])
    got = losses.categorical_generalized_cross_entropy([1], p, q=0.5).numpy()
    np.testing.assert_allclose(got, [(1 - 0.5**0.5) / 0.5], rtol=1e-6)


def test_ignore_class_masks_the_mean_and_the_gradient():
    labels = np.array([[1, -1], [0, 2]])
    logits = cr.Tensor(np.random.default_rng(1).standard_normal((2, 2, 3)), requires_grad=True)
    loss = losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1)
    value = loss(labels, logits)
    kept = [
        losses.sparse_categorical_crossentropy([1], logits.numpy()[0, :1], from_logits=True),
        losses.sparse_categorical_crossentropy([0, 2], logits.numpy()[1], from_logits=True),
    ]
    expected = np.concatenate([k.numpy() for k in kept]).mean()
    assert value.item() == pytest.approx(expected, rel=1e-12)
    value.backward()
    np.testing.assert_array_equal(logits.grad.numpy()[0, 1], 0.0)


def test_circle_gives_zero_when_classes_are_separated_and_leaves_zero_rows_out():
    embeddings = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    values = losses.circle([0, 0, 1, 1], embeddings, gamma=80.0).numpy()
    np.testing.assert_allclose(values, 0.0, atol=1e-6)


def test_sparse_crossentropy_along_another_axis():
    logits = np.random.default_rng(2).standard_normal((2, 3, 4))
    labels = np.array([[0, 2, 1, 1], [2, 2, 0, 1]])
    along_1 = losses.sparse_categorical_crossentropy(labels, logits, from_logits=True, axis=1)
    last = losses.sparse_categorical_crossentropy(
        labels, np.swapaxes(logits, 1, 2), from_logits=True
    )
    np.testing.assert_allclose(along_1.numpy(), last.numpy())


def test_rank_rules_and_sample_weight_shapes():
    # a rank-1 y_true and y_pred of shape (n, 1): y_true gains the axis (Keras's rule)
    np.testing.assert_allclose(
        losses.mean_squared_error([1.0, 2.0, 3.0], [[1.0], [2.0], [5.0]]).numpy(), [0, 0, 4]
    )
    values = losses.MeanSquaredError(reduction="none")(
        np.ones((2, 3, 4)), np.zeros((2, 3, 4)), sample_weight=[1.0, 2.0]
    )  # one weight per sequence: Keras raises here
    np.testing.assert_allclose(values.numpy(), [[1, 1, 1], [2, 2, 2]])
    with pytest.raises(ValueError, match=r"sample_weight of shape \(3,\) does not fit"):
        losses.MeanSquaredError()(np.ones((2, 4)), np.zeros((2, 4)), sample_weight=[1, 2, 3])
    zero = losses.MeanSquaredError(reduction="mean_with_sample_weight")(
        np.ones((2, 1)), np.zeros((2, 1)), sample_weight=[0.0, 0.0]
    )
    assert zero.item() == 0.0  # 0 / 0 is 0, as Keras's divide_no_nan


def test_dtype_argument_casts_and_lists_are_accepted():
    value = losses.MeanSquaredError(dtype="float64")([[1, 2]], [[0, 0]])
    assert value.dtype == np.float64 and value.item() == 2.5
    assert losses.Huber().dtype == "float32"
    assert losses.MeanAbsoluteError()([[1, 2]], [[0, 0]]).dtype == np.float32


def test_errors_name_the_loss_and_the_shapes():
    with pytest.raises(ValueError, match=r"binary_focal_crossentropy: labels of shape \(2, 3\)"):
        losses.binary_focal_crossentropy(np.zeros((2, 3)), np.zeros((2, 4)))
    with pytest.raises(ValueError, match="q must be in"):
        losses.CategoricalGeneralizedCrossEntropy(q=1.5)
    with pytest.raises(ValueError, match=r"circle: expected embeddings of shape"):
        losses.circle([0, 1, 2], np.zeros((2, 3)))
    with pytest.raises(ValueError, match="axis` must be an int"):
        losses.categorical_crossentropy([[0.0, 1.0]], [[0.5, 0.5]], axis=True)


# ----- labels and predictions of different shapes ---------------------------------------------

# Keras 3.15.1 (JAX): the losses that compare entries one by one bring the labels and predictions
# to one rank (dropping or adding a trailing axis of size 1), then broadcast them; made with
# getattr(keras.losses, name)()(_WIDE, _NARROW) and (...)(_NARROW, _WIDE / 3.5).
_WIDE = np.array([[0.5, 1.5, 2.0], [3.0, 0.2, 1.0], [0.1, 0.9, 0.4], [1.2, 0.0, 0.7]], "float32")
_NARROW = np.array([[0.3], [0.8], [0.6], [0.2]], "float32")
KERAS_BROADCAST = {  # name: (labels (4, 3) vs predictions (4, 1), labels (4, 1) vs predictions)
    "MeanSquaredError": (0.94, 0.1395748),
    "MeanAbsoluteError": (0.7333333, 0.3011905),
    "MeanAbsolutePercentageError": (1.666678e07, 62.89683),
    "MeanSquaredLogarithmicError": (0.2225203, 0.07408777),
    "Huber": (0.3879167, 0.06978742),
    "LogCosh": (0.3433654, 0.06628992),
    "KLDivergence": (1.335578, 2.231495),
    "Poisson": (1.268848, 1.309663),
    "CosineSimilarity": (-1.419075, -1.419075),
    "Hinge": (0.635, 0.8623809),
    "SquaredHinge": (0.4933833, 0.7753782),
    "CategoricalHinge": (0.38, 0.8242857),
    "CategoricalFocalCrossentropy": (1.21761e-21, 0.5400329),
}


@pytest.mark.parametrize("name", sorted(KERAS_BROADCAST))
def test_elementwise_losses_broadcast_labels_against_predictions_as_keras(name):
    loss = getattr(losses, name)()
    wide_labels, narrow_labels = KERAS_BROADCAST[name]
    assert loss(_WIDE, _NARROW).item() == pytest.approx(wide_labels, rel=1e-5)
    assert loss(_NARROW, _WIDE / 3.5).item() == pytest.approx(narrow_labels, rel=1e-5)


def test_loss_functions_match_ranks_then_broadcast_as_keras():
    # Keras 3.15.1: keras.losses.mean_squared_error on these shapes
    np.testing.assert_allclose(
        losses.mean_squared_error(_WIDE, _NARROW).numpy(),
        [1.4566667, 1.7466668, 0.12666667, 0.43],
        rtol=1e-6,
    )
    np.testing.assert_allclose(
        losses.mean_squared_error(_WIDE, _NARROW[:3, 0]).numpy(),
        [0.83, 2.6033335, 0.03, 0.48666668],
        rtol=1e-6,
    )
    stacked = losses.mean_squared_error(np.stack([_WIDE, _WIDE[::-1]]), _WIDE / 2)
    np.testing.assert_allclose(
        stacked.numpy(),
        [[0.5416667, 0.8366667, 0.08166666, 0.16083334], [0.5183334, 0.87, 3.135, 1.6608334]],
        rtol=1e-6,
    )


def test_categorical_crossentropy_squeezes_a_trailing_label_axis_in_its_fused_mean():
    # Keras 3.15.1: CategoricalCrossentropy()(T[..., None], P) == CategoricalCrossentropy()(T, P)
    assert losses.CategoricalCrossentropy()(T[..., None], P).item() == pytest.approx(
        0.4337503, rel=1e-6
    )


@pytest.mark.parametrize(
    "name, y_true_shape, y_pred_shape",
    [
        ("mean_squared_error", (4, 3), (4, 2)),
        ("mean_squared_error", (4,), (4, 3)),
        ("hinge", (4, 3), (4,)),
        ("kl_divergence", (2, 4, 3), (4, 2)),
        ("categorical_focal_crossentropy", (4, 3), (4, 2)),
    ],
)
def test_shapes_that_do_not_broadcast_raise_naming_the_loss_and_both_shapes(
    name, y_true_shape, y_pred_shape
):
    # Keras 3.15.1 raises for these pairs too (incompatible shapes for broadcasting)
    message = f"{name}: labels of shape {y_true_shape} and predictions of shape {y_pred_shape}"
    with pytest.raises(ValueError, match=re.escape(message)):
        getattr(losses, name)(np.zeros(y_true_shape), np.ones(y_pred_shape))


@pytest.mark.parametrize(
    "name", ["BinaryCrossentropy", "BinaryFocalCrossentropy", "CategoricalCrossentropy"]
)
def test_crossentropies_still_need_one_shape(name):
    # Keras 3.15.1: "Arguments `target` and `output` must have the same shape" for (4, 3) vs (4, 1)
    with pytest.raises(ValueError, match=r"labels of shape \(4, 3\) do not match"):
        getattr(losses, name)()(np.zeros((4, 3)), np.full((4, 1), 0.5))


# ----- gradients --------------------------------------------------------------------------------

rng = np.random.default_rng(0)
_labels = np.eye(4)[rng.integers(0, 4, 5)]
_soft = rng.dirichlet(np.ones(4), 5)
_probs = rng.dirichlet(np.ones(4) * 3, 5)
_targets = rng.uniform(0.5, 2.0, (5, 4))
_scores = rng.uniform(0.2, 1.5, (5, 4)) * rng.choice([-1.0, 1.0], (5, 4))
_sparse = rng.integers(0, 4, 5)
_unit = rng.standard_normal((6, 3))
_unit /= np.linalg.norm(_unit, axis=1, keepdims=True)

GRADIENT_CASES = {
    "mean_squared_error": (_targets, _scores),
    "mean_absolute_error": (_targets, _scores),
    "mean_absolute_percentage_error": (_targets, _scores),
    "mean_squared_logarithmic_error": (_targets, _probs),
    "cosine_similarity": (_targets, _scores),
    "huber": (_targets, _scores),
    "log_cosh": (_targets, _scores),
    "kl_divergence": (_soft, _probs),
    "poisson": (_targets, _probs),
    "hinge": (_labels, _scores * 0.4),
    "squared_hinge": (_labels, _scores),
    "categorical_hinge": (_labels, _scores),
    "binary_crossentropy": (_labels, _probs),
    "binary_focal_crossentropy": (_labels, _probs),
    "categorical_crossentropy": (_soft, _probs),
    "categorical_focal_crossentropy": (_labels, _probs),
    "sparse_categorical_crossentropy": (_sparse, _probs),
    "categorical_generalized_cross_entropy": (_sparse, _probs),
    "dice": (_labels, _probs),
    "tversky": (_labels, _probs),
    "circle": (np.array([0, 1, 0, 1, 2, 2]), _unit),
}
_KWARGS = {
    "binary_focal_crossentropy": {"apply_class_balancing": True, "gamma": 1.5},
    "categorical_generalized_cross_entropy": {"q": 0.6},
    "tversky": {"alpha": 0.3, "beta": 0.7, "axis": -1},
    "circle": {"gamma": 2.0},
    "huber": {"delta": 0.9},
}


@pytest.mark.parametrize("name", sorted(GRADIENT_CASES))
def test_every_loss_function_has_the_right_gradient_wrt_y_pred(name):
    fn = getattr(losses, name)
    y_true, y_pred = GRADIENT_CASES[name]
    kwargs = _KWARGS.get(name, {})
    assert cr.gradcheck(lambda p: fn(y_true, p, **kwargs), y_pred) < 1e-5


@pytest.mark.parametrize(
    "name, kwargs, y_true, y_pred",
    [
        ("binary_crossentropy", {"from_logits": True, "label_smoothing": 0.1}, _labels, _scores),
        ("binary_focal_crossentropy", {"from_logits": True}, _labels, _scores),
        ("categorical_crossentropy", {"from_logits": True}, _soft, _scores),
        ("categorical_focal_crossentropy", {"from_logits": True, "gamma": 3.0}, _labels, _scores),
        ("sparse_categorical_crossentropy", {"from_logits": True}, _sparse, _scores),
    ],
)
def test_gradients_from_logits(name, kwargs, y_true, y_pred):
    fn = getattr(losses, name)
    assert cr.gradcheck(lambda z: fn(y_true, z, **kwargs), y_pred) < 1e-5


@pytest.mark.parametrize(
    "name", ["mean_squared_error", "huber", "kl_divergence", "hinge", "cosine_similarity"]
)
def test_gradients_of_broadcast_labels_and_predictions(name):
    # the gradient of predictions (5, 1) against labels (5, 4) sums over the labels they meet,
    # and that of predictions (5, 4) against labels (5, 1) keeps its shape
    fn = getattr(losses, name)
    narrow = _probs[:, :1] + 0.5
    assert cr.gradcheck(lambda p: fn(_targets, p), narrow) < 1e-5
    assert cr.gradcheck(lambda p: fn(_targets[:, :1], p), _probs) < 1e-5
    squared = losses.MeanSquaredError(reduction="sum")
    assert cr.gradcheck(lambda p: squared(_targets, p, sample_weight=_targets[:, 0]), narrow) < 1e-5


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_gradients_through_each_reduction_with_weights_and_masks(reduction):
    weight = rng.uniform(0.5, 2.0, 6)
    labels = np.array([0, 1, 0, 1, 2, 2])
    circle = losses.Circle(gamma=2.0, reduction=reduction)
    assert cr.gradcheck(lambda e: circle(labels, e, sample_weight=weight), _unit) < 1e-5
    sparse = losses.SparseCategoricalCrossentropy(ignore_class=3, reduction=reduction)
    assert cr.gradcheck(lambda p: sparse(_sparse, p, sample_weight=weight[:5]), _probs) < 1e-5


# ----- configs and identifiers ------------------------------------------------------------------


def test_configs_are_keras_s():
    # Keras 3.15.1: keras.losses.X().get_config()
    assert losses.BinaryFocalCrossentropy().get_config() == {
        "name": "binary_focal_crossentropy",
        "reduction": "sum_over_batch_size",
        "from_logits": False,
        "label_smoothing": 0.0,
        "axis": -1,
        "apply_class_balancing": False,
        "alpha": 0.25,
        "gamma": 2.0,
    }
    assert losses.SparseCategoricalCrossentropy().get_config() == {
        "name": "sparse_categorical_crossentropy",
        "reduction": "sum_over_batch_size",
        "from_logits": False,
        "ignore_class": None,
    }
    assert losses.Circle().get_config() == {
        "name": "circle",
        "reduction": "sum_over_batch_size",
        "gamma": 80.0,
        "margin": 0.4,
        "remove_diagonal": True,
    }
    assert losses.Huber().get_config() == {"name": "huber_loss", "reduction": "sum_over_batch_size"}
    assert losses.Tversky().get_config() == {
        "name": "tversky",
        "reduction": "sum_over_batch_size",
        "alpha": 0.5,
        "beta": 0.5,
        "axis": None,
    }
    assert (
        losses.CategoricalGeneralizedCrossEntropy().name == "categorical_generalized_cross_entropy"
    )


def test_positional_arguments_follow_keras_order():
    assert losses.CategoricalCrossentropy(True).get_config()["from_logits"] is True
    assert losses.BinaryFocalCrossentropy(True, 0.5).get_config()["alpha"] == 0.5
    assert losses.Dice("sum", "d", (1, 2)).get_config() == {
        "name": "d",
        "reduction": "sum",
        "axis": (1, 2),
    }


@pytest.mark.parametrize("cls", sorted(losses.CLASSES.values(), key=lambda c: c.__name__))
def test_every_class_round_trips_through_serialize(cls):
    loss = cls(reduction="sum", name="custom")
    description = json.loads(json.dumps(losses.serialize(loss)))
    assert description["module"] == "keras.losses" and description["class_name"] == cls.__name__
    rebuilt = losses.deserialize(description)
    assert type(rebuilt) is cls and rebuilt.get_config() == loss.get_config()
    assert type(losses.get(description)) is cls


def test_functions_wrappers_and_aliases():
    for alias, fn in [
        ("mse", losses.mean_squared_error),
        ("MSE", losses.mean_squared_error),
        ("mape", losses.mean_absolute_percentage_error),
        ("msle", losses.mean_squared_logarithmic_error),
        ("kld", losses.kl_divergence),
        ("bce", losses.binary_crossentropy),
        ("dice", losses.dice),
        ("circle", losses.circle),
    ]:
        assert losses.get(alias) is fn
    assert losses.mape is losses.MAPE is losses.mean_absolute_percentage_error
    assert type(losses.get("Tversky")) is losses.Tversky
    assert losses.get(None) is None
    assert losses.serialize(losses.huber) == {
        "module": "builtins",
        "class_name": "function",
        "config": "huber",
        "registered_name": "function",
    }
    assert losses.deserialize(losses.serialize(losses.huber)) is losses.huber
    wrapper = losses.LossFunctionWrapper(losses.huber, reduction="sum", delta=2.0)
    config = wrapper.get_config()
    assert config["fn"]["config"] == "huber" and config["delta"] == 2.0
    rebuilt = losses.LossFunctionWrapper.from_config(config)
    assert rebuilt.fn is losses.huber and rebuilt.fn_kwargs == {"delta": 2.0}
    assert rebuilt(R, Z).item() == pytest.approx(wrapper(R, Z).item())


def test_a_subclassed_loss_reduces_like_keras():
    class Cube(losses.Loss):
        def call(self, y_true, y_pred):
            return cr.mean((y_pred - y_true) ** 3, axis=-1)

    loss = Cube()
    assert loss.name == "cube" and loss.get_config() == {
        "name": "cube",
        "reduction": "sum_over_batch_size",
    }
    value = loss(np.zeros((2, 2)), np.array([[1.0, 2.0], [0.0, 1.0]]), sample_weight=[1.0, 3.0])
    assert value.item() == pytest.approx((4.5 * 1 + 0.5 * 3) / 2)


def test_ignore_class_with_one_weight_per_sequence():
    labels = np.array([[0, 1, 9, 9], [2, 9, 1, 0]])
    logits = np.random.default_rng(3).standard_normal((2, 4, 3))
    loss = losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=9)
    valid = labels != 9
    per_entry = losses.sparse_categorical_crossentropy(
        np.where(valid, labels, 0), logits, from_logits=True
    ).numpy()
    weights = np.array([2.0, 0.5])
    expected = (per_entry * valid * weights[:, None]).sum() / valid.sum()
    assert loss(labels, logits, sample_weight=weights).item() == pytest.approx(expected, rel=1e-6)


def test_default_names_are_keras_snake_case():
    class KLThing(losses.Loss):
        def call(self, y_true, y_pred):
            return y_pred

    assert KLThing().name == "kl_thing"
