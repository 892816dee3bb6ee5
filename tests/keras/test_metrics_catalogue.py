"""Every name of Keras 3's ``keras.metrics``: its presence, its constructor's defaults and
config, Keras's documented examples, and real-Keras values on fixed random inputs with sample
weights for the metrics with non-trivial arithmetic (AUC, the ...AtRecall family, IoU, R²,
correlations)."""

import numpy as np
import pytest

import chainrule.keras as keras
from chainrule.engine import Tensor

metrics = keras.metrics

# sorted(n for n in dir(keras.metrics) if not n.startswith("_")) in Keras 3.15.1
KERAS_NAMES = """
AUC Accuracy BinaryAccuracy BinaryCrossentropy BinaryIoU CategoricalAccuracy
CategoricalCrossentropy CategoricalHinge ConcordanceCorrelation CosineSimilarity F1Score
FBetaScore FalseNegatives FalsePositives Hinge IoU KLDivergence LogCoshError Mean
MeanAbsoluteError MeanAbsolutePercentageError MeanIoU MeanMetricWrapper MeanSquaredError
MeanSquaredLogarithmicError Metric OneHotIoU OneHotMeanIoU PearsonCorrelation Poisson Precision
PrecisionAtRecall R2Score Recall RecallAtPrecision RootMeanSquaredError SensitivityAtSpecificity
SparseCategoricalAccuracy SparseCategoricalCrossentropy SparseTopKCategoricalAccuracy
SpecificityAtSensitivity SquaredHinge Sum TopKCategoricalAccuracy TrueNegatives TruePositives
binary_accuracy binary_crossentropy binary_focal_crossentropy categorical_accuracy
categorical_crossentropy categorical_focal_crossentropy categorical_hinge concordance_correlation
deserialize get hinge huber kl_divergence log_cosh mean_absolute_error
mean_absolute_percentage_error mean_squared_error mean_squared_logarithmic_error
pearson_correlation poisson serialize sparse_categorical_accuracy sparse_categorical_crossentropy
sparse_top_k_categorical_accuracy squared_hinge top_k_categorical_accuracy
""".split()


def test_every_keras_name_is_here():
    assert len(KERAS_NAMES) == 72
    missing = [name for name in KERAS_NAMES if not hasattr(metrics, name)]
    assert not missing
    assert set(KERAS_NAMES) == set(metrics.__all__)


