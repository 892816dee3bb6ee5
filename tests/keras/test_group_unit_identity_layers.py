"""GroupNormalization, RMSNormalization, UnitNormalization and Identity: closed forms written
here in NumPy, float64 finite-difference gradients, Keras 3.15.1's configs and errors, saving,
and outputs against ``tests/fixtures/keras/normalization_layers.npz``, which Keras 3.15.1 (JAX
backend) computed with ``make_normalization_layers.py`` beside it (whose ``outputs`` runs here
with chainrule.keras).
"""

import importlib.util
import pathlib

import numpy as np
import pytest

import chainrule as cr
from chainrule import keras
from chainrule.keras import layers

FIXTURES = pathlib.Path(__file__).parent.parent / "fixtures" / "keras"
_spec = importlib.util.spec_from_file_location(
    "make_normalization_layers", FIXTURES / "make_normalization_layers.py"
)
SCRIPT = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(SCRIPT)
KERAS = np.load(FIXTURES / "normalization_layers.npz")

rng = np.random.default_rng(7)


def group_norm(x, groups, axis, gamma, beta, epsilon=1e-3):
    """The textbook group normalization: channels split into groups along ``axis``, each
    group normalized over its channels and every non-batch axis; gamma and beta (C,)."""
    x = np.moveaxis(x, axis, -1)
    n, channels = x.shape[0], x.shape[-1]
    grouped = x.reshape(n, -1, groups, channels // groups)
    mean = grouped.mean(axis=(1, 3), keepdims=True)
    variance = grouped.var(axis=(1, 3), keepdims=True)
    y = ((grouped - mean) / np.sqrt(variance + epsilon)).reshape(x.shape) * gamma + beta
    return np.moveaxis(y, -1, axis)


@pytest.mark.parametrize(
    "shape, groups, axis",
    [((2, 5, 4, 6), 3, -1), ((2, 5, 4, 6), -1, -1), ((2, 5, 4, 6), 1, -1), ((3, 6, 5), 2, 1)],
)
def test_group_normalization_equals_the_closed_form(shape, groups, axis):
    x = rng.normal(size=shape).astype(np.float32) * 3 + 1
    layer = layers.GroupNormalization(groups=groups, axis=axis)
    layer(x)
    gamma, beta = (rng.normal(size=w.shape).astype(np.float32) for w in layer.weights)
    layer.set_weights([gamma, beta])
    channels = shape[axis]
    count = groups if groups > 0 else channels
    expected = group_norm(x.astype(np.float64), count, axis, gamma, beta)
    np.testing.assert_allclose(layer(x).numpy(), expected, atol=2e-6)
    assert layer.groups == (groups if groups > 0 else channels)
    assert [w.path.split("/")[-1] for w in layer.weights] == ["gamma", "beta"]


def test_group_normalization_gradients_match_finite_differences():
    layer = layers.GroupNormalization(groups=2, dtype="float64")
    x = rng.normal(size=(2, 3, 4))
    layer(x)

    def fn(x, gamma, beta):
        layer.gamma, layer.beta = gamma, beta
        return layer(x)

    gamma, beta = rng.normal(size=4), rng.normal(size=4)
    assert cr.gradcheck(fn, x, gamma, beta, atol=1e-6, rtol=1e-5) < 1e-4
    plain = layers.GroupNormalization(groups=4, axis=1, center=False, scale=False, dtype="float64")
    assert cr.gradcheck(lambda x: plain(x), rng.normal(size=(2, 4, 3)), atol=1e-6) < 1e-4
    assert plain.weights == []


def test_group_normalization_refuses_groups_that_do_not_divide_the_channels():
    with pytest.raises(ValueError, match="expected a positive integer"):
        layers.GroupNormalization(groups=0)
    with pytest.raises(ValueError, match=r"Number of groups \(4\) must be a multiple"):
        layers.GroupNormalization(groups=4)(np.ones((2, 6), np.float32))
    with pytest.raises(ValueError, match=r"cannot be more than the number of channels \(3\)"):
        layers.GroupNormalization(groups=4)(np.ones((2, 3), np.float32))


def test_unit_normalization_scales_to_unit_norm_and_keeps_zeros():
    x = rng.normal(size=(2, 3, 4)).astype(np.float32)
    y = layers.UnitNormalization(axis=[1, 2])(x).numpy()
    np.testing.assert_allclose(y, x / np.sqrt((x**2).sum(axis=(1, 2), keepdims=True)), rtol=1e-6)
    np.testing.assert_allclose(np.sqrt((y**2).sum(axis=(1, 2))), 1.0, rtol=1e-6)
    assert np.all(layers.UnitNormalization()(np.zeros((2, 3), np.float32)).numpy() == 0)
    unit = layers.UnitNormalization(dtype="float64")
    assert cr.gradcheck(lambda x: unit(x), rng.normal(size=(3, 4))) < 1e-4
    with pytest.raises(TypeError, match="expected an int or a list/tuple of ints"):
        layers.UnitNormalization(axis="last")


def test_identity_passes_its_input_and_gradient_through():
    x = rng.normal(size=(2, 3)).astype(np.float32)
    layer = layers.Identity()
    assert layer.built and layer.weights == []
    np.testing.assert_array_equal(layer(x).numpy(), x)
    wide = layers.Identity(dtype="float64")
    assert cr.gradcheck(lambda x: wide(x) * x, x.astype(np.float64)) < 1e-4


def test_configs_equal_keras_and_a_model_of_them_saves_and_loads(tmp_path):
    # Keras 3.15.1: UnitNormalization().get_config() -> {"name", "trainable", "dtype", "axis": -1};
    # GroupNormalization() adds groups 32, axis -1, epsilon 0.001, center, scale and gamma's and
    # beta's initializers, regularizers and constraints; Identity() only the first three
    unit = layers.UnitNormalization(name="u").get_config()
    assert list(unit) == ["name", "trainable", "dtype", "axis"] and unit["axis"] == -1
    group = layers.GroupNormalization(name="g").get_config()
    assert {k: group[k] for k in ("groups", "axis", "epsilon", "center", "scale")} == {
        "groups": 32,
        "axis": -1,
        "epsilon": 0.001,
        "center": True,
        "scale": True,
    }
    assert group["gamma_initializer"]["class_name"] == "Ones"
    assert list(layers.Identity(name="i").get_config()) == ["name", "trainable", "dtype"]
    model = keras.Sequential(
        [
            keras.Input((4, 6)),
            layers.GroupNormalization(groups=3),
            layers.Identity(),
            layers.UnitNormalization(),
        ]
    )
    x = rng.normal(size=(2, 4, 6)).astype(np.float32)
    model.layers[0].set_weights([rng.normal(size=6).astype(np.float32) for _ in range(2)])
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_rms_normalization_equals_the_closed_form_and_keras_config():
    x = rng.normal(size=(2, 3, 4)).astype(np.float32)
    layer = layers.RMSNormalization(axis=[2, 1], name="r")
    assert layer.get_config()["axis"] == [2, 1]
    layer(x)
    # Keras 3.15.1 keeps the built axis sorted, and a scale of the axes' shape
    assert layer.get_config() | {"dtype": None} == {
        "name": "r",
        "trainable": True,
        "dtype": None,
        "axis": [1, 2],
        "epsilon": 1e-6,
    }
    assert [(w.path, w.shape) for w in layer.weights] == [("r/scale", (3, 4))]
    scale = rng.normal(size=(3, 4)).astype(np.float32)
    layer.set_weights([scale])
    x64 = x.astype(np.float64)
    expected = x64 / np.sqrt((x64**2).mean(axis=(1, 2), keepdims=True) + 1e-6) * scale
    np.testing.assert_allclose(layer(x).numpy(), expected, rtol=2e-6)
    wide = layers.RMSNormalization(dtype="float64")
    wide(x64)

    def fn(x, scale):
        wide.scale = scale
        return wide(x)

    assert cr.gradcheck(fn, x64, rng.normal(size=4)) < 1e-4


@pytest.mark.parametrize("case", sorted(SCRIPT.CASES))
def test_outputs_equal_keras(case):
    _, y = SCRIPT.outputs(keras, case)
    np.testing.assert_allclose(y, KERAS[case], atol=1e-6)


def test_inputs_that_do_not_fit_get_errors_naming_the_layer():
    rms = layers.RMSNormalization(name="rms")
    rms(np.ones((2, 3, 4), np.float32))
    with pytest.raises(ValueError, match=r'layer "rms".*sizes \(4,\)'):
        rms(np.ones((2, 3, 5), np.float32))
    with pytest.raises(ValueError, match=r'"unit" \(UnitNormalization\): axis 3 is out of bounds'):
        layers.UnitNormalization(axis=3, name="unit")(np.ones((2, 3), np.float32))
    group = layers.GroupNormalization(groups=2, name="g")
    group(np.ones((2, 4), np.float32))
    with pytest.raises(ValueError, match='layer "g"'):
        group(np.ones((2, 6), np.float32))
