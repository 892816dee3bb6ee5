"""Tests for chainrule.viz: the recorded graph as DOT text (checked by a strict parser of the DOT
subset it writes, and by Graphviz itself when installed) and as SVG."""

import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

import chainrule as cr
from chainrule.keras import Sequential
from chainrule.keras import layers as L
from chainrule.keras.utils import set_random_seed, to_categorical
from chainrule.tools import viz

TOKEN = re.compile(r'\s*(?:(->)|([{}\[\];,=])|"((?:\\.|[^"\\])*)"|([A-Za-z_][A-Za-z0-9_.#-]*))')


def parse_dot(text):
    """A strict parser of `digraph ID { stmt* }` with statements `a=b;`, `node [...];`,
    `id [...];` and `id -> id [...];`: returns ({node id: attributes}, [(source, target, attrs)]).
    Raises AssertionError on anything else, on an edge to an undeclared node, or on a duplicate."""
    tokens, position = [], 0
    text = text.strip()
    while position < len(text):
        match = TOKEN.match(text, position)
        assert match and match.end() > position, f"cannot tokenize at {text[position:][:30]!r}"
        arrow, symbol, quoted, name = match.groups()
        tokens.append(
            arrow or symbol or ("str", quoted)
            if quoted is not None
            else arrow or symbol or ("id", name)
        )
        position = match.end()
    tokens.reverse()

    def take(expected=None):
        token = tokens.pop()
        assert expected is None or token == expected, (token, expected)
        return token

    def value():
        token = take()
        assert isinstance(token, tuple), token
        return token[1]

    def attributes():
        found = {}
        if tokens and tokens[-1] == "[":
            take("[")
            while tokens[-1] != "]":
                key = value()
                take("=")
                found[key] = value()
                if tokens[-1] == ",":
                    take(",")
            take("]")
        return found

    assert take() == ("id", "digraph")
    value()
    take("{")
    nodes, edges = {}, []
    while tokens[-1] != "}":
        first = value()
        if tokens[-1] == "=":
            take("=")
            value()
        elif tokens[-1] == "->":
            take("->")
            edges.append((first, value(), attributes()))
        elif first in ("node", "edge", "graph"):
            attributes()
        else:
            assert first not in nodes, f"node {first} declared twice"
            nodes[first] = attributes()
        take(";")
    take("}")
    assert not tokens, tokens
    for source, target, _ in edges:
        assert source in nodes and target in nodes, (source, target)
    return nodes, edges


def _ops(nodes):
    return [
        attrs["label"].split("\\n")[0] for attrs in nodes.values() if attrs["shape"] == "ellipse"
    ]


def test_one_node_per_op_and_per_leaf():
    a = cr.Tensor([[1.0, 2.0]], requires_grad=True, name="a")
    b = cr.Tensor([[3.0, 4.0]], requires_grad=True, name="b")
    loss = (a * b + a).sum()  # ops: mul, add, sum; a feeds two of them
    nodes, edges = parse_dot(viz.to_dot(loss))
    assert sorted(_ops(nodes)) == ["add", "mul", "sum"]
    boxes = [attrs["label"].split("\\n")[0] for attrs in nodes.values() if attrs["shape"] == "box"]
    assert sorted(boxes) == ["a", "b"]
    assert len(edges) == 5  # a->mul, b->mul, mul->add, a->add, add->sum


def test_the_articles_network():
    set_random_seed(0)
    model = Sequential(
        [L.Dense(3, activation="relu", input_shape=(4,)), L.Dense(2, activation="softmax")]
    )
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    x, y = np.random.default_rng(0).random((5, 4)), to_categorical([0, 1, 0, 1, 1], 2)
    loss = model.compute_loss(x, y, model(x))
    nodes, edges = parse_dot(viz.to_dot(loss))
    assert sorted(_ops(nodes)) == sorted(
        ["linear", "relu", "linear", "softmax", "mean_softmax_cross_entropy"]
    )
    labels = " ".join(attrs["label"] for attrs in nodes.values())
    assert re.search(r"dense(_\d+)?/kernel\\n\(4, 3\) float32", labels)
    assert "‖grad‖" not in labels
    dashed = [(s, t) for s, t, attrs in edges if attrs.get("style") == "dashed"]
    assert len(dashed) == 3  # the data x, the labels, and the softmax reused by the loss


def test_gradient_norms_after_backward():
    w = cr.Tensor([[1.0, -2.0], [0.5, 3.0]], requires_grad=True, name="w")
    x = cr.Tensor([[1.0, 1.0]])
    loss = ((x @ w) * (x @ w)).sum()
    loss.backward(retain_graph=True)
    nodes, _ = parse_dot(viz.to_dot(loss))
    label = next(attrs["label"] for attrs in nodes.values() if attrs["label"].startswith("w\\n"))
    assert f"‖grad‖ = {np.linalg.norm(w.grad.numpy()):.3g}" in label
    matmul = next(attrs["label"] for attrs in nodes.values() if attrs["label"].startswith("matmul"))
    assert f"‖grad‖ = {np.linalg.norm(x.numpy() @ w.numpy()):.3g}" in matmul  # dL/dm1 = m2
    assert "‖grad‖" not in viz.to_dot(loss, gradients=False)


def test_names_are_escaped():
    t = cr.Tensor([1.0, 2.0], requires_grad=True, name='say "hi" \\ there')
    nodes, _ = parse_dot(viz.to_dot((t * 2.0).sum(), name='my "graph"'))
    assert any('say \\"hi\\" \\\\ there' in attrs["label"] for attrs in nodes.values())


def test_errors():
    t = cr.Tensor([1.0, 2.0], requires_grad=True)
    loss = (t * t).sum()
    with pytest.raises(TypeError, match="expected a Tensor"):
        viz.to_dot(np.ones(2))
    with pytest.raises(ValueError, match="one-element output"):
        viz.to_dot(t * t, gradients=True)
    loss.backward()
    with pytest.raises(cr.GraphFreedError, match="retain_graph=True"):
        viz.to_dot(loss)


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program not installed")
def test_graphviz_parses_the_dot_text(tmp_path):
    t = cr.Tensor(np.ones((2, 3)), requires_grad=True, name="t")
    loss = cr.softmax(t).sum()
    loss.backward(retain_graph=True)
    result = subprocess.run(
        ["dot", "-Tsvg"], input=viz.to_dot(loss), capture_output=True, check=False, text=True
    )
    assert result.returncode == 0, result.stderr
    assert "<svg" in result.stdout and "softmax" in result.stdout


def test_to_svg():
    pytest.importorskip("graphviz")
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot program not installed")
    t = cr.Tensor([1.0, 2.0], requires_grad=True, name="t")
    svg = viz.to_svg((t * t).sum())
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg and "mul" in svg


def test_to_svg_without_the_graphviz_package(monkeypatch):
    monkeypatch.setitem(sys.modules, "graphviz", None)
    t = cr.Tensor([1.0], requires_grad=True)
    with pytest.raises(ImportError, match=r'pip install "chainrule\[graph\]"'):
        viz.to_svg(t * 2.0)


def test_chainrule_viz_is_reachable_from_the_package():
    assert cr.viz.to_dot is viz.to_dot


def test_parameters_that_differ_from_the_defaults_are_shown():
    t = cr.Tensor(np.ones((2, 3)), requires_grad=True)
    nodes, _ = parse_dot(viz.to_dot(cr.sum(cr.softmax(t, axis=0), axis=1).sum()))
    assert sorted(_ops(nodes)) == ["softmax (axis=0)", "sum", "sum (axis=1)"]
