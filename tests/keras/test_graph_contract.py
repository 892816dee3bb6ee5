"""The graph contract of functional and Sequential models, as Keras 3 keeps it: ``layer.input``
and ``layer.output``, feature extraction, ``Sequential.inputs``/``outputs``/``pop``, models inside
models, shared layers, structures of inputs and outputs, and ``clone_model``.

Expected values are closed forms (the layers' own weights applied in NumPy); the behaviours named
"as Keras" were checked with Keras 3.15.1 on JAX (the script lines are quoted).
"""

import json

import numpy as np
import pytest

from chainrule import keras
from chainrule.keras import layers
from chainrule.keras.models import Functional
from chainrule.keras.saving.serialization import FileFormatError

rng = np.random.default_rng(1)


def dense_np(layer, x):
    y = x @ layer.kernel.numpy() + layer.bias.numpy()
    return np.maximum(y, 0) if layer.get_config()["activation"] == "relu" else y


# ----- layer.input / layer.output ---------------------------------------------------------------


def test_layer_input_and_output_are_those_of_its_first_call():
    # Keras 3.15.1: d = Dense(3); d(a); d(b); d.input is a, d.output the first output (no error
    # for a layer called twice); an uncalled layer raises AttributeError "The layer dense_1 has
    # never been called and thus has no defined input."
    a, b = keras.Input((4,)), keras.Input((4,))
    dense = layers.Dense(3)
    first = dense(a)
    dense(b)
    assert dense.input is a and dense.output is first
    merge = layers.Concatenate()
    joined = merge([a, b])
    assert merge.input == [a, b] and merge.output is joined
    with pytest.raises(AttributeError, match="has never been called and thus has no defined input"):
        layers.Dense(2).input
    with pytest.raises(AttributeError, match="no defined output"):
        layers.Dense(2).output
    assert a.node.layer.output is a  # an InputLayer's output is the Input tensor


def test_feature_extraction_from_a_functional_model():
    inputs = keras.Input((5,))
    x = layers.Dense(4, activation="relu")(inputs)
    x = layers.Dense(3)(x)
    model = keras.Model(inputs, layers.Dense(2)(x))
    extractor = keras.Model(inputs=model.input, outputs=[layer.output for layer in model.layers])
    data = rng.normal(size=(3, 5)).astype("float32")
    features = [f.numpy() for f in extractor(data)]
    expected = [data]
    for layer in model.layers[1:]:
        expected.append(dense_np(layer, expected[-1]))
    assert len(features) == 4
    for got, want in zip(features, expected):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


# ----- Sequential as a graph --------------------------------------------------------------------


def test_sequential_inputs_outputs_and_shapes_once_built():
    # Keras 3.15.1: before build, model.inputs raises AttributeError "Sequential model
    # 'sequential' has no defined inputs yet."; model.input raises even after build ("The layer
    # sequential has never been called...") until the model is called on a KerasTensor.
    model = keras.Sequential([layers.Dense(2), layers.Dense(3)])
    for attribute in ("inputs", "outputs", "input_shape", "output_shape"):
        with pytest.raises(AttributeError, match="has no defined"):
            getattr(model, attribute)
    model.build((None, 5))
    assert [t.shape for t in model.inputs] == [(None, 5)]
    assert [t.shape for t in model.outputs] == [(None, 3)]
    assert model.input_shape == (None, 5) and model.output_shape == (None, 3)
    assert model.layers[0].input is model.inputs[0]
    assert model.layers[1].output is model.outputs[0]
    with pytest.raises(AttributeError, match="never been called"):
        model.input
    x = keras.Input((5,))
    y = model(x)
    assert model.input is x and model.output is y and y.shape == (None, 3)


def test_sequential_feature_extraction_as_in_the_sequential_guide():
    initial = keras.Sequential(
        [
            keras.Input((6, 6, 2)),
            layers.Conv2D(3, 3, activation="relu"),
            layers.Conv2D(4, 3, activation="relu", name="my_intermediate_layer"),
            layers.Flatten(),
        ]
    )
    extractor = keras.Model(
        inputs=initial.inputs, outputs=[layer.output for layer in initial.layers]
    )
    data = rng.normal(size=(2, 6, 6, 2)).astype("float32")
    features = extractor(data)
    assert [tuple(f.shape) for f in features] == [(2, 4, 4, 3), (2, 2, 2, 4), (2, 16)]
    np.testing.assert_allclose(features[-1].numpy(), initial(data).numpy(), rtol=1e-6)
    one = keras.Model(initial.inputs, initial.get_layer("my_intermediate_layer").output)
    np.testing.assert_allclose(one(data).numpy(), features[1].numpy(), rtol=1e-6)