# {class: (constructor arguments, Keras's get_config())}, printed by Keras 3.15.1:
#   for name, args in ...: print(name, getattr(keras.metrics, name)(*args).get_config())
CONFIGS = {
    "AUC": ((), {"name": "auc", "dtype": "float32", "num_thresholds": 200, "curve": "ROC",
                 "summation_method": "interpolation", "multi_label": False, "num_labels": None,
                 "label_weights": None, "from_logits": False}),
    "Accuracy": ((), {"name": "accuracy", "dtype": "float32"}),
    "BinaryAccuracy": ((), {"name": "binary_accuracy", "dtype": "float32", "threshold": 0.5}),
    "BinaryCrossentropy": ((), {"name": "binary_crossentropy", "dtype": "float32",
                                "from_logits": False, "label_smoothing": 0}),
    "BinaryIoU": ((), {"target_class_ids": [0, 1], "threshold": 0.5, "name": "binary_io_u",
                       "dtype": "int32"}),
    "CategoricalAccuracy": ((), {"name": "categorical_accuracy", "dtype": "float32"}),
    "CategoricalCrossentropy": ((), {"name": "categorical_crossentropy", "dtype": "float32",
                                     "from_logits": False, "label_smoothing": 0, "axis": -1}),
    "CategoricalHinge": ((), {"name": "categorical_hinge", "dtype": "float32"}),
    "ConcordanceCorrelation": ((), {"name": "concordance_correlation", "dtype": "float32",
                                    "axis": -1}),
    "CosineSimilarity": ((), {"name": "cosine_similarity", "dtype": "float32"}),
    "F1Score": ((), {"name": "f1_score", "dtype": "float32", "average": None, "threshold": None}),
    "FBetaScore": ((), {"name": "fbeta_score", "dtype": "float32", "average": None, "beta": 1.0,
                        "threshold": None}),
    "FalseNegatives": ((), {"name": "false_negatives", "dtype": "float32", "thresholds": None}),
    "FalsePositives": ((), {"name": "false_positives", "dtype": "float32", "thresholds": None}),
    "Hinge": ((), {"name": "hinge", "dtype": "float32"}),
    "IoU": ((2, [0]), {"name": "io_u", "dtype": "int32", "num_classes": 2,
                       "target_class_ids": [0], "ignore_class": None, "sparse_y_true": True,
                       "sparse_y_pred": True, "axis": -1}),
    "KLDivergence": ((), {"name": "kl_divergence", "dtype": "float32"}),
    "LogCoshError": ((), {"name": "logcosh", "dtype": "float32"}),
    "Mean": ((), {"name": "mean", "dtype": "float32"}),
    "MeanAbsoluteError": ((), {"name": "mean_absolute_error", "dtype": "float32"}),
    "MeanAbsolutePercentageError": ((), {"name": "mean_absolute_percentage_error",
                                         "dtype": "float32"}),
    "MeanIoU": ((2,), {"num_classes": 2, "name": "mean_io_u", "dtype": "int32",
                       "ignore_class": None, "sparse_y_true": True, "sparse_y_pred": True,
                       "axis": -1}),
    "MeanSquaredError": ((), {"name": "mean_squared_error", "dtype": "float32"}),
    "MeanSquaredLogarithmicError": ((), {"name": "mean_squared_logarithmic_error",
                                         "dtype": "float32"}),
    "OneHotIoU": ((2, [0]), {"num_classes": 2, "target_class_ids": [0], "name": "one_hot_io_u",
                             "dtype": "int32", "ignore_class": None, "sparse_y_pred": False,
                             "axis": -1}),
    "OneHotMeanIoU": ((2,), {"num_classes": 2, "name": "one_hot_mean_io_u", "dtype": "int32",
                             "ignore_class": None, "sparse_y_pred": False, "axis": -1}),
    "PearsonCorrelation": ((), {"name": "pearson_correlation", "dtype": "float32", "axis": -1}),
    "Poisson": ((), {"name": "poisson", "dtype": "float32"}),
    "Precision": ((), {"name": "precision", "dtype": "float32", "thresholds": None,
                       "top_k": None, "class_id": None}),
    "PrecisionAtRecall": ((0.5,), {"name": "precision_at_recall", "dtype": "float32",
                                   "class_id": None, "num_thresholds": 200, "recall": 0.5}),
    "R2Score": ((), {"name": "r2_score", "dtype": "float32",
                     "class_aggregation": "uniform_average", "num_regressors": 0}),
    "Recall": ((), {"name": "recall", "dtype": "float32", "thresholds": None, "top_k": None,
                    "class_id": None}),
    "RecallAtPrecision": ((0.5,), {"name": "recall_at_precision", "dtype": "float32",
                                   "class_id": None, "num_thresholds": 200, "precision": 0.5}),
    "RootMeanSquaredError": ((), {"name": "root_mean_squared_error", "dtype": "float32"}),
    "SensitivityAtSpecificity": ((0.5,), {"name": "sensitivity_at_specificity",
                                          "dtype": "float32", "class_id": None,
                                          "num_thresholds": 200, "specificity": 0.5}),
    "SparseCategoricalAccuracy": ((), {"name": "sparse_categorical_accuracy",
                                       "dtype": "float32"}),
    "SparseCategoricalCrossentropy": ((), {"name": "sparse_categorical_crossentropy",
                                           "dtype": "float32", "from_logits": False,
                                           "ignore_class": None, "axis": -1}),
    "SparseTopKCategoricalAccuracy": ((), {"name": "sparse_top_k_categorical_accuracy",
                                           "dtype": "float32", "k": 5}),
    "SpecificityAtSensitivity": ((0.5,), {"name": "specificity_at_sensitivity",
                                          "dtype": "float32", "class_id": None,
                                          "num_thresholds": 200, "sensitivity": 0.5}),
    "SquaredHinge": ((), {"name": "squared_hinge", "dtype": "float32"}),
    "Sum": ((), {"name": "sum", "dtype": "float32"}),
    "TopKCategoricalAccuracy": ((), {"name": "top_k_categorical_accuracy", "dtype": "float32",
                                     "k": 5}),
    "TrueNegatives": ((), {"name": "true_negatives", "dtype": "float32", "thresholds": None}),
    "TruePositives": ((), {"name": "true_positives", "dtype": "float32", "thresholds": None}),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_defaults_and_config_as_keras_and_round_trip(name):
    args, expected = CONFIGS[name]
    metric = getattr(metrics, name)(*args)
    assert metric.get_config() == expected
    assert metric.name == expected["name"] and metric.dtype == expected["dtype"]
    rebuilt = type(metric).from_config(metric.get_config())
    assert rebuilt.get_config() == expected
    described = metrics.serialize(metric)
    assert described["module"] == "keras.metrics" and described["class_name"] == name
    again = metrics.deserialize(described)
    assert type(again) is type(metric) and again.get_config() == expected


# Keras 3's docstring examples: (factory, y_true, y_pred, unweighted result, sample_weight,
# weighted result after a reset). The results are the values the docstrings print.
DOCSTRING_EXAMPLES = {
    "AUC": (lambda: metrics.AUC(num_thresholds=3), [0, 0, 1, 1], [0, 0.5, 0.3, 0.9], 0.75,
            [1, 0, 0, 1], 1.0),
    "Accuracy": (metrics.Accuracy, [[1], [2], [3], [4]], [[0], [2], [3], [4]], 0.75,
                 [1, 1, 0, 0], 0.5),
    "BinaryAccuracy": (metrics.BinaryAccuracy, [[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]],
                       0.75, [1, 0, 0, 1], 0.5),
    "BinaryCrossentropy": (metrics.BinaryCrossentropy, [[0, 1], [0, 0]],
                           [[0.6, 0.4], [0.4, 0.6]], 0.81492424, [1, 0], 0.9162905),
    "BinaryIoU": (lambda: metrics.BinaryIoU(target_class_ids=[0, 1], threshold=0.3),
                  [0, 1, 0, 1], [0.1, 0.2, 0.4, 0.7], 0.33333334, [0.2, 0.3, 0.4, 0.1],
                  0.0),  # int32 counts truncate these weights to 0: Keras prints 0.0 too
    "CategoricalAccuracy": (metrics.CategoricalAccuracy, [[0, 0, 1], [0, 1, 0]],
                            [[0.1, 0.9, 0.8], [0.05, 0.95, 0]], 0.5, [0.7, 0.3], 0.3),
    "CategoricalCrossentropy": (metrics.CategoricalCrossentropy, [[0, 1, 0], [0, 0, 1]],
                                [[0.05, 0.95, 0], [0.1, 0.8, 0.1]], 1.1769392,
                                np.array([0.3, 0.7]), 1.6271976),
    "CategoricalHinge": (metrics.CategoricalHinge, [[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]],
                         1.4000001, [1, 0], 1.2),
    "CosineSimilarity": (lambda: metrics.CosineSimilarity(axis=1), [[0.0, 1.0], [1.0, 1.0]],
                         [[1.0, 0.0], [1.0, 1.0]], 0.49999997, [0.3, 0.7], 0.6999999),
    "FalseNegatives": (metrics.FalseNegatives, [0, 1, 1, 1], [0, 1, 0, 0], 2.0, [0, 0, 1, 0],
                       1.0),
    "FalsePositives": (metrics.FalsePositives, [0, 1, 0, 0], [0, 0, 1, 1], 2.0, [0, 0, 1, 0],
                       1.0),
    "Hinge": (metrics.Hinge, [[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]], 1.3, [1, 0], 1.1),
    "IoU": (lambda: metrics.IoU(num_classes=2, target_class_ids=[0]), [0, 0, 1, 1],
            [0, 1, 0, 1], 0.33333334, [0.3, 0.3, 0.3, 0.1], 0.0),  # int32 counts, as BinaryIoU
    "KLDivergence": (metrics.KLDivergence, [[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]],
                     0.45814306, [1, 0], 0.9162892),
    "LogCoshError": (metrics.LogCoshError, [[0, 1], [0, 0]], [[1, 1], [0, 0]], 0.10844523,
                     [1, 0], 0.21689045),
    "Mean": (metrics.Mean, None, [1, 3, 5, 7], 4.0, [1, 1, 0, 0], 2.0),
    "MeanAbsoluteError": (metrics.MeanAbsoluteError, [[0, 1], [0, 0]], [[1, 1], [0, 0]], 0.25,
                          [1, 0], 0.5),
    "MeanAbsolutePercentageError": (metrics.MeanAbsolutePercentageError, [[0, 1], [0, 0]],
                                    [[1, 1], [0, 0]], 250000000.0, [1, 0], 500000000.0),
    "MeanIoU": (lambda: metrics.MeanIoU(num_classes=2), [0, 0, 1, 1], [0, 1, 0, 1],
                0.33333334, [3, 3, 3, 1], 0.23809525),  # integer weights, as int32 counts need
    "MeanSquaredError": (metrics.MeanSquaredError, [[0, 1], [0, 0]], [[1, 1], [0, 0]], 0.25,
                         [1, 0], 0.5),
    "MeanSquaredLogarithmicError": (metrics.MeanSquaredLogarithmicError, [[0, 1], [0, 0]],
                                    [[1, 1], [0, 0]], 0.12011322, [1, 0], 0.24022643),
    "Poisson": (metrics.Poisson, [[0, 1], [0, 0]], [[1, 1], [0, 0]], 0.49999997, [1, 0],
                0.99999994),
    "Precision": (metrics.Precision, [0, 1, 1, 1], [1, 0, 1, 1], 0.6666667, [0, 0, 1, 0], 1.0),
    "PrecisionAtRecall": (lambda: metrics.PrecisionAtRecall(0.5), [0, 0, 0, 1, 1],
                          [0, 0.3, 0.8, 0.3, 0.8], 0.5, [2, 2, 2, 1, 1], 0.33333333),
    "Recall": (metrics.Recall, [0, 1, 1, 1], [1, 0, 1, 1], 0.6666667, [0, 0, 1, 0], 1.0),
    "RecallAtPrecision": (lambda: metrics.RecallAtPrecision(0.8), [0, 0, 1, 1],
                          [0, 0.5, 0.3, 0.9], 0.5, [1, 0, 0, 1], 1.0),
    "RootMeanSquaredError": (metrics.RootMeanSquaredError, [[0, 1], [0, 0]], [[1, 1], [0, 0]],
                             0.5, [1, 0], 0.70710677),
    "SensitivityAtSpecificity": (lambda: metrics.SensitivityAtSpecificity(0.5),
                                 [0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8], 0.5,
                                 [1, 1, 2, 2, 1], 0.333333),
    "SparseCategoricalAccuracy": (metrics.SparseCategoricalAccuracy, [[2], [1]],
                                  [[0.1, 0.6, 0.3], [0.05, 0.95, 0]], 0.5, [0.7, 0.3], 0.3),
    "SparseCategoricalCrossentropy": (metrics.SparseCategoricalCrossentropy, [1, 2],
                                      [[0.05, 0.95, 0], [0.1, 0.8, 0.1]], 1.1769392,
                                      np.array([0.3, 0.7]), 1.6271976),
    "SparseTopKCategoricalAccuracy": (lambda: metrics.SparseTopKCategoricalAccuracy(k=1),
                                      [2, 1], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]], 0.5,
                                      [0.7, 0.3], 0.3),
    "SpecificityAtSensitivity": (lambda: metrics.SpecificityAtSensitivity(0.5),
                                 [0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8], 0.66666667,
                                 [1, 1, 2, 2, 2], 0.5),
    "SquaredHinge": (metrics.SquaredHinge, [[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]], 1.86,
                     [1, 0], 1.46),
    "TopKCategoricalAccuracy": (lambda: metrics.TopKCategoricalAccuracy(k=1),
                                [[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]], 0.5,
                                [0.7, 0.3], 0.3),
    "TrueNegatives": (metrics.TrueNegatives, [0, 1, 0, 0], [1, 1, 0, 0], 2.0, [0, 0, 1, 0],
                      1.0),
    "TruePositives": (metrics.TruePositives, [0, 1, 1, 1], [1, 0, 1, 1], 2.0, [0, 0, 1, 0],
                      1.0),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(DOCSTRING_EXAMPLES))
