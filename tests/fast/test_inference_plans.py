"""evaluate's and predict's forward passes, traced once per input shape, checked against the
engine, then replayed (chainrule.fast.train_step.InferencePlans)."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import keras
from chainrule.fast.plan import Plan
from chainrule.keras import layers


def _plans(plans):
    return list(plans.plans.values())


def _mlp():
    return keras.Sequential(
        [
            keras.Input((6,)),
            layers.Dense(16, activation="relu"),
            layers.BatchNormalization(),
            layers.Dropout(0.5),
            layers.Dense(3, activation="softmax"),
        ]
    )


def _convnet():
    return keras.Sequential(
        [
            keras.Input((10, 10, 2)),
            layers.Conv2D(4, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dense(3, activation="softmax"),
        ]
    )


def _two_outputs():
    inputs = keras.Input((6,), name="features")
    hidden = layers.Dense(8, activation="tanh")(inputs)
    return keras.Model(
        inputs,
        {
            "label": layers.Dense(3, activation="softmax", name="label")(hidden),
            "score": layers.Dense(1, name="score")(hidden),
        },
    )


def _data(model, n=70):
    """Inputs and targets for ``model``: 70 samples, so that batches of 16 end with a short
    one (a second input shape)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, *model.input_shape[1:])).astype("float32")
    labels = np.eye(3, dtype="float32")[rng.integers(0, 3, n)]
    if not isinstance(model, keras.Sequential):
        return x, {"label": labels, "score": rng.normal(size=(n, 1)).astype("float32")}
    return x, labels


def _compiled(build, run_eagerly):
    keras.utils.set_random_seed(0)
    model = build()
    if not isinstance(model, keras.Sequential):
        model.compile(
            "adam",
            loss={"label": "categorical_crossentropy", "score": "mse"},
            metrics={"label": ["accuracy"], "score": ["mae"]},
            run_eagerly=run_eagerly,
        )
    else:
        model.compile(
            "adam", "categorical_crossentropy", metrics=["accuracy"], run_eagerly=run_eagerly
        )
    return model


@pytest.mark.parametrize("build", [_mlp, _convnet, _two_outputs])
def test_evaluate_and_predict_replay_the_engines_numbers(build):
    """A model compiled as usual and the same model run through the engine
    (``run_eagerly=True``) give the same evaluation and predictions, bit for bit, over batches
    of two shapes, before and after training; the usual model replays both passes."""
    results = []
    for run_eagerly in (False, True):
        model = _compiled(build, run_eagerly)
        x, y = _data(model)
        weights = np.random.default_rng(1).uniform(0.5, 2, len(x)).astype("float32")
        found = []
        for _ in range(2):
            found.append(model.evaluate(x, y, batch_size=16, verbose=0, return_dict=True))
            found.append(model.evaluate(x, y, batch_size=16, sample_weight=weights, verbose=0))
            found.append(model.predict(x, batch_size=16, verbose=0))
            model.fit(x, y, batch_size=16, epochs=1, verbose=0)
        results.append(found)
        replayed = [p for p in _plans(model._test_plans) + _plans(model._predict_plans)]
        assert any(isinstance(p, Plan) for p in replayed) == (not run_eagerly)
    for replayed, engine in zip(*results):
        if isinstance(replayed, dict) and "label" in replayed:  # predictions by output
            for key in engine:
                np.testing.assert_array_equal(replayed[key], engine[key])
        elif isinstance(replayed, np.ndarray):
            np.testing.assert_array_equal(replayed, engine)
        else:
            assert replayed == engine


def test_predict_replays_before_compile_and_each_shape_once():
    keras.utils.set_random_seed(0)
    model = _mlp()
    x, _ = _data(model)
    with cr.fast.disabled():
        expected = model.predict(x, batch_size=16, verbose=0)
    predicted = model.predict(x, batch_size=16, verbose=0)
    np.testing.assert_allclose(predicted, expected, rtol=1e-6, atol=1e-7)
    plans = model._predict_plans.plans
    assert isinstance(plans[(((16, 6), np.dtype("float32")),)], Plan)  # traced, checked, replayed
    assert not isinstance(plans[(((6, 6), np.dtype("float32")),)], Plan)  # the short batch: traced
    np.testing.assert_array_equal(model.predict(x, batch_size=16, verbose=0), predicted)


def test_a_stateful_layer_keeps_running_through_the_engine():
    """A stateful LSTM carries its state from batch to batch (a variable changed on the side),
    which a replay would skip: its passes are checked, refused and run through the engine."""
    x = np.random.default_rng(0).normal(size=(8, 5, 3)).astype("float32")
    y = np.random.default_rng(1).normal(size=(8, 2)).astype("float32")
    found = []
    for run_eagerly in (False, True):
        keras.utils.set_random_seed(0)
        model = keras.Sequential(
            [keras.Input((5, 3), batch_size=2), layers.LSTM(4, stateful=True), layers.Dense(2)]
        )
        model.compile("adam", "mse", run_eagerly=run_eagerly)
        found.append(
            (
                model.predict(x, batch_size=2, verbose=0),
                model.predict(x, batch_size=2, verbose=0),
                model.evaluate(x, y, batch_size=2, verbose=0),
            )
        )
        plans = _plans(model._predict_plans) + _plans(model._test_plans)
        assert not any(isinstance(p, Plan) for p in plans)
    (first, again, loss), (first_engine, again_engine, loss_engine) = found
    assert not np.array_equal(first, again)  # the state carried on
    np.testing.assert_array_equal(first, first_engine)
    np.testing.assert_array_equal(again, again_engine)
    assert loss == loss_engine


