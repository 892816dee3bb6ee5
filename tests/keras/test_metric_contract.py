"""The Metric contract of Keras 3: variables made by add_variable, reset, the stateful __call__,
configs, and a custom metric (keras-io's CategoricalTruePositives) inside and outside fit."""

from types import SimpleNamespace

import numpy as np
import pytest

import chainrule.keras as keras
from chainrule.engine import Tensor

metrics = keras.metrics

# The guide's metric computes with keras.ops; until keras.ops has these functions, the same
# computation on NumPy arrays stands in (the contract under test is the Metric's, not the ops').
_GUIDE_OPS = ("reshape", "argmax", "cast", "multiply", "sum")
if all(hasattr(keras.ops, name) for name in _GUIDE_OPS):
    ops = keras.ops
else:
    ops = SimpleNamespace(
        reshape=np.reshape,
        argmax=np.argmax,
        cast=lambda x, dtype: np.asarray(x).astype(dtype),
        multiply=np.multiply,
        sum=np.sum,
    )


class CategoricalTruePositives(keras.metrics.Metric):
    """keras-io's "Training & evaluation with the built-in methods" custom metric."""

    def __init__(self, name="categorical_true_positives", **kwargs):
        super().__init__(name=name, **kwargs)
        self.true_positives = self.add_variable(shape=(), name="ctp", initializer="zeros")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = ops.reshape(ops.argmax(y_pred, axis=1), (-1, 1))
        values = ops.cast(y_true, "int32") == ops.cast(y_pred, "int32")
        values = ops.cast(values, "float32")
        if sample_weight is not None:
            sample_weight = ops.cast(sample_weight, "float32")
            values = ops.multiply(values, sample_weight)
        self.true_positives.assign_add(ops.sum(values))

    def result(self):
        return self.true_positives

    def reset_state(self):
        self.true_positives.assign(0.0)


def test_the_guides_custom_metric_on_its_own():
    metric = CategoricalTruePositives()
    assert metric.name == "categorical_true_positives" and metric.dtype == "float32"
    assert metric.variables == [metric.true_positives]
    y_true = np.array([[0], [2], [1], [1]])
    y_pred = np.eye(3, dtype=np.float32)[[0, 2, 0, 1]]
    metric.update_state(y_true, y_pred)
    assert float(metric.result()) == 3.0
    metric.update_state(y_true, y_pred, sample_weight=np.array([[1.0], [0.5], [1.0], [0.0]]))
    assert float(metric.result()) == 4.5
    metric.reset_state()
    assert float(metric.result()) == 0.0
    assert metric.get_config() == {"name": "categorical_true_positives", "dtype": "float32"}


def test_the_guides_custom_metric_in_fit_and_evaluate():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 5)).astype(np.float32)
    y = rng.integers(0, 3, (64, 1))
    model = keras.Sequential([keras.layers.Dense(3, activation="softmax")])
    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss="sparse_categorical_crossentropy",
        metrics=[CategoricalTruePositives()],
    )
    history = model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    assert len(history.history["categorical_true_positives"]) == 2
    _, hits = model.evaluate(x, y, batch_size=64, verbose=0)
    predicted = model.predict(x, verbose=0).argmax(axis=1)
    assert hits == (predicted == y[:, 0]).sum()


def test_init_does_not_reset_and_subclasses_add_variables_after_it():
    class Counter(metrics.Metric):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.count = self.add_weight(shape=(2,), initializer="ones", name="count")

        def reset_state(self):  # would fail if the base __init__ called it
            self.count.assign(np.ones(2))

        def update_state(self, values):
            self.count.assign_add(values)

        def result(self):
            return self.count

    counter = Counter()
    assert counter.name == "counter"  # the class name in snake_case
    np.testing.assert_array_equal(counter.result(), [1.0, 1.0])
    variable = counter.variables[0]
    assert isinstance(variable, keras.Variable) and not variable.trainable
    assert variable.shape == (2,) and variable.dtype == np.float32 and variable.name == "count"
    assert variable.path == "counter/count"


