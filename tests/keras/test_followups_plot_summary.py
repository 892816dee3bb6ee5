"""summary() and plot_model show the keras.ops calls of a functional model among its layers,
as Keras 3 does."""

import pytest

import chainrule.keras as keras
from chainrule.keras.models.summary import functional_rows


def _model_with_ops():
    keras.backend.clear_session()  # the names below start from their first number
    x = keras.Input((3,))
    h = keras.layers.Dense(4)(x)
    y = keras.layers.Dense(1)(keras.ops.relu(h) + 0.1 * h)
    return keras.Model(x, y)


def test_summary_rows_list_the_operations():
    # Keras 3.15.1 prints, for this model: input_layer (InputLayer), dense (Dense),
    # relu (Relu), multiply (Multiply), add (Add) connected to relu[0][0], multiply[0][0],
    # dense_1 (Dense) connected to add[0][0].
    rows, connected = functional_rows(_model_with_ops())
    assert connected
    names = [row[0].split(" ")[0] for row in rows]
    assert names == ["input_layer", "dense", "relu", "multiply", "add", "dense_1"]
    add = rows[names.index("add")]
    assert add[0] == "add (Add)" and add[2] == "0"
    assert add[3] == ["relu[0][0],", "multiply[0][0]"]


def test_model_to_dot_draws_the_operations():
    pytest.importorskip("pydot")
    dot = keras.utils.model_to_dot(_model_with_ops(), show_shapes=True)
    nodes = {node.get_name() for node in dot.get_nodes()}
    assert {"input_layer", "dense", "relu", "multiply", "add", "dense_1"} <= nodes
    edges = {(edge.get_source(), edge.get_destination()) for edge in dot.get_edges()}
    assert edges == {
        ("input_layer", "dense"),
        ("dense", "relu"),
        ("dense", "multiply"),
        ("relu", "add"),
        ("multiply", "add"),
        ("add", "dense_1"),
    }