def test_dropout_kept_on_in_inference_draws_afresh_in_each_replay():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((4,))
    outputs = layers.Dropout(0.5)(layers.Dense(8)(inputs), training=True)
    model = keras.Model(inputs, outputs)
    x = np.ones((64, 4), "float32")
    keras.utils.set_random_seed(1)
    first = model.predict(x, batch_size=16, verbose=0)
    keras.utils.set_random_seed(1)
    np.testing.assert_array_equal(model.predict(x, batch_size=16, verbose=0), first)
    assert isinstance(_plans(model._predict_plans)[0], Plan)
    dropped = [(batch == 0).mean() for batch in np.split(first, 4)]
    assert len({round(d, 6) for d in dropped}) > 1  # each batch its own draws
    assert all(0.3 < d < 0.7 for d in dropped)


def test_a_step_of_the_users_own_calls_the_default_one_and_gets_tensors():
    class Doubled(keras.Sequential):
        def predict_step(self, data):
            return super().predict_step(data) * 2

    keras.utils.set_random_seed(0)
    model = Doubled([keras.Input((3,)), layers.Dense(2)])
    x = np.random.default_rng(0).normal(size=(40, 3)).astype("float32")
    expected = model(x).numpy() * 2
    np.testing.assert_allclose(model.predict(x, batch_size=8, verbose=0), expected, rtol=1e-6)
    (step_output,) = [model.predict_step((cr.Tensor(x[:8]),))]
    assert isinstance(step_output, cr.Tensor)


def _plans_and_engine_predict(model, x, batch_size):
    predicted = model.predict(x, batch_size=batch_size, verbose=0)
    with cr.fast.disabled():
        expected = model.predict(x, batch_size=batch_size, verbose=0)
    return predicted, expected


def test_a_pass_that_reads_its_datas_values_into_python_is_not_replayed():
    """What a layer computes from values it reads into Python (``float(t)``, ``t.numpy()``, a
    NumPy function of a Tensor) is not recorded, so a replay would repeat the traced batch's:
    such a pass keeps running through the engine, even where the first two batches agree."""

    class ScaledByItsMaximum(layers.Layer):
        def call(self, x):
            return x * float(keras.ops.max(x))

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), ScaledByItsMaximum(), layers.Dense(2)])
    x = np.concatenate([np.ones((16, 3)), np.arange(48).reshape(16, 3)]).astype("float32")
    predicted, expected = _plans_and_engine_predict(model, x, 4)  # batches 1 and 2 alike
    np.testing.assert_allclose(predicted, expected, rtol=1e-6)
    assert not any(isinstance(p, Plan) for p in _plans(model._predict_plans))


def test_text_vectorized_inside_the_model_is_not_replayed_from_the_first_batch():
    texts = np.array(["a b", "c d", "a b", "c d", "a b c d e f", "b", "a a a", "c"] * 2)
    vectorize = layers.TextVectorization(max_tokens=20)
    vectorize.adapt(texts)
    inputs = keras.Input(shape=(), dtype="string")
    pooled = layers.GlobalAveragePooling1D()(layers.Embedding(20, 4)(vectorize(inputs)))
    model = keras.Model(inputs, pooled)
    predicted, expected = _plans_and_engine_predict(model, texts, 2)
    np.testing.assert_array_equal(predicted, expected)


def test_attention_masks_are_not_frozen_by_batches_without_padding():
    """A transformer block under a padding mask: the first batches have no padding, the later
    ones do; the mask is read as values (NumPy), so the pass is not replayed from the first."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input((6,), dtype="int32")
    embedded = layers.Embedding(10, 8, mask_zero=True)(inputs)
    attended = layers.MultiHeadAttention(2, 4)(embedded, embedded)
    model = keras.Model(inputs, layers.GlobalAveragePooling1D()(attended))
    x = np.random.default_rng(0).integers(1, 10, (24, 6))
    x[8:, 3:] = 0  # padding from the third batch of 4 on
    predicted, expected = _plans_and_engine_predict(model, x, 4)
    np.testing.assert_allclose(predicted, expected, rtol=1e-5, atol=1e-6)


def test_string_and_integer_outputs_are_checked_for_equality():
    """A plan's check holds outputs that are strings or integers to the engine's exactly (and
    floats to rounding), where a tolerance for floats would fail on strings and let integers
    that differ by one pass."""
    for given, other in (
        (np.array(["a b", "c"], dtype=object), np.array(["a b", "d"], dtype=object)),
        (np.array([10**9, 2]), np.array([10**9 + 1, 2])),
    ):
        data = cr.Tensor(given)
        plan = Plan([data], [data], [])  # the output is the input itself
        assert plan.matches([given.copy()], [], [given])
        assert not plan.matches([other], [], [given])
