"""Variable paths follow Keras's name scopes: a layer's weights sit under the layers it was first
built or called in, ``keras.name_scope`` adds its name, optimizers and metrics name their state.

Every expected path below is what Keras 3.15.1 (JAX backend) printed for the same code, run with
``import keras`` in place of ``from chainrule import keras``.
"""

import numpy as np
import pytest

from chainrule import keras
from chainrule.keras import layers


def paths(variables):
    return [v.path for v in variables]


def ones(*shape):
    return np.ones(shape, np.float32)


def test_layers_built_inside_a_sequential_are_under_its_name():
    model = keras.Sequential(
        [keras.Input((4,)), layers.Dense(3, name="a"), layers.Dense(2, name="b")], name="seq"
    )
    assert paths(model.weights) == ["seq/a/kernel", "seq/a/bias", "seq/b/kernel", "seq/b/bias"]
    assert model.layers[0].path == "seq/a"
    unbuilt = keras.Sequential([layers.Dense(3, name="c")], name="later")
    unbuilt(ones(1, 4))  # built by its first call: the same scope
    assert paths(unbuilt.weights) == ["later/c/kernel", "later/c/bias"]


def test_a_functional_model_leaves_the_paths_of_layers_called_at_the_top():
    inputs = keras.Input((4,))
    outputs = layers.Dense(2, name="top")(layers.Dense(3, name="first")(inputs))
    model = keras.Model(inputs, outputs, name="functional_model")
    assert paths(model.weights) == ["first/kernel", "first/bias", "top/kernel", "top/bias"]
    # a layer keeps the parent path of its first scope when another model calls it later
    again = keras.Sequential([keras.Input((4,)), model.layers[1]], name="again")
    assert paths(again.weights) == ["first/kernel", "first/bias"]
    assert model.layers[1].path == "first"


def test_a_subclassed_model_and_a_layer_of_layers_scope_what_their_call_builds():
    class Block(layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.inner = layers.Dense(3, name="inner")

        def call(self, x):
            return self.inner(x)

    class Net(keras.Model):
        def __init__(self):
            super().__init__(name="net")
            self.block = Block(name="block")
            self.out = layers.Dense(2, name="out")

        def call(self, x):
            return self.out(self.block(x))

    model = Net()
    model(ones(1, 4))
    assert paths(model.weights) == [
        "net/block/inner/kernel",
        "net/block/inner/bias",
        "net/out/kernel",
        "net/out/bias",
    ]


def test_layers_that_build_sublayers_name_their_weights_under_their_own():
    lstm = layers.LSTM(2, name="lstm")
    lstm(ones(1, 3, 4))
    assert paths(lstm.weights) == [
        "lstm/lstm_cell/kernel",
        "lstm/lstm_cell/recurrent_kernel",
        "lstm/lstm_cell/bias",
    ]
    attention = layers.MultiHeadAttention(2, 4, name="mha")
    x = ones(1, 3, 4)
    attention(x, x)
    assert paths(attention.weights)[:2] == ["mha/query/kernel", "mha/query/bias"]
    assert paths(attention.weights)[-1] == "mha/attention_output/bias"
    model = keras.Sequential(
        [keras.Input((3, 4)), layers.Bidirectional(layers.LSTM(2, name="rnn"), name="bi")],
        name="s",
    )
    assert paths(model.weights)[0] == "s/bi/forward_rnn/lstm_cell/kernel"
    assert paths(model.weights)[3] == "s/bi/backward_rnn/lstm_cell/kernel"
    wrapped = layers.TimeDistributed(layers.Dense(2, name="d"), name="td")
    wrapped(ones(1, 3, 4))
    assert paths(wrapped.weights) == ["td/d/kernel", "td/d/bias"]


def test_keras_name_scope_prefixes_what_is_made_inside_it():
    assert keras.Variable(np.zeros(2, np.float32), name="t").path == "t"
    with keras.name_scope("a"):
        with keras.name_scope("b"):
            assert keras.Variable(np.zeros(2, np.float32), name="t").path == "a/b/t"
        dense = layers.Dense(2, name="d")
        dense(ones(1, 3))
        model = keras.Sequential([keras.Input((3,)), layers.Dense(2, name="y")], name="m")
    assert paths(dense.weights) == ["a/d/kernel", "a/d/bias"]
    assert paths(model.weights) == ["a/m/y/kernel", "a/m/y/bias"]
    assert keras.Variable(np.zeros(2, np.float32), name="t").path == "t"  # closed again
    with pytest.raises(ValueError, match="cannot contain character `/`"):
        keras.name_scope("a/b")


def test_variables_a_build_makes_itself_are_under_the_layer():
    class Custom(layers.Layer):
        def build(self, input_shape):
            self.v = keras.Variable(np.zeros(3, np.float32), name="v")
            self.w = self.add_weight(shape=(2,), name="w")

        def call(self, x):
            return x

    custom = Custom(name="custom")
    assert custom.path is None  # not built yet
    custom(ones(1, 3))
    assert (custom.v.path, custom.w.path, custom.path) == ("custom/v", "custom/w", "custom")


def test_optimizer_and_metric_state_are_named_after_their_owner_and_the_weight():
    keras.backend.clear_session()  # the first SGD of the session is named "sgd"
    model = keras.Sequential([keras.Input((3,)), layers.Dense(2, name="x")], name="seqq")
    sgd = keras.optimizers.SGD(momentum=0.9)
    sgd.build(model.trainable_variables)
    assert paths(sgd.variables) == [
        "sgd/iteration",
        "sgd/learning_rate",
        "sgd/seqq_x_kernel_momentum",
        "sgd/seqq_x_bias_momentum",
    ]
    assert paths(keras.metrics.Mean(name="m/x").variables) == ["m>x/total", "m>x/count"]


def test_a_multi_optimizer_routes_by_the_scoped_paths():
    model = keras.Sequential(
        [keras.Input((3,)), layers.Dense(4, name="body"), layers.Dense(2, name="head")],
        name="routed",
    )
    sgd, adam = keras.optimizers.SGD(0.1), keras.optimizers.Adam(0.01)
    routes = keras.optimizers.OptimizerMap(adam, {"routed/body/.*": sgd})
    assert [routes(w) is sgd for w in model.trainable_weights] == [True, True, False, False]


def test_a_model_made_again_from_its_config_or_file_has_top_level_paths(tmp_path):
    # Keras builds each layer of a config on its own before the model holds it
    inner = keras.Sequential([layers.Dense(2, name="d2")], name="inner")
    model = keras.Sequential([keras.Input((4,)), layers.Dense(3, name="d1"), inner], name="outer")
    assert paths(model.weights) == [
        "outer/d1/kernel",
        "outer/d1/bias",
        "outer/inner/d2/kernel",
        "outer/inner/d2/bias",
    ]
    again = keras.Sequential.from_config(model.get_config())
    assert paths(again.weights) == ["d1/kernel", "d1/bias", "d2/kernel", "d2/bias"]
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert paths(loaded.weights) == ["d1/kernel", "d1/bias", "d2/kernel", "d2/bias"]


def test_a_functional_model_has_its_path_once_made():
    inputs = keras.Input((4,))
    inner = keras.Model(inputs, layers.Dense(2, name="f")(inputs), name="func")
    outer = keras.Sequential([keras.Input((4,)), inner, layers.Dense(1, name="z")], name="o")
    assert [layer.path for layer in outer.layers] == ["func", "o/z"]
    assert paths(outer.weights) == ["f/kernel", "f/bias", "o/z/kernel", "o/z/bias"]
