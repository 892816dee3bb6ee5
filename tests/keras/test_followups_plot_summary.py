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
    assert add[3] == "relu[0][0], multiply[0][0]"


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


def _summary(model):
    lines = []
    model.summary(print_fn=lines.append)
    return "\n".join(lines)


def _table(text):
    """The table of a summary: its lines from the top border to the bottom one."""
    lines = text.splitlines()
    return "\n".join(lines[1 : lines.index(next(line for line in lines if line[0] == "└")) + 1])


def test_connected_to_lists_the_tensors_given_as_keyword_arguments():
    # as Keras 3.15.1 prints it (output not a terminal): the decoder reads its input and the
    # encoder's states passed as initial_state=, the long first entry cut short with "…"
    keras.backend.clear_session()
    i = keras.Input((3, 4))
    _, h, c = keras.layers.LSTM(2, return_state=True, name="encoder")(i)
    y = keras.layers.LSTM(2, name="decoder")(i, initial_state=[h, c])
    model = keras.Model(i, y)
    rows, connected = functional_rows(model)
    assert connected
    assert rows[2][3] == "input_layer[0][0], encoder[0][1], encoder[0][2]"
    assert _table(_summary(model)) == (
        "┏━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┓\n"
        "┃ Layer (type)        ┃ Output Shape      ┃    Param # ┃ Connected to      ┃\n"
        "┡━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━┩\n"
        "│ input_layer         │ (None, 3, 4)      │          0 │ -                 │\n"
        "│ (InputLayer)        │                   │            │                   │\n"
        "├─────────────────────┼───────────────────┼────────────┼───────────────────┤\n"
        "│ encoder (LSTM)      │ [(None, 2),       │         56 │ input_layer[0][0] │\n"
        "│                     │ (None, 2), (None, │            │                   │\n"
        "│                     │ 2)]               │            │                   │\n"
        "├─────────────────────┼───────────────────┼────────────┼───────────────────┤\n"
        "│ decoder (LSTM)      │ (None, 2)         │         56 │ input_layer[0][0… │\n"
        "│                     │                   │            │ encoder[0][1],    │\n"
        "│                     │                   │            │ encoder[0][2]     │\n"
        "└─────────────────────┴───────────────────┴────────────┴───────────────────┘"
    )


def test_a_word_longer_than_its_column_is_cut_short_as_keras_does():
    # as Keras 3.15.1 prints it: a long layer name and a long "Connected to" entry each end in
    # "…" at the column's width, and the table keeps its right border
    keras.backend.clear_session()
    i = keras.Input((5,))
    a = keras.layers.Dense(2, name="a_rather_long_layer_name_x")(i)
    b = keras.layers.Dense(2)(i)
    table = _table(_summary(keras.Model(i, keras.layers.Add()([a, b]))))
    assert table.splitlines()[6:14] == [
        "│ a_rather_long_laye… │ (None, 2)         │         12 │ input_layer[0][0] │",
        "│ (Dense)             │                   │            │                   │",
        "├─────────────────────┼───────────────────┼────────────┼───────────────────┤",
        "│ dense (Dense)       │ (None, 2)         │         12 │ input_layer[0][0] │",
        "├─────────────────────┼───────────────────┼────────────┼───────────────────┤",
        "│ add (Add)           │ (None, 2)         │          0 │ a_rather_long_la… │",
        "│                     │                   │            │ dense[0][0]       │",
        "└─────────────────────┴───────────────────┴────────────┴───────────────────┘",
    ]
    assert {len(line) for line in table.splitlines()} == {76}


def test_a_shared_layer_shows_its_last_call_numbered_among_all_its_calls():
    # as Keras 3.15.1: the Output Shape of the last call, and calls numbered from the layer's
    # first (here made outside the model), so the model's calls are dense[1] and dense[2]
    keras.backend.clear_session()
    dense = keras.layers.Dense(3)
    dense(keras.Input((3,)))
    i = keras.Input((3,))
    a = dense(i)
    rows, connected = functional_rows(keras.Model(i, keras.layers.Add()([a, dense(a)])))
    assert connected
    assert rows[1] == ["dense (Dense)", "(None, 3)", "12", "input_layer_1[0][0], dense[1][0]"]
    assert rows[2] == ["add (Add)", "(None, 3)", "0", "dense[1][0], dense[2][0]"]


@pytest.mark.parametrize("graph", ["state_left_unused", "outputs_along_the_chain"])
def test_calls_in_one_chain_need_no_connected_to_column(graph):
    # as Keras 3.15.1: no "Connected to" column when each call reads at most one tensor and
    # feeds at most one other call, whatever the number of outputs
    i = keras.Input((3, 4))
    if graph == "state_left_unused":
        output, _, _ = keras.layers.LSTM(2, return_state=True)(i)
        model = keras.Model(i, output)
    else:
        a = keras.layers.LSTM(2)(i)
        model = keras.Model(i, [a, keras.layers.Dense(1)(a)])
    assert functional_rows(model)[1] is False
    assert "Connected to" not in _summary(model)


def test_a_branch_needs_the_connected_to_column():
    # as Keras 3.15.1: a tensor read by two calls
    i = keras.Input((4,))
    a = keras.layers.Dense(3)(i)
    model = keras.Model(i, [keras.layers.Dense(1)(a), keras.layers.Dense(2)(a)])
    assert functional_rows(model)[1] is True
