"""Models with several inputs and outputs: compile with lists and dicts of losses, loss weights
and metrics, fit/evaluate/predict on lists and dicts of arrays, with Keras 3's log names.

The names and orders below were read from Keras 3.15.1 (JAX backend) running the same models:

    m = keras.Model([a, b], [o1, o2])   # outputs named "score" and "cls"
    m.compile("sgd", loss=["mse", "sparse_categorical_crossentropy"], loss_weights=[1.0, 0.2],
              metrics=[["mae"], ["accuracy"]], weighted_metrics=[[], ["accuracy"]])
    m.fit(...); print(list(history.history), m.metrics_names)
"""

import numpy as np
import pytest

import chainrule as tf
import chainrule.keras as keras
from chainrule import fast
from chainrule.fast.plan import Plan
from chainrule.keras import layers

RNG = np.random.default_rng(0)
XA = RNG.normal(size=(40, 3)).astype("float32")
XB = RNG.normal(size=(40, 2)).astype("float32")
Y1 = RNG.normal(size=(40, 1)).astype("float32")
Y2 = RNG.integers(0, 4, size=(40,))


def two_headed(dict_outputs=False):
    a = keras.Input((3,), name="a")
    b = keras.Input((2,), name="b")
    h = layers.Concatenate()([a, b])
    score = layers.Dense(1, name="score")(h)
    cls = layers.Dense(4, activation="softmax", name="cls")(h)
    outputs = {"score": score, "cls": cls} if dict_outputs else [score, cls]
    return keras.Model([a, b], outputs)


def compiled(**kwargs):
    model = two_headed()
    model.compile(
        "sgd",
        loss=["mse", "sparse_categorical_crossentropy"],
        loss_weights=[1.0, 0.2],
        metrics=[["mae"], ["accuracy"]],
        weighted_metrics=[[], ["accuracy"]],
        **kwargs,
    )
    return model


def test_log_names_and_metrics_names_follow_keras():
    model = compiled()
    assert model.metrics_names == ["loss", "compile_metrics"]
    history = model.fit([XA, XB], [Y1, Y2], epochs=1, batch_size=8, verbose=0).history
    assert list(history) == [
        "cls_accuracy",
        "cls_loss",
        "cls_weighted_accuracy",
        "loss",
        "score_loss",
        "score_mae",
    ]
    assert model.metrics_names == ["loss", "compile_metrics", "score_loss", "cls_loss"]
    logs = model.evaluate([XA, XB], [Y1, Y2], verbose=0, return_dict=True)
    values = model.evaluate([XA, XB], [Y1, Y2], verbose=0)
    # Keras's order: loss, the output losses, then the compiled metrics by name
    order = ["loss", "score_loss", "cls_loss", "cls_accuracy", "cls_weighted_accuracy"]
    assert values == pytest.approx([logs[k] for k in order + ["score_mae"]])


def test_total_loss_is_the_weighted_sum_of_the_output_losses():
    model = compiled()
    logs = model.evaluate([XA, XB], [Y1, Y2], batch_size=40, verbose=0, return_dict=True)
    score, probs = model.predict([XA, XB], verbose=0)
    mse = np.mean((score - Y1) ** 2)
    nll = -np.mean(np.log(probs[np.arange(40), Y2]))
    assert logs["score_loss"] == pytest.approx(mse, rel=1e-5)
    assert logs["cls_loss"] == pytest.approx(nll, rel=1e-5)
    assert logs["loss"] == pytest.approx(mse + 0.2 * nll, rel=1e-5)
    assert logs["score_mae"] == pytest.approx(np.mean(np.abs(score - Y1)), rel=1e-5)
    assert logs["cls_accuracy"] == pytest.approx(np.mean(probs.argmax(1) == Y2))


