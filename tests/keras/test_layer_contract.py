"""Keras 3's Layer contract: add_weight/add_variable, trainable switching, losses from add_loss and
regularizers, calls with several tensors, and training passed down to nested calls.

Expected values come from closed forms or from Keras 3.15.1 (JAX backend); the fragments that
gave them are quoted beside the checks.
"""

import warnings

import numpy as np
import pytest

import chainrule as cr
import chainrule.keras as keras
from chainrule.keras import layers


def test_add_weight_has_keras_argument_order_defaults_and_names():
    # Keras 3.15.1:
    #   inspect.signature(keras.layers.Layer.add_weight) -> (self, *args, shape=None,
    #   initializer=None, dtype=None, trainable=True, autocast=True, regularizer=None,
    #   constraint=None, aggregation='none', overwrite_with_gradient=False, name=None)
    #   l = layers.Layer(name="lay"); w = l.add_weight(shape=(2,))
    #   w2 = l.add_weight(shape=(2,), dtype="int32"); w3 = l.add_variable((1,), "zeros")
    #   -> w.name 'variable', w.path 'lay/variable', w2.name 'variable_1', w2 [0 0],
    #      w3.name 'variable_2', w3.path 'lay/variable_2'
    keras.backend.clear_session()
    layer = layers.Layer(name="lay")
    w = layer.add_weight(shape=(2,))
    w2 = layer.add_weight(shape=(2,), dtype="int32")
    w3 = layer.add_variable((1,), "zeros")
    assert (w.name, w.path) == ("variable", "lay/variable")
    assert w2.name == "variable_1" and w2.dtype == np.int32
    np.testing.assert_array_equal(w2.numpy(), [0, 0])  # integers start at zeros
    assert (w3.name, w3.path) == ("variable_2", "lay/variable_2")
    np.testing.assert_array_equal(w3.numpy(), [0.0])
    assert isinstance(w, keras.Variable) and w.dtype == np.float32
    # glorot_uniform by default: |w| <= sqrt(6 / (fan_in + fan_out)) = sqrt(6 / 4) for shape (2,)
    assert np.all(np.abs(w.numpy()) <= np.sqrt(6 / 4))
    scalar = layer.add_weight(initializer="ones", name="scale")
    assert scalar.shape == () and float(scalar.numpy()) == 1.0


def test_add_weight_keeps_its_options_on_the_variable():
    layer = layers.Layer(name="opts")
    w = layer.add_weight(
        (3,),
        "ones",
        "float32",
        False,
        False,
        "l2",
        None,
        aggregation="mean",
        overwrite_with_gradient=True,
        name="w",
    )
    assert not w.trainable and w.autocast is False and w.aggregation == "mean"
    assert w.overwrite_with_gradient is True
    assert w.regularizer is not None and w.path == "opts/w"
    # a non-trainable weight's regularizer adds nothing (Keras reads the trainable weights)
    assert layer.losses == []


def test_trainable_propagates_to_nested_layers_and_back_as_keras_does():
    # Keras 3.15.1:
    #   m = keras.Sequential([layers.Input((3,)), layers.Dense(2), layers.Dense(1)])
    #   m.trainable = False -> every layer and weight trainable False, 0 trainable weights
    #   m.layers[0].trainable = True -> m.trainable False, still 0 trainable weights
    #   m.trainable = True -> all True again, 4 trainable weights
    m = keras.Sequential([layers.Input((3,)), layers.Dense(2), layers.Dense(1)])
    m.trainable = False
    assert [(l.trainable, [v.trainable for v in l.weights]) for l in m.layers] == [
        (False, [False, False]),
        (False, [False, False]),
    ]
    assert m.trainable_weights == []
    m.layers[0].trainable = True
    assert m.trainable is False and m.trainable_weights == []
    m.trainable = True
    assert all(l.trainable and all(v.trainable for v in l.weights) for l in m.layers)
    assert len(m.trainable_weights) == 4


def test_weights_of_a_frozen_layer_are_created_frozen():
    # Keras 3.15.1: d = layers.Dense(2, trainable=False); d.build((None, 3))
    #   -> d.kernel.trainable False, 0 trainable weights; d.trainable = True -> True, 2
    dense = layers.Dense(2, trainable=False)
    dense.build((None, 3))
    assert dense.kernel.trainable is False and dense.trainable_weights == []
    dense.trainable = True
    assert dense.kernel.trainable is True and len(dense.trainable_weights) == 2