def test_keras_docstring_examples(name):
    factory, y_true, y_pred, expected, weight, weighted = DOCSTRING_EXAMPLES[name]
    metric = factory()
    inputs = (y_pred,) if y_true is None else (y_true, y_pred)
    metric.update_state(*inputs)
    result = metric.result()
    assert isinstance(result, Tensor) and result.dtype == np.float32
    assert float(result) == pytest.approx(expected, rel=1e-5, abs=1e-6)
    metric.reset_state()
    metric.update_state(*inputs, sample_weight=weight)
    assert float(metric.result()) == pytest.approx(weighted, rel=1e-5, abs=1e-6)


def test_keras_docstring_examples_of_the_other_metrics():
    assert float(metrics.Sum()([1, 3, 5, 7])) == 16.0
    assert float(metrics.Sum()([1, 3, 5, 7], sample_weight=[1, 1, 0, 0])) == 4.0
    sorted_ids = metrics.SparseTopKCategoricalAccuracy(k=1, from_sorted_ids=True)
    sorted_ids.update_state([2, 1], [[1, 0, 3], [1, 2, 3]])
    assert float(sorted_ids.result()) == 0.5
    assert sorted_ids.get_config()["from_sorted_ids"] is True
    y_true, y_pred = [[0, 1, 0.5], [1, 1, 0.2]], [[0.1, 0.9, 0.5], [1, 0.9, 0.2]]
    pcc = metrics.PearsonCorrelation(axis=-1)
    pcc.update_state(y_true, y_pred)
    assert float(pcc.result()) == pytest.approx(0.9966996338993913, rel=1e-6)
    ccc = metrics.ConcordanceCorrelation(axis=-1)
    ccc.update_state(y_true, y_pred)
    assert float(ccc.result()) == pytest.approx(0.9816320385426076, rel=1e-6)
    r2 = metrics.R2Score()
    r2.update_state(np.array([[1], [4], [3]], np.float32), np.array([[2], [4], [4]], np.float32))
    assert float(r2.result()) == pytest.approx(0.57142854, rel=1e-6)
    sample_weight = [0.1, 0.2, 0.3, 0.4]  # int32 counts: Keras 3.15.1 itself gives 0 for these
    one_hot_y = np.array([[0, 0, 1], [1, 0, 0], [0, 1, 0], [1, 0, 0]])
    one_hot_p = np.array([[0.2, 0.3, 0.5], [0.1, 0.2, 0.7], [0.5, 0.3, 0.1], [0.1, 0.4, 0.5]])
    iou = metrics.OneHotIoU(num_classes=3, target_class_ids=[0, 2])
    iou.update_state(one_hot_y, one_hot_p, sample_weight=sample_weight)
    assert float(iou.result()) == 0.0
    # the documented 0.071 and 0.048 with float counts
    iou = metrics.OneHotIoU(num_classes=3, target_class_ids=[0, 2], dtype="float32")
    iou.update_state(one_hot_y, one_hot_p, sample_weight=sample_weight)
    assert float(iou.result()) == pytest.approx(0.071, abs=5e-4)
    mean_iou = metrics.OneHotMeanIoU(num_classes=3, dtype="float32")
    mean_iou.update_state(one_hot_y, one_hot_p, sample_weight=sample_weight)
    assert float(mean_iou.result()) == pytest.approx(0.048, abs=5e-4)


