"""The user's own classes and functions in files: registered, scoped or passed at load time,
and nothing else (Keras 3's keras.saving object registration API)."""

import numpy as np
import pytest

pytest.importorskip("h5py")

from chainrule import keras  # noqa: E402
from chainrule.keras import layers, saving  # noqa: E402
from chainrule.keras.saving import FileFormatError  # noqa: E402
from chainrule.keras.saving.serialization import (  # noqa: E402
    deserialize_keras_object,
    serialize_keras_object,
)


class Scale(layers.Layer):
    """y = factor * x (a custom layer with a config)."""

    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, x):
        return x * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


def model_with(layer):
    model = keras.Sequential([keras.Input((3,)), layer, layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    return model


@pytest.fixture
def registered():
    """Register classes for one test and forget them afterwards."""
    table = saving.get_custom_objects()
    before = dict(table)
    yield
    table.clear()
    table.update(before)


def test_a_registered_class_is_written_with_its_registered_name(registered):
    cls = saving.register_keras_serializable(package="demo")(type("Halve", (Scale,), {}))
    assert saving.get_registered_name(cls) == "demo>Halve"
    assert saving.get_registered_object("demo>Halve") is cls
    assert saving.get_custom_objects()["demo>Halve"] is cls
    config = serialize_keras_object(cls(0.5))
    assert config["registered_name"] == "demo>Halve"
    assert config["class_name"] == "Halve"
    rebuilt = deserialize_keras_object(config)
    assert type(rebuilt) is cls and rebuilt.factor == 0.5


def test_a_class_of_the_main_script_is_written_without_a_module_as_keras_does(tmp_path, registered):
    """Keras writes "module": None for a class defined in __main__ (a script's own layer), and
    loading finds it by its registered name or in custom_objects."""
    script_layer = type("Quadruple", (Scale,), {"__module__": "__main__"})
    assert serialize_keras_object(script_layer(4.0))["module"] is None
    registered_layer = saving.register_keras_serializable(package="demo")(
        type("Quintuple", (Scale,), {"__module__": "__main__"})
    )
    config = serialize_keras_object(registered_layer(5.0))
    assert config["module"] is None and config["registered_name"] == "demo>Quintuple"
    assert deserialize_keras_object(config).factor == 5.0
    assert serialize_keras_object(Scale(2.0))["module"] == __name__  # an imported module's name
    model_with(script_layer(4.0)).save(tmp_path / "m.keras")
    loaded = saving.load_model(tmp_path / "m.keras", custom_objects={"Quadruple": script_layer})
    assert type(loaded.layers[0]) is script_layer and loaded.layers[0].factor == 4.0


def test_registering_twice_or_a_class_without_config_is_refused(registered):
    saving.register_keras_serializable(package="demo", name="Twice")(Scale)
    with pytest.raises(ValueError, match="demo>Twice has already been registered"):
        saving.register_keras_serializable(package="demo", name="Twice")(Scale)
    with pytest.raises(ValueError, match="a class needs a get_config"):
        saving.register_keras_serializable()(type("Plain", (), {}))


def test_a_model_with_a_registered_layer_round_trips(tmp_path, registered):
    cls = saving.register_keras_serializable(package="demo")(type("Triple", (Scale,), {}))
    model = model_with(cls(3.0))
    x = np.random.default_rng(0).normal(size=(4, 3)).astype("float32")
    model.save(tmp_path / "m.keras")
    loaded = saving.load_model(tmp_path / "m.keras")
    assert type(loaded.layers[0]) is cls and loaded.layers[0].factor == 3.0
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_an_unregistered_layer_loads_only_inside_a_scope_or_with_custom_objects(tmp_path):
    model_with(Scale(4.0)).save(tmp_path / "m.keras")
    with pytest.raises(FileFormatError, match="register_keras_serializable"):
        saving.load_model(tmp_path / "m.keras")
    with saving.custom_object_scope({"Scale": Scale}):
        assert saving.get_registered_object("Scale") is Scale
        assert saving.load_model(tmp_path / "m.keras").layers[0].factor == 4.0
    assert saving.get_registered_object("Scale") is None
    loaded = saving.load_model(tmp_path / "m.keras", custom_objects={"Scale": Scale})
    assert loaded.layers[0].factor == 4.0


def test_scopes_nest_and_the_inner_one_wins():
    class Other(Scale):
        pass

    with saving.CustomObjectScope({"Scale": Scale}):
        with saving.custom_object_scope({"Scale": Other}):
            assert saving.get_registered_object("Scale") is Other
        assert saving.get_registered_object("Scale") is Scale
    with pytest.raises(TypeError, match="takes dicts of"):
        saving.custom_object_scope(["Scale"])


def test_a_registered_loss_function_round_trips(tmp_path, registered):
    @saving.register_keras_serializable(package="demo")
    def doubled_mse(y_true, y_pred):
        return 2.0 * keras.losses.mean_squared_error(y_true, y_pred)

    # as Keras 3.15 writes a registered function (in a compile_config too)
    assert serialize_keras_object(doubled_mse) == {
        "module": "builtins",
        "class_name": "function",
        "config": "demo>doubled_mse",
        "registered_name": "function",
    }
    model = keras.Sequential([keras.Input((3,)), layers.Dense(2)])
    model.compile(optimizer="sgd", loss=doubled_mse)
    model.save(tmp_path / "m.keras")
    assert saving.load_model(tmp_path / "m.keras").loss is doubled_mse


def test_a_registered_activation_is_written_as_keras_does_and_loads_and_clones(
    tmp_path, registered
):
    # as Keras 3.15: Dense's config holds the function's description, by its registered name;
    # load_model and clone_model find it in the registry
    @saving.register_keras_serializable(package="my_package", name="custom_fn")
    def custom_fn(x):
        return x**2

    inputs = keras.Input(shape=(4,))
    model = keras.Model(inputs, layers.Dense(2, activation=custom_fn)(inputs))
    assert model.layers[1].get_config()["activation"] == {
        "module": "builtins",
        "class_name": "function",
        "config": "my_package>custom_fn",
        "registered_name": "function",
    }
    model.save(tmp_path / "m.keras")
    x = np.random.default_rng(1).normal(size=(3, 4)).astype("float32")
    for copy in (saving.load_model(tmp_path / "m.keras"), keras.models.clone_model(model)):
        assert copy.layers[1].activation is custom_fn
    loaded = saving.load_model(tmp_path / "m.keras", custom_objects={"custom_fn": custom_fn})
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_an_unregistered_activation_loads_with_custom_objects_or_in_a_scope(tmp_path):
    # as Keras 3.15: written by its bare name, found only where the caller passes it
    def doubled(x):
        return 2.0 * x

    inputs = keras.Input(shape=(3,))
    model = keras.Model(inputs, layers.Dense(2, activation=doubled)(inputs))
    model.save(tmp_path / "m.keras")
    with pytest.raises(FileFormatError, match="custom_objects=\\{'doubled'"):
        saving.load_model(tmp_path / "m.keras")
    with pytest.raises(ValueError, match="Unknown function 'doubled'"):  # Keras: a TypeError
        keras.models.clone_model(model)
    loaded = saving.load_model(tmp_path / "m.keras", custom_objects={"doubled": doubled})
    assert loaded.layers[1].activation is doubled
    with saving.custom_object_scope({"doubled": doubled}):
        assert saving.load_model(tmp_path / "m.keras").layers[1].activation is doubled
        assert keras.models.clone_model(model).layers[1].activation is doubled