def test_default_reset_sets_every_variable_to_zero_as_keras_does():
    class Two(metrics.Metric):
        def __init__(self):
            super().__init__(name="two", dtype="float64")
            self.a = self.add_variable((), initializer="ones", name="a")
            self.b = self.add_variable((3,), initializer="zeros", dtype="int32", name="b")

    two = Two()
    assert two.dtype == "float64" and [v.name for v in two.variables] == ["a", "b"]
    two.b.assign_add(np.array([1, 2, 3], np.int32))
    two.reset_state()
    assert float(two.a.numpy()) == 0.0 and not two.b.numpy().any()
    assert two.b.dtype == np.int32


def test_forgetting_super_init_is_a_clear_error():
    class Broken(metrics.Metric):
        def __init__(self):
            self.total = self.add_variable((), "zeros")

    with pytest.raises(RuntimeError, match=r"Broken: call `super\(\).__init__\(\)`"):
        Broken()


def test_call_updates_the_state_and_returns_the_result_as_keras_3():
    # Keras 3.15.1: m = keras.metrics.Mean(); m(1.0) -> 1.0; m(3.0) -> 2.0
    mean = metrics.Mean()
    assert float(mean(1.0)) == 1.0
    assert float(mean(3.0)) == 2.0
    accuracy = metrics.BinaryAccuracy()
    assert float(accuracy([1, 0], [0.9, 0.8])) == 0.5
    assert float(accuracy([1, 1], [0.9, 0.8])) == 0.75
    assert isinstance(accuracy.result(), Tensor)


def test_mean_and_sum_reduce_weights_as_keras():
    # Keras 3.15.1: Mean().update_state(np.arange(12.).reshape(2, 3, 2),
    #   sample_weight=[[1., 0, 2], [1, 1, 1]]) -> result 5.8333335, count 2.0
    mean = metrics.Mean()
    mean.update_state(np.arange(12.0).reshape(2, 3, 2), sample_weight=[[1.0, 0, 2], [1, 1, 1]])
    assert float(mean.result()) == pytest.approx(5.8333335)
    assert float(mean.count.numpy()) == 2.0
    # Keras 3.15.1: Mean, values [[1, 2], [3, 5]], weights [[1], [3]] -> 3.375
    mean = metrics.Mean()
    mean.update_state([[1.0, 2.0], [3.0, 5.0]], sample_weight=[[1.0], [3.0]])
    assert float(mean.result()) == pytest.approx(3.375)
    total = metrics.Sum()  # Keras 3.15.1: 10.0
    total.update_state([[1.0, 2.0], [3.0, 5.0]], sample_weight=[2.0, 0.5])
    assert float(total.result()) == 10.0
    assert float(metrics.Mean().result()) == 0.0  # nothing seen: 0, not nan
    with pytest.raises(ValueError, match=r"sample_weight of shape \(3,\) does not broadcast"):
        metrics.Mean().update_state([1.0, 2.0], sample_weight=[1.0, 2.0, 3.0])


def test_state_accumulates_across_batches_for_a_wrapped_function():
    def absolute_error(y_true, y_pred):
        return np.abs(np.asarray(y_true) - np.asarray(y_pred))

    wrapper = metrics.MeanMetricWrapper(absolute_error, name="ae")
    wrapper.update_state([1.0, 2.0], [1.5, 2.0])
    wrapper.update_state([0.0], [3.0], sample_weight=[2.0])
    assert float(wrapper.result()) == pytest.approx((0.5 + 0.0 + 2 * 3.0) / 4)
    assert wrapper.get_config()["fn"] is absolute_error
    assert metrics.MeanMetricWrapper(absolute_error).name == "mean_metric_wrapper"
    by_name = metrics.MeanMetricWrapper.from_config(
        {"name": "mse", "dtype": "float32", "fn": "mean_squared_error"}
    )
    by_name.update_state([[0.0, 1.0]], [[1.0, 1.0]])
    assert float(by_name.result()) == 0.5
    wrapped = metrics.get(absolute_error)
    assert isinstance(wrapped, metrics.MeanMetricWrapper) and wrapped.name == "absolute_error"