def test_f_scores_docstring_examples():
    y_true = np.array([[1, 1, 1], [1, 0, 0], [1, 1, 0]], np.int32)
    y_pred = np.array([[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.0]], np.float32)
    f1 = metrics.F1Score(threshold=0.5)
    f1.update_state(y_true, y_pred)
    np.testing.assert_allclose(f1.result(), [0.5, 0.8, 0.6666667], rtol=1e-6)
    fbeta = metrics.FBetaScore(beta=2.0, threshold=0.5)
    fbeta.update_state(y_true, y_pred)
    np.testing.assert_allclose(fbeta.result(), [0.3846154, 0.90909094, 0.8333334], rtol=1e-6)


def test_metric_functions_as_keras_computes_them():
    # Keras 3.15.1 (JAX), each line printed with .tolist():
    #   keras.metrics.pearson_correlation(t, p); keras.metrics.concordance_correlation(t, p)
    #   keras.metrics.mean_absolute_percentage_error([[1., 2.], [4., -1]], [[1.5, 2.], [3., 0.]])
    #   keras.metrics.mean_squared_logarithmic_error([[1., 2.], [4., 0]], [[1.5, 2.], [3., .5]])
    #   keras.metrics.binary_focal_crossentropy(..., apply_class_balancing=True, gamma=3.,
    #                                           label_smoothing=0.1)
    #   keras.metrics.binary_focal_crossentropy(..., from_logits=True)
    #   keras.metrics.categorical_focal_crossentropy(..., from_logits=True, label_smoothing=0.2,
    #                                                gamma=1.)
    t, p = [[0, 1, 0.5], [1, 1, 0.2]], [[0.1, 0.9, 0.5], [1, 0.9, 0.2]]
    cases = [
        (metrics.pearson_correlation(t, p), [0.9999999403953552, 0.9933992624282837]),
        (metrics.concordance_correlation(t, p), [0.975609302520752, 0.987653911113739]),
        (
            metrics.mean_absolute_percentage_error([[1.0, 2.0], [4.0, -1]], [[1.5, 2.0], [3, 0]]),
            [25.0, 62.5],
        ),
        (
            metrics.mean_squared_logarithmic_error([[1.0, 2.0], [4.0, 0]], [[1.5, 2], [3, 0.5]]),
            [0.0248965285718441, 0.10709744691848755],
        ),
        (
            metrics.binary_focal_crossentropy(
                [[0, 1], [0, 0]],
                [[0.6, 0.4], [0.4, 0.6]],
                apply_class_balancing=True,
                gamma=3.0,
                label_smoothing=0.1,
            ),
            [0.09201160818338394, 0.07997731864452362],
        ),
        (
            metrics.binary_focal_crossentropy(
                [[0, 1], [0, 0]], [[0.6, -0.4], [2.4, 0.6]], from_logits=True
            ),
            [0.37987446784973145, 1.2614327669143677],
        ),
        (
            metrics.categorical_focal_crossentropy(
                [[0, 1, 0], [0, 0, 1]],
                [[0.5, 2.0, -1], [0.1, 0.85, 0.05]],
                from_logits=True,
                label_smoothing=0.2,
                gamma=1.0,
            ),
            [0.08705340325832367, 0.2641008198261261],
        ),
        # the docstring examples of the focal cross-entropies
        (
            metrics.binary_focal_crossentropy([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]]),
            [0.330, 0.206],
        ),
        (
            metrics.categorical_focal_crossentropy(
                [[0, 1, 0], [0, 0, 1]], [[0.05, 0.9, 0.05], [0.1, 0.85, 0.05]]
            ),
            [2.63401289e-04, 6.75912094e-01],
        ),
    ]
    for value, expected in cases:
        assert isinstance(value, Tensor)
        np.testing.assert_allclose(value.numpy(), expected, rtol=2e-3)
    # the metric functions that are losses are the loss functions themselves
    assert metrics.mean_squared_error is keras.losses.mean_squared_error
    np.testing.assert_allclose(
        metrics.binary_crossentropy([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]]).numpy(),
        [0.916, 0.714],
        atol=1e-3,
    )
    np.testing.assert_allclose(
        metrics.sparse_top_k_categorical_accuracy(
            [2, 1], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]], k=2
        ).numpy(),
        [1.0, 1.0],
    )
    np.testing.assert_allclose(
        metrics.categorical_accuracy([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]]),
        [0.0, 1.0],
    )