def test_dicts_of_inputs_targets_losses_and_metrics():
    model = two_headed(dict_outputs=True)
    model.compile(
        "sgd",
        loss={"score": "mse", "cls": "sparse_categorical_crossentropy"},
        loss_weights={"score": 2.0, "cls": 1.0},
        metrics={"cls": "accuracy"},
    )
    x, y = {"a": XA, "b": XB}, {"score": Y1, "cls": Y2}
    logs = model.evaluate(x, y, batch_size=40, verbose=0, return_dict=True)
    assert sorted(logs) == ["cls_accuracy", "cls_loss", "loss", "score_loss"]
    assert logs["loss"] == pytest.approx(2 * logs["score_loss"] + logs["cls_loss"], rel=1e-5)
    predicted = model.predict(x, verbose=0)
    assert isinstance(predicted, dict) and sorted(predicted) == ["cls", "score"]
    assert predicted["cls"].shape == (40, 4) and predicted["score"].shape == (40, 1)
    # targets as a list follow the outputs' order (sorted names for dict outputs, as Keras)
    listed = model.evaluate(x, [Y2, Y1], batch_size=40, verbose=0, return_dict=True)
    assert listed["loss"] == pytest.approx(logs["loss"])


def test_one_loss_for_every_output_and_outputs_without_loss():
    model = two_headed()
    model.compile("sgd", loss="mse")
    onehot = np.eye(4, dtype="float32")[Y2]
    logs = model.evaluate([XA, XB], [Y1, onehot], batch_size=40, verbose=0, return_dict=True)
    assert sorted(logs) == ["cls_loss", "loss", "score_loss"]
    assert logs["loss"] == pytest.approx(logs["score_loss"] + logs["cls_loss"], rel=1e-5)
    model.compile("sgd", loss=[None, "sparse_categorical_crossentropy"])
    logs = model.evaluate([XA, XB], [Y1, Y2], batch_size=40, verbose=0, return_dict=True)
    assert list(logs) == ["loss"]  # a single loss: no per-output entry, as Keras


def test_fit_trains_every_head_and_replays_the_same_numbers():
    def run(run_eagerly):
        keras.utils.set_random_seed(1)
        model = compiled(run_eagerly=run_eagerly)
        history = model.fit([XA, XB], [Y1, Y2], epochs=3, batch_size=8, verbose=0).history
        replays = any(isinstance(p, Plan) for p in model._train_plans.plans.values())
        assert replays == (not run_eagerly and fast.enabled())  # CHAINRULE_FAST=0: never
        return history

    eager, replayed = run(True), run(False)
    for key in eager:
        assert replayed[key] == pytest.approx(eager[key], rel=1e-4)
    assert eager["score_loss"][-1] < eager["score_loss"][0]


def test_sample_weights_per_output_and_one_for_all():
    model = compiled()
    w = np.where(Y2 == 0, 3.0, 1.0).astype("float32")
    ones = np.ones(40, "float32")
    per_output = model.evaluate(
        [XA, XB], [Y1, Y2], sample_weight=[ones, w], batch_size=40, verbose=0, return_dict=True
    )
    probs = model.predict([XA, XB], verbose=0)[1]
    nll = -np.log(probs[np.arange(40), Y2])
    correct = probs.argmax(1) == Y2
    assert per_output["cls_loss"] == pytest.approx(np.sum(w * nll) / 40, rel=1e-5)
    assert per_output["cls_weighted_accuracy"] == pytest.approx(np.sum(w * correct) / w.sum())
    assert per_output["cls_accuracy"] == pytest.approx(correct.mean())
    shared = model.evaluate(
        [XA, XB], [Y1, Y2], sample_weight=w, batch_size=40, verbose=0, return_dict=True
    )
    assert shared["cls_loss"] == pytest.approx(per_output["cls_loss"])
    assert shared["score_loss"] != pytest.approx(per_output["score_loss"])
    with pytest.raises(ValueError, match="one `sample_weight` array per output"):
        model.evaluate([XA, XB], [Y1, Y2], sample_weight=[w], verbose=0)


def test_class_weight_single_output_only():
    model = compiled()
    with pytest.raises(ValueError, match="only supported for Models with a single output"):
        model.fit([XA, XB], [Y1, Y2], class_weight={0: 2.0}, verbose=0)
    single = keras.Sequential([keras.Input((3,)), layers.Dense(4, activation="softmax")])
    single.compile("sgd", "sparse_categorical_crossentropy", weighted_metrics=["accuracy"])
    weights = {0: 5.0, 1: 1.0, 2: 1.0, 3: 1.0}
    by_class = single.train_on_batch(XA, Y2, class_weight=weights, return_dict=True)
    single.compile("sgd", "sparse_categorical_crossentropy", weighted_metrics=["accuracy"])
    sw = np.where(Y2 == 0, 5.0, 1.0)
    by_sample = single.test_on_batch(XA, Y2, sample_weight=sw, return_dict=True)
    assert sorted(by_class) == sorted(by_sample) == ["accuracy", "loss"]


