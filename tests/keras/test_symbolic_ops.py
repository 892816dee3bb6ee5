"""keras.ops functions and KerasTensor operators on symbolic tensors: each call becomes a node of
the functional graph, with the shape and dtype of its output, and the model runs it on values.

The ops here are local stubs: chainrule primitives wrapped by ``keras_op``, as keras.ops wraps
its functions. The expected values are closed forms in NumPy; the summary rows are what Keras
3.15.1 prints for the same model (the script is quoted in the test).
"""

import numpy as np
import pytest

import chainrule
from chainrule import keras
from chainrule import ops as primitives
from chainrule.keras import layers
from chainrule.keras.keras_tensor import KerasTensor, Operation
from chainrule.keras.ops.dispatch import keras_op

rng = np.random.default_rng(0)


@keras_op
def relu(x):
    return primitives.relu(x)


@keras_op
def concatenate(xs, axis=0):
    return primitives.concatenate(list(xs), axis=axis)


@keras_op
def mean(x, axis=None, keepdims=False):
    return primitives.mean(x, axis=axis, keepdims=keepdims)


@keras_op
def argmax(x, axis=None):
    return primitives.argmax(x, axis=axis)


@keras_op
def transpose(x, axes=None):
    return primitives.transpose(x, axes=axes)


@keras_op
def split_in_two(x):
    """Two outputs: the first and second half of the last axis."""
    half = x.shape[-1] // 2
    return x[..., :half], x[..., half:]


@keras_op
def weighted_sum(tensors):
    """A dict argument: {"a": tensor, "b": tensor, "w": float}."""
    return tensors["a"] * tensors["w"] + tensors["b"]


@keras_op
def shape(x):
    return tuple(x.shape)


@keras_op
def first_row_if_even(x):
    """An output whose rank follows the batch size: no symbolic shape describes it."""
    return x[0] if x.shape[0] % 2 == 0 else x


def summary_of(model):
    lines = []
    model.summary(print_fn=lines.append)
    return "\n".join(lines)


def run(model, *arrays):
    out = model(list(arrays) if len(arrays) > 1 else arrays[0])
    if isinstance(out, (list, tuple)):
        return [o.numpy() for o in out]
    if isinstance(out, dict):
        return {k: v.numpy() for k, v in out.items()}
    return out.numpy()


# ----- ops between layers -----------------------------------------------------------------------