# Fixed random inputs; REAL_KERAS holds what Keras 3.15.1 (JAX) gives for each case, made by:
#   for name, (factory, updates) in RANDOM.items():
#       metric = factory(keras.metrics)
#       for y_true, y_pred, weight in updates:
#           metric.update_state(y_true, y_pred, sample_weight=weight)
#       print(f"{name!r}: {np.asarray(metric.result(), np.float64).tolist()!r},")
rng = np.random.default_rng(7)
yb = rng.integers(0, 2, 40).astype("float32")
pb = np.clip(0.5 + 0.3 * (2 * yb - 1) + 0.35 * rng.standard_normal(40), 0, 1).astype("float32")
w = rng.random(40).astype("float32")
ym = rng.integers(0, 2, (30, 3)).astype("float32")
pm = rng.random((30, 3)).astype("float32")
wm = rng.random(30).astype("float32")
ys = rng.integers(0, 4, (6, 5))
ps = rng.integers(0, 4, (6, 5))
ws = rng.integers(0, 3, (6, 5))
yr = rng.standard_normal((20, 3)).astype("float32")
pr = (yr + 0.5 * rng.standard_normal((20, 3))).astype("float32")
wr = rng.random(20).astype("float32")
yo = np.eye(4, dtype="float32")[rng.integers(0, 4, 6)]
po = (0.5 * yo + rng.random((6, 4))).astype("float32")