def test_validation_split_and_validation_data_with_lists_and_dicts():
    model = compiled()
    history = model.fit(
        {"a": XA, "b": XB}, {"score": Y1, "cls": Y2}, validation_split=0.25, verbose=0
    ).history
    assert "val_score_loss" in history and "val_cls_weighted_accuracy" in history
    held_out = model.evaluate([XA[30:], XB[30:]], [Y1[30:], Y2[30:]], verbose=0, return_dict=True)
    assert history["val_loss"] == [pytest.approx(held_out["loss"])]
    history = model.fit(
        [XA, XB], [Y1, Y2], validation_data=([XA[:8], XB[:8]], [Y1[:8], Y2[:8]]), verbose=0
    ).history
    assert sorted(k for k in history if k.startswith("val_")) == [
        "val_cls_accuracy",
        "val_cls_loss",
        "val_cls_weighted_accuracy",
        "val_loss",
        "val_score_loss",
        "val_score_mae",
    ]


def test_bad_structures_say_what_to_pass():
    model = two_headed()
    with pytest.raises(ValueError, match=r"Expected keys \['score', 'cls'\]"):
        model.compile("sgd", loss={"score": "mse", "typo": "mse"})
        model.evaluate([XA, XB], [Y1, Y2], verbose=0)
    model.compile("sgd", loss=["mse", "mse", "mse"])
    with pytest.raises(ValueError, match="loss has 3 entries, but the model has 2 outputs"):
        model.evaluate([XA, XB], [Y1, Y2], verbose=0)
    with pytest.raises(ValueError, match="loss_weights"):
        model.compile("sgd", loss="mse", loss_weights="heavy")
    model.compile("sgd", loss="mse", metrics=["mae"])
    with pytest.raises(ValueError, match="one entry per output"):
        model.evaluate([XA, XB], [Y1, Y2], verbose=0)


# ----- the keras-io guides, imports swapped and data cut down -----------------------------------


def test_guide_functional_api_multiple_inputs_and_outputs():
    # guides/functional_api.py, "Models with multiple inputs and outputs" (LSTM sizes cut down)
    num_tags, num_words, num_departments = 12, 10000, 4
    title_input = keras.Input(shape=(None,), name="title")
    body_input = keras.Input(shape=(None,), name="body")
    tags_input = keras.Input(shape=(num_tags,), name="tags")
    title_features = layers.LSTM(16)(layers.Embedding(num_words, 16)(title_input))
    body_features = layers.LSTM(8)(layers.Embedding(num_words, 16)(body_input))
    x = layers.concatenate([title_features, body_features, tags_input])
    priority_pred = layers.Dense(1, name="priority")(x)
    department_pred = layers.Dense(num_departments, name="department")(x)
    model = keras.Model(
        inputs=[title_input, body_input, tags_input], outputs=[priority_pred, department_pred]
    )
    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss=[
            keras.losses.BinaryCrossentropy(from_logits=True),
            keras.losses.CategoricalCrossentropy(from_logits=True),
        ],
        loss_weights=[1.0, 0.2],
    )
    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss={
            "priority": keras.losses.BinaryCrossentropy(from_logits=True),
            "department": keras.losses.CategoricalCrossentropy(from_logits=True),
        },
        loss_weights={"priority": 1.0, "department": 0.2},
    )
    title_data = np.random.randint(num_words, size=(128, 10))
    body_data = np.random.randint(num_words, size=(128, 100))
    tags_data = np.random.randint(2, size=(128, num_tags)).astype("float32")
    priority_targets = np.random.random(size=(128, 1))
    dept_targets = np.random.randint(2, size=(128, num_departments))
    history = model.fit(
        {"title": title_data, "body": body_data, "tags": tags_data},
        {"priority": priority_targets, "department": dept_targets},
        epochs=1,
        batch_size=32,
        verbose=0,
    ).history
    assert sorted(history) == ["department_loss", "loss", "priority_loss"]
    assert np.isfinite(history["loss"][0])