def test_pop_removes_the_last_layer_and_rebuilds():
    # Keras 3.15.1: pop() returns the layer; len(model.layers) drops by one; outputs follow.
    model = keras.Sequential([keras.Input((3,)), layers.Dense(2), layers.Dense(4, name="last")])
    popped = model.pop()
    assert popped.name == "last" and len(model.layers) == 1
    assert model.output_shape == (None, 2) and model.outputs[0] is model.layers[0].output
    model.add(layers.Dense(5))
    assert model.output_shape == (None, 5)
    extractor = keras.Model(model.inputs, [layer.output for layer in model.layers])
    assert [tuple(t.shape) for t in extractor(np.ones((1, 3)))] == [(1, 2), (1, 5)]
    unbuilt = keras.Sequential([layers.Dense(2), layers.Dense(3)])
    unbuilt.pop()
    assert len(unbuilt.layers) == 1 and not unbuilt.built
    unbuilt.pop()
    with pytest.raises(IndexError, match="no layers to pop"):
        unbuilt.pop()


def test_sequential_inside_functional_and_functional_inside_sequential():
    block = keras.Sequential([layers.Dense(4, activation="relu"), layers.Dense(3)])
    inputs = keras.Input((5,))
    outer = keras.Model(inputs, layers.Dense(2)(block(inputs)))
    head_in = keras.Input((2,))
    head = keras.Model(head_in, layers.Dense(1)(head_in))
    stacked = keras.Sequential([keras.Input((5,)), outer, head])
    assert stacked.output_shape == (None, 1)
    data = rng.normal(size=(3, 5)).astype("float32")
    hidden = dense_np(block.layers[1], dense_np(block.layers[0], data))
    expected = dense_np(head.layers[1], dense_np(outer.layers[2], hidden))
    np.testing.assert_allclose(stacked(data).numpy(), expected, rtol=1e-5, atol=1e-6)
    assert len(stacked.weights) == 8  # every weight once, through both nestings


def test_shared_layers_and_inputs_and_outputs_given_as_dicts():
    left = keras.Input((3,), name="left")
    right = keras.Input((3,), name="right")
    shared = layers.Dense(2, name="shared")
    diff = layers.Subtract()([shared(left), shared(right)])
    model = keras.Model({"left": left, "right": right}, {"diff": diff, "left": shared.output})
    assert len(model.weights) == 2
    xl, xr = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    out = model({"left": xl, "right": xr})
    w, b = shared.kernel.numpy(), shared.bias.numpy()
    np.testing.assert_allclose(out["diff"].numpy(), (xl - xr) @ w, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out["left"].numpy(), xl @ w + b, rtol=1e-5, atol=1e-6)


# ----- clone_model ------------------------------------------------------------------------------


def same_configs(a, b):
    return [layer.get_config() for layer in a.layers] == [layer.get_config() for layer in b.layers]


def test_clone_a_sequential_model_gives_new_weights_and_the_same_config():
    model = keras.Sequential(
        [keras.Input((4,)), layers.Dense(3, activation="relu"), layers.Dense(2)]
    )
    model.compile(optimizer="adam", loss="mse")
    clone = keras.models.clone_model(model)
    assert isinstance(clone, keras.Sequential) and clone.name == model.name
    assert same_configs(model, clone) and clone.input_shape == (None, 4)
    assert not any(a is b for a, b in zip(model.weights, clone.weights))
    assert not np.allclose(model.get_weights()[0], clone.get_weights()[0])
    assert clone.compiled and clone.optimizer is not model.optimizer
    clone.set_weights(model.get_weights())
    data = rng.normal(size=(2, 4))
    np.testing.assert_allclose(clone(data).numpy(), model(data).numpy(), rtol=1e-6)
    unbuilt = keras.models.clone_model(keras.Sequential([layers.Dense(2)]))
    assert not unbuilt.built


def test_clone_a_functional_model_with_shared_layers_and_ops():
    inputs = keras.Input((4,), name="x")
    shared = layers.Dense(4, name="shared")
    h = shared(shared(inputs))
    outputs = layers.Dense(1)(h * 2 + inputs)
    model = keras.Model(inputs, outputs, name="net")
    clone = keras.models.clone_model(model)
    assert clone.name == "net" and same_configs(model, clone)
    assert len(clone.weights) == 4  # the shared layer is cloned once
    assert clone.inputs[0] is not model.inputs[0] and clone.inputs[0].name == "x"
    clone.set_weights(model.get_weights())
    data = rng.normal(size=(3, 4))
    np.testing.assert_allclose(clone(data).numpy(), model(data).numpy(), rtol=1e-6)