RANDOM = {
    "auc_roc": (lambda m: m.AUC(), [(yb[:20], pb[:20], w[:20]), (yb[20:], pb[20:], w[20:])]),
    "auc_pr": (lambda m: m.AUC(curve="PR", num_thresholds=50), [(yb, pb, w)]),
    "auc_pr_minoring": (lambda m: m.AUC(curve="PR", summation_method="minoring"), [(yb, pb, w)]),
    "auc_roc_majoring": (lambda m: m.AUC(summation_method="majoring"), [(yb, pb, None)]),
    "auc_thresholds": (lambda m: m.AUC(thresholds=[0.2, 0.45, 0.7]), [(yb, pb, w)]),
    "auc_multi_label": (lambda m: m.AUC(multi_label=True), [(ym, pm, wm)]),
    "auc_multi_label_weights": (
        lambda m: m.AUC(multi_label=True, num_labels=3, label_weights=[1.0, 2.0, 0.5]),
        [(ym, pm, None)],
    ),
    "auc_label_weights": (lambda m: m.AUC(label_weights=[1.0, 2.0, 0.5]), [(ym, pm, wm)]),
    "auc_logits": (lambda m: m.AUC(from_logits=True), [(yb, 4 * pb - 2, w)]),
    "precision_at_recall": (lambda m: m.PrecisionAtRecall(0.7), [(yb, pb, w)]),
    "recall_at_precision": (lambda m: m.RecallAtPrecision(0.8, num_thresholds=100), [(yb, pb, w)]),
    "sensitivity_at_specificity": (lambda m: m.SensitivityAtSpecificity(0.6), [(yb, pb, w)]),
    "specificity_at_sensitivity": (
        lambda m: m.SpecificityAtSensitivity(0.6, class_id=1),
        [(ym, pm, wm)],
    ),
    "precision_thresholds": (lambda m: m.Precision(thresholds=[0.3, 0.6]), [(ym, pm, wm)]),
    "recall_top_k": (lambda m: m.Recall(top_k=2), [(ym, pm, wm)]),
    "true_negatives": (lambda m: m.TrueNegatives(thresholds=[0.25, 0.5]), [(yb, pb, w)]),
    "iou": (lambda m: m.IoU(4, target_class_ids=[0, 2]), [(ys, ps, ws)]),
    "mean_iou_ignore": (lambda m: m.MeanIoU(4, ignore_class=1), [(ys, ps, ws)]),
    "binary_iou": (lambda m: m.BinaryIoU(target_class_ids=[1], threshold=0.4), [(yb, pb, None)]),
    "one_hot_iou": (lambda m: m.OneHotIoU(4, target_class_ids=[1, 3]), [(yo, po, None)]),
    "one_hot_mean_iou": (lambda m: m.OneHotMeanIoU(4), [(yo, po, [1, 2, 0, 1, 1, 3])]),
    "r2": (lambda m: m.R2Score(), [(yr[:8], pr[:8], wr[:8]), (yr[8:], pr[8:], wr[8:])]),
    "r2_variance_weighted": (
        lambda m: m.R2Score(class_aggregation="variance_weighted_average"),
        [(yr, pr, wr)],
    ),
    "r2_raw_adjusted": (
        lambda m: m.R2Score(class_aggregation=None, num_regressors=2),
        [(yr, pr, None)],
    ),
    "pearson": (lambda m: m.PearsonCorrelation(), [(yr, pr, wr)]),
    "pearson_axis0": (lambda m: m.PearsonCorrelation(axis=0), [(yr, pr, None)]),
    "concordance": (lambda m: m.ConcordanceCorrelation(), [(yr, pr, wr)]),
    "cosine": (lambda m: m.CosineSimilarity(), [(yr, pr, wr)]),
    "rmse": (lambda m: m.RootMeanSquaredError(), [(yr, pr, wr)]),
    "mape": (lambda m: m.MeanAbsolutePercentageError(), [(yr, pr, wr)]),
    "msle": (lambda m: m.MeanSquaredLogarithmicError(), [(np.abs(yr), np.abs(pr), wr)]),
    "logcosh": (lambda m: m.LogCoshError(), [(yr, pr, wr)]),
    "sparse_cce_ignore": (
        lambda m: m.SparseCategoricalCrossentropy(ignore_class=2),
        [(np.array([0, 2, 1, 3, 2, 1]), po / po.sum(-1, keepdims=True), None)],
    ),
    "sparse_cce_ignore_weighted": (
        lambda m: m.SparseCategoricalCrossentropy(ignore_class=2),
        [(np.array([0, 2, 1, 3, 2, 1]), po / po.sum(-1, keepdims=True), [1, 2, 3, 1, 2, 3])],
    ),
    "f1_weighted": (lambda m: m.F1Score(average="weighted", threshold=0.5), [(ym, pm, wm)]),
    "fbeta_micro": (lambda m: m.FBetaScore(average="micro", beta=0.5), [(ym, pm, wm)]),
}