def test_trainable_leaves_weights_created_non_trainable_alone():
    # Keras 3.15.1: bn = layers.BatchNormalization(); bn.build((None, 3));
    #   bn.trainable = False; bn.trainable = True
    #   -> gamma True, beta True, moving_mean False, moving_variance False
    bn = layers.BatchNormalization()
    bn.build((None, 3))
    bn.trainable = False
    assert not any(v.trainable for v in bn.weights)
    bn.trainable = True
    assert [v.trainable for v in bn.weights] == [True, True, False, False]


class SumLoss(layers.Layer):
    """Adds sum(x) to the losses and passes x on."""

    def call(self, x):
        self.add_loss(cr.reduce_sum(x))
        return x


class TwoCalls(keras.Model):
    def __init__(self):
        super().__init__()
        self.a = SumLoss()
        self.d = layers.Dense(
            1, kernel_initializer="ones", kernel_regularizer=keras.regularizers.L2(0.01)
        )

    def call(self, x):
        return self.d(self.a(self.a(x)))


def test_losses_are_those_of_the_latest_outer_call_plus_regularization():
    # Keras 3.15.1 (the same model, kernel initialized by glorot there):
    #   mm(np.ones((2, 3))) -> len(mm.losses) 3: [6.0, 6.0, l2 penalty], len(mm.a.losses) 2
    #   mm(np.ones((2, 3))) again -> 3 (cleared, then added again)
    #   mm.a(np.ones((1, 3))) -> len(mm.losses) 2, len(mm.a.losses) 1
    m = TwoCalls()
    m(np.ones((2, 3)))
    assert [float(v) for v in m.losses] == pytest.approx([6.0, 6.0, 0.01 * 3])
    assert len(m.a.losses) == 2
    m(np.ones((2, 3)))
    assert len(m.losses) == 3
    m.a(np.ones((1, 3)))
    assert [float(v) for v in m.losses] == pytest.approx([3.0, 0.03])
    assert len(m.a.losses) == 1
    m.d.trainable = False  # a frozen weight's regularizer no longer counts
    assert [float(v) for v in m.losses] == pytest.approx([3.0])


def test_add_metric_is_gone_as_in_keras_3_with_what_to_do_instead():
    with pytest.raises(NotImplementedError, match="removed in Keras 3.*compile\\(metrics="):
        layers.Dense(2).add_metric(1.0, name="mean")


def test_a_functional_model_just_built_holds_no_losses_of_its_shape_samples():
    """Keras 3.15.1: keras.Model(inputs, SumLoss()(inputs)).losses is [] until a call on data;
    the samples that find the output shapes add none."""
    inputs = keras.Input((4,))
    model = keras.Model(inputs, layers.Dense(1)(SumLoss()(inputs)))
    assert model.losses == []
    model(np.ones((2, 4)))
    assert [float(v) for v in model.losses] == pytest.approx([8.0])


def test_add_loss_gradient_flows_through_the_tape():
    layer = SumLoss()
    w = cr.Variable(np.array([1.0, 2.0], np.float32))
    with cr.GradientTape() as tape:
        layer(w * w)
        (loss,) = layer.losses
    grad = tape.gradient(loss, w)
    np.testing.assert_allclose(grad.numpy(), [2.0, 4.0])  # d sum(w^2) / dw = 2w


class Affine(layers.Layer):
    """(a * w + b) * scale, built from the shapes of both tensors."""

    def build(self, a_shape, b_shape):
        self.shapes = (a_shape, b_shape)
        self.w = self.add_weight(shape=(a_shape[-1],), initializer="ones")

    def call(self, a, b, scale=1.0):
        return (a * self.w + b) * scale


def test_a_layer_takes_several_positional_and_keyword_tensors():
    # Keras 3.15.1: Affine()(np.ones((2, 3)), np.full((2, 3), 2.0), scale=np.float32(3))
    #   -> build(a_shape=(2, 3), b_shape=(2, 3)); every value 9.0
    layer = Affine()
    out = layer(np.ones((2, 3)), np.full((2, 3), 2.0), scale=np.float32(3))
    np.testing.assert_allclose(out.numpy(), np.full((2, 3), 9.0))
    assert [s[1:] for s in layer.shapes] == [(3,), (3,)]
    out = Affine()(np.ones((2, 3)), b=np.ones((2, 3)))
    np.testing.assert_allclose(out.numpy(), np.full((2, 3), 2.0))


def test_build_parameters_must_name_call_tensors():
    class Odd(layers.Layer):
        def build(self, first_shape, second_shape):
            pass

        def call(self, a, b):
            return a + b

    with pytest.raises(ValueError, match="build takes .*'_shape' appended"):
        Odd()(np.ones((1, 2)), np.ones((1, 2)))


