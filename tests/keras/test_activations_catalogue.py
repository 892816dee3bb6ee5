"""keras.activations: every name of Keras 3's module, its values (Keras's docstring examples and
values computed with real Keras 3.15.1 on the JAX backend), and get / serialize / deserialize."""

import inspect
import math

import numpy as np
import pytest

import chainrule as cr
import chainrule.keras as keras
from chainrule.engine import Tensor

activations = keras.activations

# public names of keras.activations in real Keras 3.15.1
KERAS_NAMES = (
    "celu deserialize elu exponential gelu get glu hard_shrink hard_sigmoid hard_silu hard_swish "
    "hard_tanh leaky_relu linear log_sigmoid log_softmax mish relu relu6 selu serialize sigmoid "
    "silu soft_shrink softmax softplus softsign sparse_plus sparse_sigmoid sparsemax squareplus "
    "swish tanh tanh_shrink threshold"
).split()
FUNCTIONS = [n for n in KERAS_NAMES if n not in ("get", "serialize", "deserialize")]
X3 = np.array([-1.0, 0.0, 1.0], dtype="float32")


def test_every_name_is_there_with_keras_signature():
    assert len(KERAS_NAMES) == 35
    for name in KERAS_NAMES:
        assert callable(getattr(activations, name)), name
    assert list(inspect.signature(activations.relu).parameters) == [
        "x",
        "negative_slope",
        "max_value",
        "threshold",
    ]
    assert inspect.signature(activations.gelu).parameters["approximate"].default is False
    assert inspect.signature(activations.squareplus).parameters["b"].default == 4


def test_activations_are_the_ops_functions_where_keras_signatures_agree():
    for name in ["elu", "celu", "glu", "selu", "softplus", "sparsemax", "threshold", "relu6"]:
        assert getattr(activations, name) is getattr(keras.ops.nn, name)
    assert activations.swish is activations.silu
    assert activations.hard_swish is activations.hard_silu


def test_relu_options_match_keras_docstring():
    x = np.array([-10, -5, 0.0, 5, 10], dtype="float32")
    np.testing.assert_array_equal(activations.relu(x).numpy(), [0, 0, 0, 5, 10])
    np.testing.assert_array_equal(
        activations.relu(x, negative_slope=0.5).numpy(), [-5, -2.5, 0, 5, 10]
    )
    np.testing.assert_array_equal(activations.relu(x, max_value=5.0).numpy(), [0, 0, 0, 5, 5])
    np.testing.assert_array_equal(activations.relu(x, threshold=5.0).numpy(), [0, 0, 0, 0, 10])
    # real Keras: relu(x, negative_slope=0.5, max_value=5., threshold=1.)
    np.testing.assert_array_equal(
        activations.relu(x, negative_slope=0.5, max_value=5.0, threshold=1.0).numpy(),
        [-5.5, -3.0, -0.5, 5.0, 5.0],
    )


# real Keras: print(np.asarray(keras.activations.NAME(np.array([-1., 0., 1.], "float32"))).tolist())
REAL_KERAS_VALUES = {
    "exponential": [0.36787945, 1.0, 2.7182817],
    "mish": [-0.30340144, 0.0, 0.86509848],
    "tanh": [-0.76159418, 0.0, 0.76159418],
    "linear": [-1.0, 0.0, 1.0],
    "gelu": [-0.15865527, 0.0, 0.84134471],  # the exact form by default
    "hard_sigmoid": [0.33333334, 0.5, 0.6666667],
    "sigmoid": [0.26894142, 0.5, 0.7310586],
    "softmax": [0.09003057, 0.24472847, 0.66524096],
    "log_softmax": [-2.40760596, -1.40760596, -0.40760596],
    "elu": [-0.63212055, 0.0, 1.0],
    "selu": [-1.11133055, 0.0, 1.05070098],
    "leaky_relu": [-0.2, 0.0, 1.0],
    "silu": [-0.26894142, 0.0, 0.7310586],
    "softsign": [-0.5, 0.0, 0.5],
    "squareplus": [0.618034, 1.0, 1.618034],
    "sparse_plus": [0.0, 0.25, 1.0],
    "sparsemax": [0.0, 0.0, 1.0],
}


