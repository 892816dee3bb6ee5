"""keras.utils.model_to_dot and plot_model: one node per layer and one edge per connection in the
DOT text (read back by pydot's parser, no Graphviz needed); a PNG only where Graphviz's dot
program is installed; and the module's public names."""

import builtins
import inspect
import shutil
import types

import pytest

from chainrule.keras import Input, Model, Sequential, utils
from chainrule.keras import layers as L

pydot = pytest.importorskip("pydot")
# pydot's DOT parser uses pyparsing names that newer pyparsing deprecates
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def graph_of(model, **options):
    """(node names, [(source, target)]) of model_to_dot's DOT text, parsed back by pydot."""
    text = utils.model_to_dot(model, **options).to_string()
    (graph,) = pydot.graph_from_dot_data(text)
    nodes = [node.get_name() for node in graph.get_nodes() if node.get_name() not in ("node",)]
    edges = [(edge.get_source(), edge.get_destination()) for edge in graph.get_edges()]
    return nodes, edges, graph


def sequential():
    return Sequential(
        [
            L.Dense(3, activation="relu", input_shape=(4,), name="hidden"),
            L.Dropout(0.5, name="drop"),
            L.Dense(2, activation="softmax", name="out"),
        ]
    )


def branching():
    """An input read by two layers whose outputs are added: a diamond."""
    inputs = Input(shape=(4,), name="x")
    left = L.Dense(3, name="left")(inputs)
    right = L.Dense(3, activation="tanh", name="right")(inputs)
    total = L.Add(name="total")([left, right])
    return Model(inputs, L.Dense(1, name="head")(total))


def test_sequential_nodes_per_layer_and_edges_in_order():
    nodes, edges, graph = graph_of(sequential())
    assert nodes == ["hidden", "drop", "out"]
    assert edges == [("hidden", "drop"), ("drop", "out")]
    assert graph.get_rankdir() == "TB" and graph.get_dpi() == "200"


def test_functional_edges_follow_the_tensors():
    nodes, edges, _ = graph_of(branching(), rankdir="LR", dpi=96)
    assert nodes == ["x", "left", "right", "total", "head"]
    assert sorted(edges) == sorted(
        [("x", "left"), ("x", "right"), ("left", "total"), ("right", "total"), ("total", "head")]
    )


def test_labels_show_what_is_asked():
    text = utils.model_to_dot(sequential()).to_string()
    assert (
        "<b>hidden</b> (Dense)" in text and "Output shape" not in text and "Activation" not in text
    )
    text = utils.model_to_dot(
        sequential(),
        show_shapes=True,
        show_dtype=True,
        show_layer_names=False,
        show_layer_activations=True,
        show_trainable=True,
    ).to_string()
    assert "<b>hidden</b>" not in text and "<b>Dense</b>" in text
    assert "Input shape: <b>(None, 4)</b>" in text and "Output shape: <b>(None, 2)</b>" in text
    assert "Output dtype: <b>float32</b>" in text and "Activation: <b>softmax</b>" in text
    assert text.count("<b>Trainable</b>") == 2  # the Dropout layer has no weights


def test_expand_nested_draws_a_submodel_as_a_cluster():
    inner = Sequential([L.Dense(3, input_shape=(4,), name="a"), L.Dense(3, name="b")], name="inner")
    inputs = Input(shape=(4,), name="x")
    model = Model(inputs, L.Dense(1, name="head")(inner(inputs)))
    nodes, edges, _ = graph_of(model)
    assert nodes == ["x", "inner", "head"] and edges == [("x", "inner"), ("inner", "head")]
    dot = utils.model_to_dot(model, expand_nested=True)
    (cluster,) = dot.get_subgraphs()
    assert [node.get_name() for node in cluster.get_nodes()] == ["inner/a", "inner/b"]
    edges = [(e.get_source(), e.get_destination()) for e in dot.get_edges()]
    edges += [(e.get_source(), e.get_destination()) for e in cluster.get_edges()]
    assert sorted(edges) == sorted([("x", "inner/a"), ("inner/a", "inner/b"), ("inner/b", "head")])


def test_keras_signatures_and_argument_checks():
    plot = inspect.signature(utils.plot_model).parameters
    assert {name: p.default for name, p in plot.items() if name not in ("model", "kwargs")} == {
        "to_file": "model.png",
        "show_shapes": False,
        "show_dtype": False,
        "show_layer_names": False,
        "rankdir": "TB",
        "expand_nested": False,
        "dpi": 200,
        "show_layer_activations": False,
        "show_trainable": False,
    }
    assert inspect.signature(utils.model_to_dot).parameters["show_layer_names"].default is True
    with pytest.raises(ValueError, match="layer_range"):
        utils.model_to_dot(sequential(), layer_range=["a", "b"])
    with pytest.raises(ValueError, match="not yet been built"):
        utils.model_to_dot(Sequential([L.Dense(2)]))


def test_without_pydot_the_message_names_the_extra(monkeypatch):
    real_import = builtins.__import__

    def no_pydot(name, *args, **kwargs):
        if name == "pydot":
            raise ImportError("No module named 'pydot'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pydot)
    with pytest.raises(ImportError, match=r'pip install "chainrule\[graph\]"'):
        utils.model_to_dot(sequential())
    with pytest.raises(ImportError, match="pydot"):
        utils.plot_model(sequential())


def test_without_graphviz_plot_model_raises_or_in_a_notebook_prints(monkeypatch, tmp_path, capsys):
    def no_dot(self, *args, **kwargs):
        raise FileNotFoundError("dot not found in path.")

    monkeypatch.setattr(pydot.Dot, "create", no_dot)
    with pytest.raises(ImportError, match="Graphviz"):
        utils.plot_model(sequential(), to_file=tmp_path / "model.png")
    monkeypatch.setitem(
        __import__("sys").modules, "IPython.core.magics.namespace", types.ModuleType("namespace")
    )
    assert utils.plot_model(sequential(), to_file=tmp_path / "model.png") is None
    assert "Graphviz" in capsys.readouterr().out
    assert not (tmp_path / "model.png").exists()


@pytest.mark.skipif(shutil.which("dot") is None, reason="needs Graphviz's dot program")
def test_plot_model_writes_a_png(tmp_path):
    path = tmp_path / "model.png"
    utils.plot_model(branching(), to_file=path, show_shapes=True, show_layer_names=True)
    assert path.read_bytes().startswith(PNG_SIGNATURE)


def test_utils_exports_no_foreign_modules():
    # keras.utils's own topic modules may show; numpy, os and the like may not.
    public = [name for name in dir(utils) if not name.startswith("_")]
    modules = [getattr(utils, name) for name in public]
    assert not [
        module.__name__
        for module in modules
        if isinstance(module, types.ModuleType)
        and not module.__name__.startswith(utils.__name__ + ".")
    ]
    assert set(utils.__all__) <= set(public)
    assert {"plot_model", "model_to_dot"} <= set(utils.__all__)