class Probe(layers.Layer):
    def call(self, x, training=False):
        self.seen = training
        return x


class Outer(keras.Model):
    def __init__(self):
        super().__init__()
        self.probe = Probe()

    def call(self, x):
        return self.probe(x)


def test_training_is_passed_down_to_nested_calls():
    # Keras 3.15.1: a layer whose call has training=False, alone -> False; inside a model
    #   called with training=True -> True
    probe = Probe()
    probe(np.ones((1, 2)))
    assert probe.seen is False
    outer = Outer()
    outer(np.ones((1, 2)), training=True)
    assert outer.probe.seen is True
    outer(np.ones((1, 2)))
    assert outer.probe.seen is False


def test_default_build_compute_output_shape_and_compute_mask():
    # Keras 3.15.1: layers.Layer().compute_mask(x, None) -> None; (x, "m") -> "m"
    layer = layers.Layer()
    assert layer.compute_mask(np.ones(2), None) is None
    assert layer.compute_mask(np.ones(2), "m") == "m"
    assert layer.compute_output_shape((None, 4)) == (None, 4)
    layer.build((None, 4))
    assert layer.built


def test_a_layer_called_without_inputs_says_so():
    with pytest.raises(TypeError, match="called without inputs"):
        layers.Dense(1)()


def test_a_users_call_gets_integers_and_booleans_as_they_are():
    # Keras autocasts only floating inputs: a custom call receives integer ids and boolean flags
    # unchanged (Keras 3.15.1 prints int32 / float32 / bool for the three calls below)
    seen = []

    class Record(layers.Layer):
        def call(self, x):
            seen.append(x.dtype)
            return x

    Record()(np.zeros((2, 3), "int32"))
    Record()(np.zeros((2, 3), "float64"))
    Record()(np.zeros((2, 3), bool))
    assert seen == [np.int32, np.float32, np.bool_]
    # chainrule's own layers compute in floats whatever numbers they are given
    assert layers.Dense(2)(np.ones((2, 3), "int32")).dtype == np.float32