def _guide_mnist(n=2000):
    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    x_train = x_train[:n].reshape(n, 784).astype("float32") / 255
    x_test = x_test[:500].reshape(500, 784).astype("float32") / 255
    return x_train, y_train[:n].astype("float32"), x_test, y_test[:500].astype("float32")


def get_compiled_model():
    inputs = keras.Input(shape=(784,), name="digits")
    x = layers.Dense(64, activation="relu", name="dense_1")(inputs)
    x = layers.Dense(64, activation="relu", name="dense_2")(x)
    outputs = layers.Dense(10, activation="softmax", name="predictions")(x)
    model = keras.Model(inputs=inputs, outputs=outputs)
    model.compile(
        optimizer="rmsprop",
        loss="sparse_categorical_crossentropy",
        metrics=["sparse_categorical_accuracy"],
    )
    return model


def test_guide_training_class_and_sample_weights():
    # guides/training_with_built_in_methods.py, "Using sample weighting and class weighting"
    x_train, y_train, _, _ = _guide_mnist()
    class_weight = {i: 1.0 for i in range(10)}
    class_weight[5] = 2.0
    model = get_compiled_model()
    model.fit(x_train, y_train, class_weight=class_weight, batch_size=64, epochs=1, verbose=0)
    sample_weight = np.ones(shape=(len(y_train),))
    sample_weight[y_train == 5] = 2.0
    model = get_compiled_model()
    model.fit(x_train, y_train, sample_weight=sample_weight, batch_size=64, epochs=1, verbose=0)
    train_dataset = tf.data.Dataset.from_tensor_slices((x_train, y_train, sample_weight))
    train_dataset = train_dataset.shuffle(buffer_size=1024).batch(64)
    model = get_compiled_model()
    history = model.fit(train_dataset, epochs=1, verbose=0).history
    assert sorted(history) == ["loss", "sparse_categorical_accuracy"]


def test_guide_training_multi_input_multi_output():
    # guides/training_with_built_in_methods.py, "Passing data to multi-input, multi-output
    # models".
    image_input = keras.Input(shape=(32, 32, 3), name="img_input")
    timeseries_input = keras.Input(shape=(20, 10), name="ts_input")
    x1 = layers.Conv2D(3, 3)(image_input)
    x1 = layers.GlobalMaxPooling2D()(x1)
    x2 = layers.Conv1D(3, 3)(timeseries_input)
    x2 = layers.GlobalMaxPooling1D()(x2)
    x = layers.concatenate([x1, x2])
    score_output = layers.Dense(1, name="score_output")(x)
    class_output = layers.Dense(5, name="class_output")(x)
    model = keras.Model(
        inputs=[image_input, timeseries_input], outputs=[score_output, class_output]
    )
    rmsprop = keras.optimizers.RMSprop
    model.compile(
        optimizer=rmsprop(1e-3),
        loss=[keras.losses.MeanSquaredError(), keras.losses.CategoricalCrossentropy()],
        metrics=[
            [keras.metrics.MeanAbsolutePercentageError(), keras.metrics.MeanAbsoluteError()],
            [keras.metrics.CategoricalAccuracy()],
        ],
    )
    img_data = np.random.random_sample(size=(100, 32, 32, 3))
    ts_data = np.random.random_sample(size=(100, 20, 10))
    score_targets = np.random.random_sample(size=(100, 1))
    class_targets = np.random.random_sample(size=(100, 5))
    history = model.fit(
        [img_data, ts_data], [score_targets, class_targets], batch_size=32, epochs=1, verbose=0
    ).history
    assert sorted(history) == [
        "class_output_categorical_accuracy",
        "class_output_loss",
        "loss",
        "score_output_loss",
        "score_output_mean_absolute_error",
        "score_output_mean_absolute_percentage_error",
    ]
    model.compile(
        optimizer=rmsprop(1e-3),
        loss={
            "score_output": keras.losses.MeanSquaredError(),
            "class_output": keras.losses.CategoricalCrossentropy(),
        },
        metrics={
            "score_output": [
                keras.metrics.MeanAbsolutePercentageError(),
                keras.metrics.MeanAbsoluteError(),
            ],
            "class_output": [keras.metrics.CategoricalAccuracy()],
        },
        loss_weights={"score_output": 2.0, "class_output": 1.0},
    )
    logs = model.evaluate(
        {"img_input": img_data, "ts_input": ts_data},
        {"score_output": score_targets, "class_output": class_targets},
        batch_size=100,
        verbose=0,
        return_dict=True,
    )
    assert logs["loss"] == pytest.approx(
        2 * logs["score_output_loss"] + logs["class_output_loss"], rel=1e-5
    )
    for loss in (
        [None, keras.losses.CategoricalCrossentropy()],
        {"class_output": keras.losses.CategoricalCrossentropy()},
    ):
        model.compile(optimizer=rmsprop(1e-3), loss=loss)
        model.fit([img_data, ts_data], [score_targets, class_targets], epochs=1, verbose=0)
    model.compile(
        optimizer=rmsprop(1e-3),
        loss=[keras.losses.MeanSquaredError(), keras.losses.CategoricalCrossentropy()],
    )
    model.fit(
        {"img_input": img_data, "ts_input": ts_data},
        {"score_output": score_targets, "class_output": class_targets},
        batch_size=32,
        epochs=1,
        verbose=0,
    )
    train_dataset = tf.data.Dataset.from_tensor_slices(
        (
            {"img_input": img_data, "ts_input": ts_data},
            {"score_output": score_targets, "class_output": class_targets},
        )
    )
    train_dataset = train_dataset.shuffle(buffer_size=1024).batch(64)
    history = model.fit(train_dataset, epochs=1, verbose=0).history
    assert sorted(history) == ["class_output_loss", "loss", "score_output_loss"]