def test_ops_between_layers_have_shapes_dtypes_and_run_in_the_model():
    a = keras.Input((4,), name="a")
    b = keras.Input((4,), name="b")
    dense = layers.Dense(3)
    y = relu(dense(a))
    z = concatenate([y, b[:, :2]], axis=-1)
    m = mean(z, axis=1)
    k = argmax(z, axis=1)
    assert isinstance(y, KerasTensor) and y.shape == (None, 3) and y.dtype == "float32"
    assert z.shape == (None, 5)
    assert m.shape == (None,)
    assert k.shape == (None,) and k.dtype.kind == "i"
    model = keras.Model([a, b], [m, k, z])
    xa, xb = rng.normal(size=(6, 4)), rng.normal(size=(6, 4))
    w, bias = dense.kernel.numpy(), dense.bias.numpy()
    expected_z = np.concatenate([np.maximum(xa @ w + bias, 0), xb[:, :2]], axis=-1)
    got_m, got_k, got_z = run(model, xa, xb)
    np.testing.assert_allclose(got_z, expected_z, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got_m, expected_z.mean(axis=1), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(got_k, expected_z.argmax(axis=1))


def test_model_lists_layers_apart_from_ops_and_summary_shows_both():
    # Keras 3.15.1 (JAX), same graph with keras.ops.relu/concatenate/mean:
    #   m = keras.Model([a, b], [ops.mean(z, axis=1), (z + 1) * 2]); m.summary()
    # prints rows "relu (Relu) (None, 3) 0 dense[0][0]", "get_item (GetItem) (None, 2) 0 b[0][0]",
    # "concatenate (Concatenate) (None, 5) 0 relu[0][0], get_item[0][0]", "add (Add)",
    # "multiply (Multiply)"; m.layers holds only the InputLayers and the Dense layer.
    keras.backend.clear_session()
    a = keras.Input((4,), name="a")
    b = keras.Input((4,), name="b")
    y = relu(layers.Dense(3)(a))
    z = concatenate([y, b[:, :2]], axis=-1)
    model = keras.Model([a, b], [mean(z, axis=1), (z + 1) * 2])
    assert [layer.name for layer in model.layers] == ["a", "dense", "b"]  # Keras 3.15.1's order
    operations = [op for op in model.operations if isinstance(op, Operation)]
    assert [op.name for op in operations] == [
        "relu",
        "get_item",
        "concatenate",
        "add",
        "mean",
        "multiply",
    ]
    assert [type(op).__name__ for op in operations] == [
        "Relu", "GetItem", "Concatenate", "Add", "Mean", "Multiply",
    ]  # fmt: skip
    text = summary_of(model)
    assert "relu (Relu)" in text and "get_item (GetItem)" in text
    assert "relu[0][0]," in text and "get_item[0][0]" in text
    assert "Total params: 15" in text


def test_nested_arguments_and_keyword_tensors_are_found():
    a = keras.Input((3,))
    b = keras.Input((3,))
    out = weighted_sum({"a": a, "b": b, "w": 0.5})
    assert out.shape == (None, 3)
    model = keras.Model([a, b], out)
    xa, xb = rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    np.testing.assert_allclose(run(model, xa, xb), 0.5 * xa + xb, rtol=1e-6)
    axis_as_keyword = mean(x=a, axis=-1, keepdims=True)
    assert axis_as_keyword.shape == (None, 1)


def test_ops_with_several_outputs_return_a_structure_of_keras_tensors():
    x = keras.Input((6,))
    first, second = split_in_two(x)
    assert first.shape == second.shape == (None, 3)
    assert first.node is second.node and (first.index, second.index) == (0, 1)
    model = keras.Model(x, {"first": first, "second": second})
    data = rng.normal(size=(2, 6))
    out = run(model, data)
    np.testing.assert_allclose(out["first"], data[:, :3], rtol=1e-6)
    np.testing.assert_allclose(out["second"], data[:, 3:], rtol=1e-6)


def test_none_axes_follow_the_batch_and_known_axes_keep_their_size():
    x = keras.Input((None, 4))  # a variable-length sequence
    assert concatenate([x, x], axis=1).shape == (None, None, 4)
    assert concatenate([x, x], axis=0).shape == (None, None, 4)
    assert transpose(x, axes=(2, 0, 1)).shape == (4, None, None)
    assert x.reshape((-1, 4)).shape == (None, 4)
    y = keras.Input((3,))  # a known axis of the size a sample gives the batch axis
    assert concatenate([y, y], axis=0).shape == (None, 3)
    assert mean(y, axis=0).shape == (3,)


def test_ops_that_return_numbers_give_none_for_the_batch_axis():
    x = keras.Input((5, 2))
    assert shape(x) == (None, 5, 2)


# ----- KerasTensor operators and methods --------------------------------------------------------


def test_operators_record_nodes_that_compute_what_numpy_computes():
    x = keras.Input((3,))
    w = rng.normal(size=(3, 2)).astype("float32")
    outputs = {
        "add": x + 1,
        "radd": 1 + x,
        "sub": x - 2,
        "rsub": 2 - x,
        "mul": x * 3,
        "rmul": 2 * x,
        "div": x / 4,
        "rdiv": 1 / (abs(x) + 1),
        "pow": x**2,
        "neg": -x,
        "matmul": x @ w,
        "getitem": x[:, 0],
        "gt": x > 0,
        "le": x <= 0,
        "eq": x == x,
        "reshape": x.reshape((-1, 3, 1)),
        "squeeze": x.reshape((-1, 3, 1)).squeeze(axis=2),
    }
    assert outputs["matmul"].shape == (None, 2)
    assert outputs["getitem"].shape == (None,)
    assert outputs["gt"].dtype == np.bool_
    assert outputs["reshape"].shape == (None, 3, 1)
    model = keras.Model(x, outputs)
    data = rng.normal(size=(4, 3)).astype("float32")
    got = run(model, data)
    expected = {
        "add": data + 1,
        "radd": 1 + data,
        "sub": data - 2,
        "rsub": 2 - data,
        "mul": data * 3,
        "rmul": 2 * data,
        "div": data / 4,
        "rdiv": 1 / (abs(data) + 1),
        "pow": data**2,
        "neg": -data,
        "matmul": data @ w,
        "getitem": data[:, 0],
        "gt": data > 0,
        "le": data <= 0,
        "eq": np.ones_like(data, bool),
        "reshape": data.reshape(-1, 3, 1),
        "squeeze": data,
    }
    for key, value in expected.items():
        np.testing.assert_allclose(got[key], value, rtol=1e-5, atol=1e-6, err_msg=key)


def test_ndarray_on_the_left_defers_to_the_keras_tensor():
    x = keras.Input((3,))
    w = rng.normal(size=(2, 4)).astype("float32")
    y = np.float32(2.0) * x
    assert isinstance(y, KerasTensor)
    z = x.reshape((-1, 3, 1)) @ w[:1]  # (None, 3, 1) @ (1, 4)
    assert z.shape == (None, 3, 4)


def test_a_keras_tensor_has_no_values_no_truth_and_no_iteration():
    x = keras.Input((3,))
    with pytest.raises(TypeError, match="symbolic"):
        np.asarray(x)
    with pytest.raises(TypeError, match="no truth value"):
        bool(x > 0)
    with pytest.raises(TypeError, match="cannot be iterated"):
        list(x)
    assert hash(x) == hash(x) and {x: 1}[x] == 1  # usable as a key although == is recorded


def test_functions_that_fail_on_the_inputs_are_named_in_the_error():
    a, b = keras.Input((3,)), keras.Input((4,))
    with pytest.raises(
        ValueError, match=r"keras.ops.concatenate cannot be called.*shape=\(None, 3\)"
    ):
        concatenate([a, b], axis=0)
    with pytest.raises(
        ValueError, match="first_row_if_even .* output rank that depends on the batch"
    ):
        first_row_if_even(a)


# ----- training, gradients, saving --------------------------------------------------------------


def test_gradients_flow_through_op_nodes():
    a = keras.Input((3,), dtype="float64")
    b = keras.Input((3,), dtype="float64")
    out = mean(relu(a) * b + a**2, axis=1) - concatenate([a, b], axis=1)[:, 2]
    model = keras.Model([a, b], out)
    chainrule.gradcheck(
        lambda x, y: model([x, y]), rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    )


def test_a_model_with_ops_trains_with_fit():
    x = keras.Input((4,))
    h = layers.Dense(8)(x)
    y = layers.Dense(1)(relu(h) + 0.1 * h)
    model = keras.Model(x, y)
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="mse")
    data = rng.normal(size=(64, 4)).astype("float32")
    target = data @ np.array([[1.0], [-2.0], [0.5], [0.0]], "float32")
    history = model.fit(data, target, epochs=20, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < 0.2 * history.history["loss"][0]


# ----- Lambda -----------------------------------------------------------------------------------


def scale(x, factor=1.0):
    return x * factor


def test_lambda_applies_its_function_with_arguments_and_finds_its_shape():
    x = keras.Input((4,))
    doubled = layers.Lambda(scale, arguments={"factor": 2.0})(x)
    halves = layers.Lambda(lambda t: split_in_two(t))(x)
    assert doubled.shape == (None, 4)
    assert [t.shape for t in halves] == [(None, 2), (None, 2)]
    model = keras.Model(x, [doubled, halves[1]])
    data = rng.normal(size=(3, 4))
    got = run(model, data)
    np.testing.assert_allclose(got[0], 2 * data, rtol=1e-6)
    np.testing.assert_allclose(got[1], data[:, 2:], rtol=1e-6)


def test_lambda_output_shape_as_a_tuple_or_a_function_and_its_mask():
    layer = layers.Lambda(lambda t: t[:, :2], output_shape=(2,))
    assert layer.compute_output_shape((None, 5)) == (None, 2)
    by_rule = layers.Lambda(lambda t: t, output_shape=lambda shape: shape[:-1] + (7,))
    assert by_rule(keras.Input((3,))).shape == (None, 7)  # the rule is trusted, as in Keras
    masked = layers.Lambda(lambda t: t, mask=lambda inputs, mask: inputs > 0)
    assert masked.supports_masking
    np.testing.assert_array_equal(masked.compute_mask(np.array([1.0, -1.0])), [True, False])


def test_lambda_passes_training_to_functions_that_take_it():
    seen = []

    def record(x, training=None):
        seen.append(training)
        return x

    layer = layers.Lambda(record)
    layer(np.ones((1, 2)), training=True)
    assert seen == [True]


def test_lambda_and_a_layer_of_the_users_compute_on_strings_as_in_keras():
    """Keras casts a layer's floating inputs only, so a Lambda or a custom layer may compute on
    text (tf.strings); chainrule's numeric layers still refuse strings with a clear error. The
    graph finds the shapes by running on samples of the string "1"."""

    class Lowered(layers.Layer):
        def call(self, x):
            return chainrule.strings.lower(x)

    inputs = keras.Input((), dtype="string")
    upper = layers.Lambda(lambda t: chainrule.strings.upper(t))(inputs)
    length = layers.Lambda(lambda t: chainrule.strings.length(t))(Lowered()(inputs))
    assert (upper.shape, upper.dtype, length.shape) == ((None,), np.dtype(object), (None,))
    model = keras.Model(inputs, [upper, length])
    texts = np.array(["a B", "Cd", "e"], dtype=object)
    uppered, lengths = model.predict(texts, verbose=0)
    assert uppered.tolist() == ["A B", "CD", "E"] and lengths.tolist() == [3, 2, 1]
    with pytest.raises(TypeError, match="computes on numbers but received strings"):
        layers.Dense(2)(chainrule.constant(["a"]))


def test_lambda_config_names_a_function_and_refuses_a_python_lambda(tmp_path):
    named = layers.Lambda(scale, output_shape=(4,), arguments={"factor": 3.0})
    config = named.get_config()
    assert config["output_shape"] == (4,) and config["arguments"] == {"factor": 3.0}
    assert config["function"]["config"] == "scale"
    with pytest.raises(ValueError, match="Python lambda, which cannot be saved"):
        layers.Lambda(lambda t: t).get_config()
    model = keras.Sequential([keras.Input((2,)), layers.Lambda(lambda t: t + 1)])
    with pytest.raises(ValueError, match="Python lambda"):
        model.save(tmp_path / "m.keras")
    with pytest.raises(TypeError, match="Lambda needs a function"):
        layers.Lambda(3)