@pytest.mark.parametrize("name", sorted(REAL_KERAS_VALUES))
def test_values(name):
    y = getattr(activations, name)(X3)
    np.testing.assert_allclose(np.asarray(y), REAL_KERAS_VALUES[name], rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_every_activation_runs_and_differentiates(name):
    fn = getattr(activations, name)
    x = np.array([[-2.3, -0.7, 0.4, 1.2], [0.9, 1.7, 3.1, -1.4]])  # away from every kink
    args = (1.0, 0.0) if name == "threshold" else ()
    y = fn(Tensor(x), *args)
    assert y.shape == ((2, 2) if name == "glu" else (2, 4))
    if name != "linear":
        cr.gradcheck(lambda a: fn(a, *args), x)


def test_mish_closed_form():
    x = np.linspace(-3, 3, 7)
    expected = x * np.tanh(np.log1p(np.exp(x)))
    np.testing.assert_allclose(activations.mish(x).numpy(), expected, rtol=1e-12)


def test_softmax_and_sigmoid_outputs_remember_their_logits():
    x = Tensor(np.array([[1.0, 2.0, 0.5]]))
    assert activations.softmax(x)._keras_logits is x
    assert activations.sigmoid(x)._keras_logits is x
    assert getattr(activations.softmax(x, axis=0), "_keras_logits", None) is None


def test_get_serialize_deserialize():
    for name in FUNCTIONS:
        fn = activations.get(name)
        assert activations.deserialize(activations.serialize(fn)) is fn
    assert activations.get(None) is activations.linear
    assert activations.get("swish") is activations.silu
    assert activations.serialize(activations.swish) == "silu"  # as in Keras
    assert activations.serialize(activations.hard_swish) == "hard_silu"
    assert activations.get("ReLU") is activations.relu
    custom = lambda x: x * 2  # noqa: E731
    assert activations.get(custom) is custom
    keras_form = {
        "module": "keras.activations",
        "class_name": "function",
        "config": "gelu",
        "registered_name": "gelu",
    }
    assert activations.deserialize(keras_form) is activations.gelu
    assert activations.get(keras_form) is activations.gelu
    assert activations.deserialize("double", custom_objects={"double": custom}) is custom
    with pytest.raises(ValueError, match="Unknown activation: 'rleu'"):
        activations.get("rleu")
    with pytest.raises(ValueError, match="deserialize: expects an activation's name"):
        activations.deserialize(3)


def test_gelu_activation_default_is_exact():
    x = np.array([-1.0, 0.5, 2.0])
    exact = [v * 0.5 * (1 + math.erf(v / math.sqrt(2))) for v in x]
    np.testing.assert_allclose(activations.gelu(x).numpy(), exact, rtol=1e-12)


@pytest.fixture
def registered():
    """Register objects for one test and forget them afterwards."""
    table = keras.saving.get_custom_objects()
    before = dict(table)
    yield
    table.clear()
    table.update(before)


def test_a_users_activation_is_written_as_keras_3_writes_it(registered):
    # as Keras 3.15: every function of the user's is "builtins"/"function", named in "config"
    # by its registered name, else by its own
    @keras.saving.register_keras_serializable(package="my_package", name="sq")
    def registered_fn(x):
        return x * x

    def squared(x):
        return x * x

    assert activations.serialize(registered_fn) == {
        "module": "builtins",
        "class_name": "function",
        "config": "my_package>sq",
        "registered_name": "function",
    }
    assert activations.serialize(squared) == {
        "module": "builtins",
        "class_name": "function",
        "config": "squared",
        "registered_name": "function",
    }
    assert activations.name_of(squared) == "squared"
    assert activations.name_of(activations.swish) == "silu"


def test_a_users_activation_is_found_by_registry_scope_or_custom_objects(registered):
    # as Keras 3.15: get/deserialize of the description find a registered function, and one of
    # custom_objects or an open custom_object_scope by its bare name; get of a bare name knows
    # only Keras's own (a ValueError, "Could not interpret activation function identifier").
    # An unknown function's description is a ValueError naming it here (Keras: a TypeError,
    # "Could not locate function 'doubled'").
    @keras.saving.register_keras_serializable(package="my_package", name="custom_fn")
    def squared(x):
        return x * x

    described = activations.serialize(squared)
    assert activations.get(described) is squared
    assert activations.deserialize(described) is squared
    assert activations.deserialize("my_package>custom_fn") is squared
    with pytest.raises(ValueError, match="Unknown activation"):
        activations.get("my_package>custom_fn")

    def doubled(x):
        return 2 * x

    plain = activations.serialize(doubled)
    with pytest.raises(ValueError, match="Unknown activation: 'doubled'"):
        activations.get(plain)
    assert activations.deserialize(plain, custom_objects={"doubled": doubled}) is doubled
    with keras.saving.custom_object_scope({"doubled": doubled}):
        assert activations.get(plain) is doubled
        assert activations.deserialize("doubled") is doubled


def test_a_registered_function_written_by_its_bare_name_is_found(registered):
    # as Keras 3.15 reads the files of Keras <= 3.6, which wrote "config": "custom_fn"
    @keras.saving.register_keras_serializable(package="my_package", name="custom_fn")
    def squared(x):
        return x * x

    old_form = {
        "module": "builtins",
        "class_name": "function",
        "config": "custom_fn",
        "registered_name": "function",
    }
    assert activations.get(old_form) is squared
    assert activations.get("relu") is activations.relu  # Keras's own names come first
