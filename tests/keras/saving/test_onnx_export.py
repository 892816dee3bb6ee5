"""ONNX export: the file passes onnx.checker and onnxruntime computes what predict computes."""

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
onnxruntime = pytest.importorskip("onnxruntime")

from chainrule import keras  # noqa: E402
from chainrule.keras import layers  # noqa: E402
from chainrule.keras.export import UnsupportedLayerError, export_onnx  # noqa: E402

rng = np.random.default_rng(0)


def run_onnx(path, inputs):
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    return session.run(None, dict(zip(names, inputs)))


def assert_same_predictions(model, inputs, tmp_path, atol=1e-5):
    """Export, check the file, run it in onnxruntime; every output equals the model's."""
    path = tmp_path / "model.onnx"
    export_onnx(model, path)
    onnx.checker.check_model(onnx.load(path))
    expected = model(inputs if len(inputs) > 1 else inputs[0], training=False)
    expected = [np.asarray(y) for y in (expected if isinstance(expected, list) else [expected])]
    got = run_onnx(path, inputs)
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, atol=atol, rtol=1e-5)


def randomized(model):
    """Every weight drawn at random (variances positive), so that no default value, such as
    BatchNormalization's unit variance, hides a wrong rule."""
    model.set_weights(
        [
            np.abs(rng.normal(0.5, 0.3, w.shape)).astype("float32") + 0.05
            if "variance" in name
            else rng.normal(0, 0.5, w.shape).astype("float32")
            for name, w in zip((v.name for v in model.weights), model.get_weights())
        ]
    )
    return model


def test_the_article_model(tmp_path):
    x = rng.uniform(0, 1, (32, 784)).astype("float32")
    model = keras.Sequential(
        [
            keras.Input((784,)),
            layers.Dense(10, activation="relu"),
            layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    model.fit(x, keras.utils.to_categorical(rng.integers(0, 10, 32), 10), verbose=0)
    assert_same_predictions(model, [x], tmp_path)


def test_the_wide_mlp(tmp_path):
    x = rng.uniform(0, 1, (16, 784)).astype("float32")
    model = keras.Sequential(
        [
            keras.Input((784,)),
            layers.Dense(512, activation="relu"),
            layers.Dropout(0.2),
            layers.Dense(512, activation="relu"),
            layers.Dense(10, activation="softmax"),
        ]
    )
    assert_same_predictions(model, [x], tmp_path)


def test_the_keras_io_convnet(tmp_path):
    x = rng.uniform(0, 1, (8, 28, 28, 1)).astype("float32")
    model = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(10, activation="softmax"),
        ]
    )
    assert_same_predictions(model, [x], tmp_path)


def test_a_functional_model_with_branches_merges_and_normalization(tmp_path):
    image = keras.Input((12, 12, 3), name="image")
    features = keras.Input((5,), name="features")
    a = layers.Conv2D(4, 3, padding="same", strides=2, activation="gelu")(image)
    a = layers.BatchNormalization()(a)
    b = layers.SeparableConv2D(4, 3, padding="same", strides=2, depth_multiplier=2)(image)
    b = layers.PReLU()(b)
    merged = layers.Add()([a, layers.Activation("swish")(b)])
    merged = layers.ZeroPadding2D(((1, 0), (0, 1)))(merged)
    merged = layers.DepthwiseConv2D(3, activation="elu")(merged)
    merged = layers.AveragePooling2D(2, padding="same")(merged)
    merged = layers.UpSampling2D(2)(merged)
    pooled = layers.Concatenate()(
        [layers.GlobalAveragePooling2D()(merged), layers.GlobalMaxPooling2D()(merged)]
    )
    side = layers.LayerNormalization()(layers.Dense(8, activation="tanh")(features))
    joined = layers.Concatenate()([pooled, side])
    out_a = layers.Dense(3, activation="softmax", name="class")(joined)
    out_b = layers.Dense(1, name="score")(layers.Multiply()([side, layers.Dense(8)(pooled)]))
    model = keras.Model([image, features], [out_a, out_b])
    x = [
        rng.normal(size=(16, 12, 12, 3)).astype("float32"),
        rng.normal(size=(16, 5)).astype("float32"),
    ]
    randomized(model)
    assert_same_predictions(model, x, tmp_path)


def test_sequences_convolved_causally_and_nested_models(tmp_path):
    inner = keras.Sequential([layers.Dense(6, activation="selu"), layers.LeakyReLU()])
    model = keras.Sequential(
        [
            keras.Input((10, 3)),
            layers.Conv1D(5, 3, padding="causal", dilation_rate=2, activation="sigmoid"),
            layers.Conv1D(4, 2, strides=2),
            layers.Flatten(),
            inner,
            layers.Reshape((2, 3)),
            layers.Softmax(axis=1),
            layers.ReLU(max_value=0.4),
        ]
    )
    randomized(model)
    assert_same_predictions(model, [rng.normal(size=(4, 10, 3)).astype("float32")], tmp_path)


def test_a_layer_without_a_rule_is_named(tmp_path):
    class Cube(layers.Layer):
        def call(self, x):
            return x * x * x

    model = keras.Sequential([keras.Input((4,)), layers.Dense(2), Cube(name="cube")])
    with pytest.raises(UnsupportedLayerError, match="Layer 'cube' \\(Cube\\) has no ONNX rule"):
        export_onnx(model, tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()


def test_model_export_writes_onnx_and_refuses_other_formats(tmp_path):
    model = keras.Sequential([keras.Input((3,)), layers.Dense(2, activation="tanh")])
    x = rng.normal(size=(4, 3)).astype("float32")
    model.export(tmp_path / "m.onnx", format="onnx")
    np.testing.assert_allclose(run_onnx(tmp_path / "m.onnx", [x])[0], model(x).numpy(), atol=1e-6)
    with pytest.raises(ValueError, match="A TensorFlow SavedModel needs TensorFlow"):
        model.export(tmp_path / "saved", format="tf_saved_model")