class MixedState(layers.Layer):
    """State created four ways: Variables assigned in __init__ (one frozen), add_weight in build
    (the frozen one first), a Variable assigned in build."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.a = keras.Variable(np.full((3,), 2.0), name="a", dtype="float32")
        self.n = keras.Variable(np.zeros(3), name="n", dtype="float32", trainable=False)

    def build(self, input_shape):
        self.m = self.add_weight(shape=(3,), initializer="zeros", name="m", trainable=False)
        self.b = self.add_weight(shape=(3,), initializer="zeros", name="b")
        self.c = keras.Variable(np.zeros(3), name="c", dtype="float32")

    def call(self, x):
        return x * self.a + self.b


def test_a_layers_weights_are_listed_in_kerass_tracking_order():
    # Keras 3.15.1, MixedState as above, called on ones((2, 3)):
    #   [w.name for w in l.weights] -> ['a', 'b', 'c', 'n', 'm']
    #   trainable_weights -> ['a', 'b', 'c'], non_trainable_weights -> ['n', 'm']
    #   after l.trainable = False: weights -> ['a', 'b', 'c', 'n', 'm']
    layer = MixedState()
    layer(np.ones((2, 3), "float32"))
    assert [w.name for w in layer.weights] == ["a", "b", "c", "n", "m"]
    assert [w.name for w in layer.trainable_weights] == ["a", "b", "c"]
    assert [w.name for w in layer.non_trainable_weights] == ["n", "m"]
    values = [np.full(3, float(i)) for i in range(5)]
    layer.set_weights(values)
    np.testing.assert_array_equal(layer.a.numpy(), values[0])  # not swapped with b
    np.testing.assert_array_equal(layer.m.numpy(), values[4])
    layer.trainable = False
    assert [w.name for w in layer.weights] == ["a", "b", "c", "n", "m"]
    layer.trainable = True
    assert [w.name for w in layer.trainable_weights] == ["a", "b", "c"]


def test_items_put_in_held_lists_later_take_their_place_in_the_order():
    # Keras 3.15.1: a list assigned empty in __init__ and filled in build comes after the
    # layers assigned before the fill, and add_weight after what the lists held by then:
    #   [w.name for w in l.weights][:3] -> ['v0', 'v1', 'w'];
    #   l._layers names -> ['head', 'blk0', 'tail']
    class Late(layers.Layer):
        def __init__(self):
            super().__init__()
            self.blocks = []
            self.head = layers.Dense(2, name="head")
            self.vs = [keras.Variable(np.zeros(1), name="v0", dtype="float32")]

        def build(self, input_shape):
            self.blocks.append(layers.Dense(3, name="blk0"))
            self.vs.append(keras.Variable(np.zeros(1), name="v1", dtype="float32"))
            self.w = self.add_weight(shape=(1,), name="w")
            self.tail = layers.Dense(2, name="tail")

        def call(self, x):
            return self.tail(self.head(self.blocks[0](x)))

    layer = Late()
    layer(np.ones((2, 3), "float32"))
    assert [w.name for w in layer.weights][:3] == ["v0", "v1", "w"]
    assert [sub.name for sub in layer._sublayers()] == ["head", "blk0", "tail"]
    kernels = [w.shape for w in layer.weights if w.name == "kernel"]
    assert kernels == [(3, 2), (3, 3), (2, 2)]  # head's, blk0's, tail's


def test_calling_build_directly_marks_the_layer_built():
    # Keras 3.15.1 wraps every build: l.build((None, 8)) -> l.built True,
    # l.get_build_config() -> {'input_shape': (None, 8)}; a later call builds nothing more:
    # len(l.weights) 1, the same w
    class Ones(layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], 2), initializer="ones")

        def call(self, x):
            return x @ self.w

    layer = Ones()
    layer.build((None, 8))
    assert layer.built
    assert layer.get_build_config() == {"input_shape": (None, 8)}
    w = layer.w
    np.testing.assert_array_equal(layer(np.ones((2, 8), "float32")).numpy(), np.full((2, 2), 8.0))
    assert len(layer.weights) == 1 and layer.w is w


def test_a_subclass_build_calling_super_build_may_add_weights_after_it():
    # Keras 3.15.1: class D2(Dense) whose build calls super().build(s) then add_weight("extra")
    #   -> weights ['kernel', 'bias', 'extra'], built True
    class Extra(layers.Dense):
        def build(self, input_shape):
            super().build(input_shape)
            self.extra = self.add_weight(shape=(1,), initializer="ones", name="extra")

    layer = Extra(2)
    layer(np.ones((1, 3), "float32"))
    assert [w.name for w in layer.weights] == ["kernel", "bias", "extra"] and layer.built


LOCKED = "You cannot add new elements of state \\(variables or sub-layers\\) to a layer that is "


def test_new_state_after_the_build_is_refused_as_keras_does():
    # Keras 3.15.1: a weight, a Variable or a sublayer created in call() of a built layer ->
    #   ValueError "... You cannot add new elements of state (variables or sub-layers) to a
    #   layer that is already built. All state must be created in the `__init__()` method or in
    #   the `build()` method."; so does assigning a new Variable to a built Dense, and a second
    #   build of it
    class LateWeight(layers.Layer):
        def call(self, x):
            if not hasattr(self, "v"):
                self.v = self.add_weight(shape=(1,), initializer="ones")
            return x * self.v

    class LateLayer(layers.Layer):
        def call(self, x):
            if not hasattr(self, "d"):
                self.d = layers.Dense(2)
            return self.d(x)

    for late in (LateWeight(), LateLayer()):
        with pytest.raises(ValueError, match=LOCKED + "already built. All state must be"):
            late(np.ones((1, 2), "float32"))
    dense = layers.Dense(2)
    dense.build((None, 3))
    with pytest.raises(ValueError, match=LOCKED):
        dense.extra = keras.Variable(1.0)
    with pytest.raises(ValueError, match=LOCKED):
        dense.build((None, 3))
    dense.kernel = dense.kernel  # the same state again is no new state


def test_a_layers_first_input_may_be_passed_by_the_name_of_calls_first_parameter():
    # Keras 3.15.1: for call(self, logits, targets=None), Double()(logits=x).shape -> (2, 3);
    # Double()(logits=x, targets=x)[0, 0] -> 3.0; Double()(targets=x) -> TypeError "missing a
    # required argument: 'logits'"
    class Double(layers.Layer):
        def call(self, logits, targets=None):
            return logits * 2.0 if targets is None else logits * 2.0 + targets

    x = np.ones((2, 3), "float32")
    assert Double()(logits=x).shape == (2, 3)
    assert float(Double()(logits=x, targets=x).numpy()[0, 0]) == 3.0
    with pytest.raises(TypeError, match="layer\\(logits=x\\)"):
        Double()(targets=x)


def test_add_loss_refuses_a_symbolic_tensor():
    # Keras 3.15.1: keras.layers.Dense(2).add_loss(ops.mean(keras.Input((4,)))) -> ValueError
    # "`add_loss()` can only be called from inside `build()` or `call()`, on a tensor input.
    # Received invalid value: <KerasTensor ...>"
    symbolic = keras.ops.mean(keras.Input((4,)))
    with pytest.raises(ValueError, match="can only be called from inside `build\\(\\)` or"):
        layers.Dense(2).add_loss(symbolic)


def test_input_shape_on_a_layer_warns_as_keras_does():
    # Keras 3.15.1 warns once at construction, for input_shape= and input_dim=, wherever the
    # layer goes: "Do not pass an `input_shape`/`input_dim` argument to a layer. When using
    # Sequential models, prefer using an `Input(shape)` object as the first layer in the model
    # instead."; the article's Sequential([Dense(10, activation='relu', input_shape=(784,)),
    # Dense(10, activation='softmax')]) warns once and is built: input_shape (None, 784),
    # 4 weights. keras.Input and InputLayer do not warn.
    message = "Do not pass an `input_shape`/`input_dim` argument to a layer"
    with pytest.warns(UserWarning, match=message) as caught:
        model = keras.Sequential(
            [
                layers.Dense(10, activation="relu", input_shape=(784,)),
                layers.Dense(10, activation="softmax"),
            ]
        )
    assert len(caught) == 1
    assert model.built and model.input_shape == (None, 784) and len(model.weights) == 4
    with pytest.warns(UserWarning, match=message):
        layers.Dense(2, input_dim=3)
    with pytest.warns(UserWarning, match=message):
        keras.Sequential([layers.Dense(3), layers.Dense(2, input_shape=(3,))])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        keras.Input((3,))
        layers.InputLayer(shape=(3,))


def test_get_config_gives_the_dtype_as_keras_does_and_the_constructor_takes_it_back():
    # Keras 3.15.1: a layer's get_config()["dtype"] is its DTypePolicy's description (an
    # InputLayer's the plain name), and the usual custom from_config, cls(**config), works
    policy = {
        "module": "keras",
        "class_name": "DTypePolicy",
        "config": {"name": "float64"},
        "registered_name": None,
    }
    assert layers.Dense(2, dtype="float64").get_config()["dtype"] == policy
    assert layers.InputLayer(shape=(3,)).get_config()["dtype"] == "float32"

    class Scaled(layers.Layer):
        def __init__(self, factor=2.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def get_config(self):
            return {**super().get_config(), "factor": self.factor}

        @classmethod
        def from_config(cls, config):
            return cls(**config)

    again = Scaled.from_config(Scaled(3.0, dtype="float64", name="s").get_config())
    assert (again.dtype, again.factor, again.name) == (np.float64, 3.0, "s")
    assert layers.Dense(2, dtype=policy).dtype == np.float64


def test_prelu_config_keeps_its_regularizer_and_constraint_as_keras_writes_them(tmp_path):
    # Keras 3.15.1: PReLU(alpha_regularizer="l2", alpha_constraint="non_neg").get_config()
    #   [..., "alpha_regularizer"] -> {"module": "keras.regularizers", "class_name": "L2",
    #   "config": {"l2": 0.01}, "registered_name": None}; "alpha_constraint" -> NonNeg's
    layer = layers.PReLU(alpha_regularizer="l2", alpha_constraint="non_neg")
    config = layer.get_config()
    assert config["alpha_regularizer"] == {
        "module": "keras.regularizers",
        "class_name": "L2",
        "config": {"l2": 0.01},
        "registered_name": None,
    }
    assert config["alpha_constraint"]["class_name"] == "NonNeg"
    assert layers.PReLU().get_config()["alpha_regularizer"] is None
    model = keras.Sequential([keras.Input((3,)), layer])
    model.save(tmp_path / "p.keras")
    loaded = keras.models.load_model(tmp_path / "p.keras").layers[0]
    loaded.alpha.assign(-np.ones((3,), np.float32))
    assert float(loaded.losses[0].numpy()) == pytest.approx(0.01 * 3)  # l2 * sum(alpha**2)
    assert type(loaded.alpha.constraint).__name__ == "NonNeg"


def test_spatial_dropout_configs_give_the_plain_dtype_name_as_keras():
    # Keras 3.15.1: SpatialDropout2D(0.1).get_config() -> {"rate": 0.1, "seed": None, "name":
    #   "spatial_dropout2d", "dtype": "float32", "data_format": "channels_last"}
    config = layers.SpatialDropout2D(0.1, name="s").get_config()
    assert config == {
        "rate": 0.1,
        "seed": None,
        "name": "s",
        "dtype": "float32",
        "data_format": "channels_last",
    }
    assert layers.SpatialDropout1D(0.1).get_config()["dtype"] == "float32"