def test_clone_with_input_tensors_a_clone_function_and_a_call_function():
    inputs = keras.Input((4,))
    model = keras.Model(inputs, layers.Dense(2)(layers.Dense(3)(inputs)))
    new_input = keras.Input((4,), name="new")
    same_layers = keras.models.clone_model(
        model, input_tensors=new_input, clone_function=lambda layer: layer
    )
    assert same_layers.inputs[0] is new_input
    assert [id(w) for w in same_layers.weights] == [id(w) for w in model.weights]

    def call_function(layer, inputs, **kwargs):  # a Dropout after every Dense, as in Keras's doc
        return layers.Dropout(0.5)(layer(inputs, **kwargs))

    wrapped = keras.models.clone_model(model, call_function=call_function)
    assert [type(layer).__name__ for layer in wrapped.layers][1:] == [
        "Dense", "Dropout", "Dense", "Dropout",
    ]  # fmt: skip


def test_clone_model_refusals():
    class Subclassed(keras.Model):
        def call(self, x):
            return x

    with pytest.raises(ValueError, match="clones Sequential and functional models"):
        keras.models.clone_model(Subclassed())
    sequential = keras.Sequential([keras.Input((2,)), layers.Dense(1)])
    with pytest.raises(ValueError, match="call_function applies to functional models only"):
        keras.models.clone_model(sequential, call_function=lambda layer, x, **kw: layer(x))
    inputs = keras.Input((2,))
    functional = keras.Model(inputs, layers.Dense(1)(inputs))
    with pytest.raises(ValueError, match="input_tensors must be 1 KerasTensor"):
        keras.models.clone_model(functional, input_tensors=[np.ones((1, 2))])


# ----- the functional config --------------------------------------------------------------------


def test_functional_config_has_keras_form_and_rebuilds_the_model():
    # Keras 3.15.1 for this model (e called on a, d called twice) writes
    #   "input_layers": ["a", 0, 0], "output_layers": ["d", 1, 0], and for d the inbound_nodes
    #   [{"args": [{"class_name": "__keras_tensor__", "config": {"shape": [null, 4],
    #   "dtype": "float32", "keras_history": ["e", 0, 0]}}], "kwargs": {}}, {... ["d", 0, 0]}]
    # (json.dumps(keras.Model(a, d(d(e(a))), name="m").get_config())).
    a = keras.Input((4,), name="a")
    d = layers.Dense(4, name="d")
    model = keras.Model(a, d(d(layers.Dense(4, name="e")(a))), name="m")
    config = json.loads(json.dumps(model.get_config()))
    assert config["input_layers"] == ["a", 0, 0] and config["output_layers"] == ["d", 1, 0]
    by_name = {layer["name"]: layer for layer in config["layers"]}
    assert by_name["a"]["inbound_nodes"] == []
    histories = [
        node["args"][0]["config"]["keras_history"] for node in by_name["d"]["inbound_nodes"]
    ]
    assert histories == [["e", 0, 0], ["d", 0, 0]]
    assert by_name["d"]["build_config"] == {"input_shape": [None, 4]}
    rebuilt = Functional.from_config(config)
    assert rebuilt.get_config() == model.get_config() and len(rebuilt.weights) == 4
    rebuilt.set_weights(model.get_weights())
    data = rng.normal(size=(2, 4))
    np.testing.assert_allclose(rebuilt(data).numpy(), model(data).numpy(), rtol=1e-6)


def test_functional_config_keeps_structures_and_op_nodes():
    a, b = keras.Input((4,), name="a"), keras.Input((4,), name="b")
    model = keras.Model([a, b], {"x": layers.Dense(2, name="x")(a), "y": layers.Dense(1)(b)})
    config = model.get_config()
    assert config["input_layers"] == [["a", 0, 0], ["b", 0, 0]]
    assert config["output_layers"]["x"] == ["x", 0, 0]
    rebuilt = Functional.from_config(config)
    assert sorted(rebuilt([np.ones((1, 4)), np.ones((1, 4))])) == ["x", "y"]
    with_ops = keras.Model(a, layers.Dense(2)(a) * 2)
    x = np.ones((1, 4), "float32")
    np.testing.assert_allclose(
        Functional.from_config(with_ops.get_config())(x).numpy().shape, with_ops(x).numpy().shape
    )
    with pytest.raises(FileFormatError, match="read tensors that no layer"):
        broken = json.loads(json.dumps(config))
        broken["layers"][2]["inbound_nodes"][0]["args"][0]["config"]["keras_history"][0] = "zz"
        Functional.from_config(broken)