def test_targets_only_for_the_outputs_that_have_a_loss():
    model = two_headed()
    model.compile("sgd", loss=[None, "sparse_categorical_crossentropy"])
    full = model.evaluate([XA, XB], [Y1, Y2], batch_size=40, verbose=0)
    assert model.evaluate([XA, XB], [Y2], batch_size=40, verbose=0) == pytest.approx(full)
    assert model.evaluate([XA, XB], Y2, batch_size=40, verbose=0) == pytest.approx(full)
    model.compile("sgd", loss={"cls": "sparse_categorical_crossentropy"})
    by_name = model.evaluate([XA, XB], {"cls": Y2}, batch_size=40, verbose=0)
    assert by_name == pytest.approx(full)


def test_sequential_and_subclassed_models_name_their_outputs():
    sequential = keras.Sequential([keras.Input((3,)), layers.Dense(1, name="out")])
    sequential.compile("sgd", loss={"out": "mse"}, metrics={"out": ["mae"]})
    assert sorted(sequential.evaluate(XA, Y1, verbose=0, return_dict=True)) == ["loss", "mae"]

    class TwoHeads(keras.Model):
        def __init__(self):
            super().__init__()
            self.score = layers.Dense(1)
            self.cls = layers.Dense(4, activation="softmax")

        def call(self, x):
            return {"score": self.score(x), "cls": self.cls(x)}

    model = TwoHeads()
    model.compile("sgd", loss={"score": "mse", "cls": "sparse_categorical_crossentropy"})
    history = model.fit(XA, {"score": Y1, "cls": Y2}, epochs=1, verbose=0).history
    assert sorted(history) == ["cls_loss", "loss", "score_loss"]
    predicted = model.predict_on_batch(XA)
    assert predicted["cls"].shape == (40, 4)
    two = two_headed()
    assert [p.shape for p in two.predict_on_batch([XA, XB])] == [(40, 1), (40, 4)]


def test_metric_objects_given_to_compile_are_reported_once():
    mae = keras.metrics.MeanAbsoluteError()
    model = two_headed()
    model.compile("sgd", loss=["mse", "sparse_categorical_crossentropy"], metrics=[[mae], None])
    assert model.metrics_names == ["loss", "compile_metrics"]
    logs = model.evaluate([XA, XB], [Y1, Y2], verbose=0, return_dict=True)
    assert sorted(logs) == ["cls_loss", "loss", "score_loss", "score_mean_absolute_error"]
    assert model.metrics_names == ["loss", "compile_metrics", "score_loss", "cls_loss"]
