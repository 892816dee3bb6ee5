"""Configs as Keras 3 writes them: regularizers and constraints of layers in their own modules'
form, gamma/beta options of the normalization layers, and SeedGenerator's config."""

import numpy as np
import pytest

import chainrule.keras as keras


def test_conv_layers_write_regularizers_and_constraints_in_their_modules():
    layer = keras.layers.Conv2D(
        2,
        3,
        kernel_regularizer=keras.regularizers.L2(0.1),
        activity_regularizer="l1",
        bias_constraint=keras.constraints.NonNeg(),
    )
    config = layer.get_config()
    # Keras 3.15.1: keras.regularizers.serialize(keras.regularizers.L2(0.1))
    assert config["kernel_regularizer"] == {
        "module": "keras.regularizers",
        "class_name": "L2",
        "config": {"l2": 0.1},
        "registered_name": None,
    }
    assert config["activity_regularizer"]["module"] == "keras.regularizers"
    assert config["bias_constraint"]["module"] == "keras.constraints"
    separable = keras.layers.SeparableConv2D(2, 3, pointwise_regularizer="l2").get_config()
    assert separable["pointwise_regularizer"]["module"] == "keras.regularizers"


def test_initializers_serialize_refuses_other_objects():
    with pytest.raises(TypeError, match="initializers.serialize: expected a keras.initializers"):
        keras.initializers.serialize(keras.regularizers.L2(0.1))


def test_custom_regularizer_round_trips_through_a_file(tmp_path):
    @keras.saving.register_keras_serializable(package="followups")
    class Scaled(keras.regularizers.Regularizer):
        def __init__(self, scale=0.1):
            self.scale = scale

        def __call__(self, weight):
            return self.scale * keras.ops.sum(weight * weight)

        def get_config(self):
            return {"scale": self.scale}

    config = keras.regularizers.serialize(Scaled(0.3))
    assert config["registered_name"] == "followups>Scaled"
    assert config["module"] == Scaled.__module__
    model = keras.Sequential(
        [keras.Input((5, 5, 1)), keras.layers.Conv2D(2, 3, kernel_regularizer=Scaled(0.3))]
    )
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    assert isinstance(loaded.layers[0].kernel_regularizer, Scaled)
    assert loaded.layers[0].kernel_regularizer.scale == 0.3


def test_normalization_configs_hold_gamma_and_beta_options():
    # Keras 3.15.1: BatchNormalization(gamma_regularizer="l2").get_config() has
    # beta_regularizer None, gamma_regularizer L2(l2=0.01), beta/gamma_constraint None;
    # LayerNormalization().get_config() has the four keys, all None.
    config = keras.layers.BatchNormalization(gamma_regularizer="l2").get_config()
    assert config["gamma_regularizer"] == {
        "module": "keras.regularizers",
        "class_name": "L2",
        "config": {"l2": 0.01},
        "registered_name": None,
    }
    assert config["beta_regularizer"] is None
    assert config["beta_constraint"] is None and config["gamma_constraint"] is None
    layer_norm = keras.layers.LayerNormalization(beta_constraint="non_neg").get_config()
    assert layer_norm["beta_constraint"]["class_name"] == "NonNeg"
    for key in ("beta_regularizer", "gamma_regularizer", "gamma_constraint"):
        assert layer_norm[key] is None
    rebuilt = keras.layers.BatchNormalization.from_config(config)
    assert isinstance(rebuilt.gamma_regularizer, keras.regularizers.L2)


def test_seed_generator_config_as_keras():
    # Keras 3.15.1: SeedGenerator(42).get_config() == {"seed": 42, "name": "seed_generator"};
    # SeedGenerator(7, name="sg") -> {"seed": 7, "name": "sg"}; SeedGenerator() -> seed None.
    assert keras.random.SeedGenerator(7, name="sg").get_config() == {"seed": 7, "name": "sg"}
    config = keras.random.SeedGenerator().get_config()
    assert config["seed"] is None and config["name"].startswith("seed_generator")
    first = keras.random.SeedGenerator(3)
    again = keras.random.SeedGenerator.from_config(first.get_config())
    assert again.name == first.name
    np.testing.assert_array_equal(
        keras.random.normal((3,), seed=first).numpy(), keras.random.normal((3,), seed=again).numpy()
    )