def test_a_metric_that_holds_metrics_reports_their_variables():
    class Both(metrics.Metric):
        def __init__(self):
            super().__init__(name="both")
            self.precision = metrics.Precision()
            self.recall = metrics.Recall()

        def update_state(self, y_true, y_pred, sample_weight=None):
            self.precision.update_state(y_true, y_pred, sample_weight)
            self.recall.update_state(y_true, y_pred, sample_weight)

        def result(self):
            p, r = float(self.precision.result()), float(self.recall.result())
            return 2 * p * r / (p + r)

    both = Both()
    assert [v.name for v in both.variables] == [
        "true_positives",
        "false_positives",
        "true_positives",
        "false_negatives",
    ]
    both.update_state([0, 1, 1, 1], [1, 0, 1, 1])
    assert both.result() == pytest.approx(2 / 3)
    both.reset_state()
    assert not any(v.numpy().any() for v in both.variables)


def test_get_serialize_and_deserialize():
    assert metrics.get(None) is None
    assert type(metrics.get("CategoricalCrossentropy")) is metrics.CategoricalCrossentropy
    assert type(metrics.get("mape")) is metrics.MeanAbsolutePercentageError
    assert type(metrics.get("accuracy")) is metrics.Accuracy  # no example labels
    assert type(metrics.get(metrics.AUC)) is metrics.AUC
    from_dict = metrics.get(
        {"class_name": "CategoricalCrossentropy", "config": {"from_logits": True}}
    )
    assert type(from_dict) is metrics.CategoricalCrossentropy and from_dict.from_logits
    assert metrics.serialize(metrics.mean_squared_error) == "mean_squared_error"
    assert metrics.deserialize("mean_squared_error") is metrics.mean_squared_error
    custom = metrics.serialize(CategoricalTruePositives(name="ctp"))
    assert custom["class_name"] == "CategoricalTruePositives" and custom["config"]["name"] == "ctp"
    with pytest.raises(ValueError, match="custom_objects"):
        metrics.deserialize(custom)
    rebuilt = metrics.deserialize(
        custom, custom_objects={"CategoricalTruePositives": CategoricalTruePositives}
    )
    assert type(rebuilt) is CategoricalTruePositives and rebuilt.name == "ctp"
    with pytest.raises(ValueError, match="Could not interpret metric identifier"):
        metrics.get(3)


def test_bad_arguments_name_the_metric_and_the_fix():
    with pytest.raises(ValueError, match=r"IoU: target class id 3 is out of range"):
        metrics.IoU(num_classes=3, target_class_ids=[0, 3])
    with pytest.raises(ValueError, match=r"R2Score expects 2D inputs"):
        metrics.R2Score().update_state([1.0, 2.0], [1.0, 2.0])
    with pytest.raises(ValueError, match=r"R2Score: invalid class_aggregation='median'"):
        metrics.R2Score(class_aggregation="median")
    with pytest.raises(ValueError, match=r"PrecisionAtRecall: `recall` must be in the range"):
        metrics.PrecisionAtRecall(1.5)
    with pytest.raises(ValueError, match=r"AUC: `num_labels` is needed only when"):
        metrics.AUC(num_labels=3)
    with pytest.raises(TypeError, match=r"BinaryAccuracy\(\) got unexpected arguments \['k'\]"):
        metrics.BinaryAccuracy(k=3)
    with pytest.raises(ValueError, match=r"class_id=1 needs predictions of shape"):
        metrics.Precision(class_id=1).update_state([0, 1], [0.2, 0.9])


def test_lazily_built_state_and_lists():
    auc = metrics.AUC(multi_label=True)
    assert auc.variables == [] and float(auc.result()) == 0.0
    auc.update_state([[1, 0], [0, 1]], [[0.9, 0.2], [0.3, 0.7]])
    assert [v.shape for v in auc.variables] == [(200, 2)] * 4
    assert float(auc.result()) == pytest.approx(1.0)
    r2 = metrics.R2Score()
    assert float(r2.result()) == 0.0
    r2.update_state([[1.0], [2.0], [4.0]], [[1.0], [2.5], [3.5]])
    assert float(r2.result()) == pytest.approx(1 - 0.5 / (21 - 49 / 3))