REAL_KERAS = {
    "auc_roc": 0.9219289422035217,
    "auc_pr": 0.9601255059242249,
    "auc_pr_minoring": 0.7155719995498657,
    "auc_roc_majoring": 0.921875,
    "auc_thresholds": 0.913032054901123,
    "auc_multi_label": 0.5458040237426758,
    "auc_multi_label_weights": 0.5761038661003113,
    "auc_label_weights": 0.5945410132408142,
    "auc_logits": 0.9226244688034058,
    "precision_at_recall": 0.9211260080337524,
    "recall_at_precision": 0.9389735460281372,
    "sensitivity_at_specificity": 0.9389734864234924,
    "specificity_at_sensitivity": 0.6531402468681335,
    "precision_thresholds": [0.6165751218795776, 0.5928659439086914],
    "recall_top_k": 0.6891726851463318,
    "true_negatives": [6.365548133850098, 6.365548133850098],
    "iou": 0.14354068040847778,
    "mean_iou_ignore": 0.1343434453010559,
    "binary_iou": 0.7692306637763977,
    "one_hot_iou": 0.25,
    "one_hot_mean_iou": 0.4999999701976776,
    "r2": 0.6840252876281738,
    "r2_variance_weighted": 0.7035589814186096,
    "r2_raw_adjusted": [0.6546005010604858, 0.5577425956726074, 0.777370810508728],
    "pearson": 0.7742751240730286,
    "pearson_axis0": 0.8608288764953613,
    "concordance": 0.6206778287887573,
    "cosine": 0.7971699237823486,
    "rmse": 0.49032601714134216,
    "mape": 675.0447387695312,
    "msle": 0.0713212862610817,
    "logcosh": 0.11041443794965744,
    "sparse_cce_ignore": 0.8734574913978577,
    "sparse_cce_ignore_weighted": 1.2395116090774536,
    "f1_weighted": 0.6346384286880493,
    "fbeta_micro": 0.4496070444583893,
}


@pytest.mark.parametrize("name", sorted(RANDOM))
def test_values_of_real_keras_on_random_weighted_inputs(name):
    factory, updates = RANDOM[name]
    metric = factory(metrics)
    for y_true, y_pred, weight in updates:
        metric.update_state(y_true, y_pred, sample_weight=weight)
    np.testing.assert_allclose(
        np.asarray(metric.result(), np.float64), REAL_KERAS[name], rtol=2e-6, atol=1e-6
    )


def test_accumulates_across_updates_and_resets():
    for name, (factory, updates) in RANDOM.items():
        metric = factory(metrics)
        for y_true, y_pred, weight in updates:
            metric.update_state(y_true, y_pred, sample_weight=weight)
        first = np.asarray(metric.result())
        metric.reset_state()
        for variable in metric.variables:
            assert not np.any(variable.numpy()), name
        for y_true, y_pred, weight in updates:
            metric.update_state(y_true, y_pred, sample_weight=weight)
        np.testing.assert_allclose(np.asarray(metric.result()), first, err_msg=name)
