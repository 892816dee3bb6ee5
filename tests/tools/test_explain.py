"""Tests for `chainrule.explain`, the `chainrule explain` command, the GradientFlow callback, and
`chainrule train --explain`.

The three ways (textbook, engine, finite differences) must agree on small random networks; a
deliberately wrong gradient, in a layer or in a formula, must be flagged.
"""

import importlib
import io
import re
import sys
import tracemalloc
import warnings

import numpy as np
import pytest

import chainrule
from chainrule import ops, random
from chainrule.engine import Tensor
from chainrule.keras import Sequential
from chainrule.keras import layers as L
from chainrule.keras.callbacks import GradientFlow
from chainrule.keras.datasets import mnist
from chainrule.keras.optimizers import SGD
from chainrule.keras.utils import set_random_seed, to_categorical
from chainrule.tools import cli

explain_module = importlib.import_module("chainrule.tools.explain")
textbook = importlib.import_module("chainrule.tools.explain.textbook")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _labels(loss, rng, n, k):
    if loss == "categorical_crossentropy":
        return to_categorical(rng.integers(0, k, n), k)
    if loss == "sparse_categorical_crossentropy":
        return rng.integers(0, k, n)
    if loss == "binary_crossentropy":
        return rng.integers(0, 2, (n, k)).astype(np.float64)
    return rng.normal(size=(n, k))


def _network(activations, loss, seed, optimizer="sgd"):
    """A Dense network 5 -> 4 -> ... -> 3 with the given activations, and a batch of 6."""
    set_random_seed(seed)
    rng = np.random.default_rng(seed)
    model = Sequential(
        [L.Dense(4, activation=activations[0], input_shape=(5,))]
        + [
            L.Dense(3 if i == len(activations) - 1 else 4, activation=a)
            for i, a in enumerate(activations[1:], 1)
        ]
    )
    model.compile(optimizer=optimizer, loss=loss)
    return model, rng.normal(size=(6, 5)), _labels(loss, rng, 6, 3)


NETWORKS = [
    (("relu", "softmax"), "categorical_crossentropy"),
    (("sigmoid", "linear"), "mean_squared_error"),
    (("tanh", "sigmoid"), "binary_crossentropy"),
    (("tanh", "relu", "softmax"), "sparse_categorical_crossentropy"),
    (("relu", "tanh", "linear"), "mse"),
    (("leaky_relu", "elu", "softplus"), "mean_absolute_error"),
    (("sigmoid", "linear"), "categorical_crossentropy_from_logits"),
]


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("activations, loss", NETWORKS)
def test_the_three_ways_agree_on_small_random_networks(activations, loss, seed):
    from chainrule.keras.losses import CategoricalCrossentropy

    if loss == "categorical_crossentropy_from_logits":
        model, x, y = _network(activations, "categorical_crossentropy", seed)
        model.compile(optimizer="sgd", loss=CategoricalCrossentropy(from_logits=True))
    else:
        model, x, y = _network(activations, loss, seed)
    report = chainrule.explain(model, x, y, samples=None, verbose=False)
    assert report.agrees, report.disagreements
    for step in report.backward:
        for g in step.gradients:
            # every factor of a Dense network has all three ways, on every entry
            assert g.textbook is not None and g.engine is not None, g.name
            assert g.textbook_error <= 1e-6 and g.numeric_error <= 1e-6, g.name
            assert len(g.sample) == np.prod(g.shape) and g.kinks == 0


def test_the_article_formulas_hold_on_mnist():
    """dL/dz_L = (ŷ - y) / n, dL/dW_L = a_{L-1}ᵀ dL/dz_L, and SGD's W - η dL/dW, checked here
    from the report's own forward values."""
    (x, labels), _ = mnist.load_data()
    x = x[:16].reshape(16, -1).astype(np.float32) / 255
    y = to_categorical(labels[:16], 10)
    set_random_seed(3)
    model = Sequential(
        [L.Dense(10, activation="relu", input_shape=(784,)), L.Dense(10, activation="softmax")]
    )
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    report = chainrule.explain(model, x, y, verbose=False)
    assert report.agrees

    forward = {step.index: step for step in report.forward}
    y_hat = forward[2].a
    np.testing.assert_allclose(report.loss.value, -np.mean(np.log((y_hat * y).sum(axis=1))))
    output = {g.name: g for g in report.backward[0].gradients}
    np.testing.assert_allclose(output["dL/dz_2"].engine, (y_hat - y) / 16, atol=1e-15)
    np.testing.assert_allclose(
        output["dL/dW_2"].engine, forward[1].a.T @ output["dL/dz_2"].engine, atol=1e-15
    )
    hidden = {g.name: g for g in report.backward[1].gradients}
    np.testing.assert_array_equal(hidden["da_1/dz_1"].engine, forward[1].z > 0)
    assert [s.layer for s in report.backward] == [model.layers[1].name, model.layers[0].name]

    kernel = report.update[0]
    assert kernel.learning_rate == pytest.approx(0.01)
    expected = kernel.old.astype(np.float32) - np.float32(0.01) * kernel.gradient.astype(np.float32)
    np.testing.assert_allclose(kernel.new, expected, rtol=1e-6, atol=1e-7)
    assert 1e-5 < kernel.ratio < 1e-1 and kernel.health == "ok"
    assert "has not stepped yet" in report.notes[-1]


class StraightThroughTanh(L.Layer):
    """A deliberately wrong layer: y = tanh(x) forward, but the engine sees the identity's
    gradient (y = x + a constant), so dL/dx is wrong by the factor 1 - tanh²(x)."""

    def call(self, inputs):
        return inputs + Tensor(np.tanh(inputs.data) - inputs.data)


def test_a_broken_layer_gradient_is_flagged():
    set_random_seed(0)
    rng = np.random.default_rng(0)
    model = Sequential(
        [
            L.Dense(4, activation="relu", input_shape=(3,)),
            StraightThroughTanh(),
            L.Dense(2, activation="softmax"),
        ]
    )
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    x, y = rng.normal(size=(5, 3)) * 2, to_categorical(rng.integers(0, 2, 5), 2)
    with pytest.warns(RuntimeWarning, match="disagree"):
        report = chainrule.explain(model, x, y, verbose=False)
    assert not report.agrees
    top, broken, bottom = report.backward
    assert top.agrees  # above the broken layer everything is right
    wrong = {g.name: g for g in broken.gradients}["dL/da_1"]
    assert wrong.textbook is None and wrong.numeric_error > 1e-2 and not wrong.agrees
    assert "dL/da_1 (layer straight_through_tanh)" in report.disagreements
    assert not bottom.agrees  # the wrong gradient flows on down
    text = str(report)
    assert "DISAGREES" in text and "DISAGREEMENT" in text


def test_a_wrong_textbook_formula_is_flagged(monkeypatch):
    rule = textbook.ACTIVATIONS["sigmoid"]
    monkeypatch.setitem(
        textbook.ACTIVATIONS,
        "sigmoid",
        textbook._Activation(rule.f, lambda z, a: a, "f'(z) = a  (wrong)"),
    )
    model, x, y = _network(("sigmoid", "linear"), "mse", 0)
    with pytest.warns(RuntimeWarning):
        report = chainrule.explain(model, x, y, verbose=False)
    local = {g.name: g for g in report.backward[1].gradients}["da_1/dz_1"]
    assert local.textbook_error > 0.1 and local.numeric_error < 1e-6 and not local.agrees


def test_layers_without_a_textbook_formula_are_compared_engine_against_differences():
    set_random_seed(1)
    rng = np.random.default_rng(1)
    model = Sequential(
        [
            L.Conv2D(2, 3, activation="relu", input_shape=(6, 6, 1)),
            L.BatchNormalization(),
            L.MaxPooling2D(),
            L.Flatten(),
            L.Dropout(0.5),
            L.Dense(4, activation="gelu"),
            L.LayerNormalization(),
            L.Dense(3),
            L.Softmax(),
        ]
    )
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    x, y = rng.normal(size=(4, 6, 6, 1)), to_categorical(rng.integers(0, 3, 4), 3)
    model.fit(x, y, epochs=1, verbose=0)
    report = chainrule.explain(model, x, y, samples=4, verbose=False)
    assert report.agrees, report.disagreements
    by_layer = {step.kind: step for step in report.backward}
    conv = {g.name: g for g in by_layer["Conv2D"].gradients}
    assert set(conv) == {"dL/da_1", "dL/dkernel_1", "dL/dbias_1", "dL/da_0"}
    assert all(g.textbook is None and g.numeric_error < 1e-6 for g in conv.values())
    assert any("No textbook formula for Conv2D" in note for note in by_layer["Conv2D"].notes)
    gelu = {g.name: g for g in by_layer["Dense"].gradients if "6" in g.name}
    assert gelu["da_6/dz_6"].textbook is None and gelu["dL/dW_6"].textbook is not None
    assert "fresh optimizer state" in report.notes[-1]


def test_relu_kinks_are_skipped_not_flagged():
    """A pre-activation at exactly 0: ReLU has no derivative there, so finite differences across
    it are left out instead of counted as a disagreement."""
    model = Sequential([L.Dense(2, activation="relu", input_shape=(2,)), L.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.set_weights(
        [np.array([[1.0, 0.5], [-1.0, 0.5]]), np.zeros(2), np.array([[1.0], [2.0]]), np.zeros(1)]
    )
    x, y = np.array([[1.0, 1.0], [2.0, 1.0]]), np.array([[1.0], [0.0]])  # z_1[0, 0] = 0
    report = chainrule.explain(model, x, y, samples=None, verbose=False)
    assert report.agrees
    local = {g.name: g for g in report.backward[1].gradients}["da_1/dz_1"]
    assert local.kinks == 1 and np.isnan(local.numeric[0])
    assert "ReLU kink" in str(report)


def test_explain_changes_nothing():
    model, x, y = _network(("relu", "softmax"), "categorical_crossentropy", 0, optimizer="adam")
    model.fit(x, y, epochs=2, verbose=0)
    weights, iterations = model.get_weights(), model.optimizer.iterations
    state = random.get_state()
    chainrule.explain(model, x, y, verbose=False)
    for before, after in zip(weights, model.get_weights()):
        np.testing.assert_array_equal(before, after)
    assert model.optimizer.iterations == iterations
    assert random.get_state() == state


def test_penalized_losses_compare_engine_and_differences_only():
    set_random_seed(0)
    model = Sequential(
        [L.Dense(3, activation="tanh", kernel_regularizer="l2", input_shape=(2,)), L.Dense(1)]
    )
    model.compile(optimizer="sgd", loss="mse")
    rng = np.random.default_rng(0)
    report = chainrule.explain(
        model, rng.normal(size=(4, 2)), rng.normal(size=(4, 1)), verbose=False
    )
    assert report.agrees
    factors = [g for step in report.backward for g in step.gradients]
    # da/dz does not involve the loss; every dL/d... does, and so leaves the textbook out
    assert all(g.textbook is None for g in factors if g.name.startswith("dL/"))
    assert all(g.textbook is not None for g in factors if g.name.startswith("da_"))
    assert "regularization penalties" in report.notes[0]


def test_bad_arguments_get_clear_errors():
    model, x, y = _network(("relu", "softmax"), "categorical_crossentropy", 0)
    with pytest.raises(TypeError, match="Sequential"):
        chainrule.explain(L.Dense(2), x, y)
    uncompiled = Sequential([L.Dense(2, input_shape=(5,))])
    with pytest.raises(ValueError, match="not compiled"):
        chainrule.explain(uncompiled, x, y)
    with pytest.raises(ValueError, match=r"x of shape \(6, 5\) and y of shape \(5, 3\)"):
        chainrule.explain(model, x, y[:5])
    with pytest.raises(ValueError, match="samples must be a positive integer"):
        chainrule.explain(model, x, y, samples=0)
    with pytest.raises(ValueError, match="step must be a positive number"):
        chainrule.explain(model, x, y, step=0.0)


def test_the_report_renders_as_plain_text_without_rich(monkeypatch):
    model, x, y = _network(("relu", "softmax"), "categorical_crossentropy", 0)
    report = chainrule.explain(model, x, y, verbose=False)
    monkeypatch.setitem(sys.modules, "rich.console", None)  # import rich.console fails
    out = io.StringIO()
    report.render(out, matrices=True)
    text = out.getvalue()
    for fragment in (
        "== 1. Forward",
        "== 2. Loss",
        "== 3. Backward",
        "== 4. Update",
        "dL/dW_2",
        "a_1ᵀ dL/dz_2",
        "W_1 =",
        "dL/dW_2 by finite differences =",
        "agree three ways",
    ):
        assert fragment in text, fragment
    assert "━" not in text  # no rich table borders


def test_explain_prints_by_default(capsys):
    model, x, y = _network(("tanh", "softmax"), "categorical_crossentropy", 0)
    chainrule.explain(model, x, y, samples=2)
    out = capsys.readouterr().out
    assert "1. Forward" in out and "4. Update" in out and "W_1 =" in out


def test_chainrule_explain_is_the_function_and_import_stays_light():
    assert callable(chainrule.explain) and chainrule.explain is explain_module.explain
    import subprocess

    code = (
        "import sys, chainrule; "
        "print(sorted(m for m in ('chainrule.keras', 'rich', 'matplotlib') "
        "if m in sys.modules))"
    )
    shown = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert shown.strip() == "[]"


# ----- the command -------------------------------------------------------------------------------
def _run(capsys, *argv):
    status = cli.main([str(arg) for arg in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_cli_explain_tiny_prints_every_number(capsys):
    status, out, err = _run(capsys, "explain", "--tiny")
    assert status == 0, err
    for fragment in (
        "a_0 = x =",
        "W_1 =",
        "b_1 =",
        "z_1 =",
        "a_2 =",
        "ŷ =",
        "dL/dz_2 by textbook =",
        "dL/dW_1 by finite differences =",
        "agree three ways",
    ):
        assert fragment in out, fragment
    assert re.search(r"dense(_\d+)?/kernel new =", out)
    w_1 = out.split("W_1 =\n", 1)[1].split("\n")[:4]
    assert [len(re.findall(r"-?\d+\.\d{6}", row)) for row in w_1] == [3, 3, 3, 3]  # every entry


def test_cli_explain_mnist_runs_and_exits_0(capsys):
    status, out, err = _run(capsys, "explain", "--batch-size", "8", "--samples", "4")
    assert status == 0, err
    assert "on a batch of 8 samples" in out and "(784, 10)" in out
    assert "W_1 =" not in out  # the matrices are too large to print


def test_cli_explain_prepares_only_the_batch_it_explains(capsys):
    """The 32 digits explained are made float, not the 60,000 training images (188 MB)."""
    tracemalloc.start()
    try:
        status, out, err = _run(capsys, "explain", "--batch-size", "32", "--samples", "4")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert status == 0, err
    assert peak < 120e6, f"explain allocated {peak / 1e6:.0f} MB at its peak"


def test_cli_explain_model_file(capsys, tmp_path):
    from chainrule.keras.models import Model

    if not hasattr(Model, "save"):
        pytest.skip("saving models is not available")
    set_random_seed(0)
    model = Sequential(
        [L.Dense(6, activation="sigmoid", input_shape=(784,)), L.Dense(10, activation="softmax")]
    )
    model.compile(optimizer=SGD(0.1), loss="sparse_categorical_crossentropy")
    model.save(tmp_path / "model.keras")
    status, out, err = _run(
        capsys, "explain", "--model", tmp_path / "model.keras", "--batch-size", "4"
    )
    assert status == 0, err
    assert "Dense, sigmoid" in out and "sparse_categorical_crossentropy" in out


def test_cli_explain_missing_model_is_one_line(capsys, tmp_path):
    status, _, err = _run(capsys, "explain", "--model", tmp_path / "none.keras")
    assert status == 1 and err.count("\n") == 1 and "does not exist" in err


def test_cli_explain_exits_1_on_disagreement(capsys, monkeypatch):
    rule = textbook.ACTIVATIONS["relu"]
    monkeypatch.setitem(
        textbook.ACTIVATIONS,
        "relu",
        textbook._Activation(rule.f, lambda z, a: np.ones_like(z), "1"),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        status, out, _ = _run(capsys, "explain", "--tiny")
    assert status == 1 and "DISAGREEMENT" in out


# ----- confident trained models: no false alarms, real errors still caught --------------------
_TRAINED = {}


def _readme_model(optimizer, seed):
    """The README's `chainrule train --seed S` network, trained 10 epochs on MNIST (cached): its
    predictions are confident, with probabilities within 1e-5 of 0 and 1e-7 of 1."""
    if (optimizer, seed) not in _TRAINED:
        (x, labels), _ = cli.digits.mnist()
        set_random_seed(seed)
        model = cli.digits.dense_network((10,))
        model.compile(optimizer=optimizer, loss="categorical_crossentropy")
        model.fit(x, to_categorical(labels, 10), epochs=10, verbose=0)
        _TRAINED[optimizer, seed] = model
    return _TRAINED[optimizer, seed]


def _first_digits(n=32):
    (x, labels), _ = cli.digits.mnist()
    return x[:n], to_categorical(labels[:n], 10)


def _false_alarms(model, seeds):
    x, y = _first_digits()
    found = {}
    for seed in seeds:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a disagreement, or numpy's, raises
            report = chainrule.explain(model, x, y, seed=seed, verbose=False)
        if not report.agrees:
            found[seed] = report.disagreements
    return found


@pytest.mark.parametrize("optimizer, seed", [("sgd", 1), ("adam", 3)])
def test_confident_models_get_no_false_disagreement(optimizer, seed):
    """Explain seeds 0-7 pick entries of dL/dŷ at probabilities within a step of 0 (seed 1 did,
    where ŷ - h < 0), and the Adam model's labels have probabilities that Keras clips at 1 - 1e-7,
    where the loss is flat."""
    assert _false_alarms(_readme_model(optimizer, seed), range(8)) == {}


@pytest.mark.slow
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_confident_models_get_no_false_disagreement_over_50_seeds(optimizer):
    for seed in (1, 2, 3):
        assert _false_alarms(_readme_model(optimizer, seed), range(50)) == {}, seed


def test_cli_explain_of_a_trained_model_agrees_without_warnings(capsys, tmp_path):
    from chainrule.keras.models import Model

    if not hasattr(Model, "save"):
        pytest.skip("saving models is not available")
    _readme_model("sgd", 1).save(tmp_path / "model.keras")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        status, out, err = _run(capsys, "explain", "--model", tmp_path / "model.keras", "--seed", 1)
    assert status == 0 and err == "" and caught == []
    assert "agree three ways" in out and "DISAGREE" not in out


def test_a_wrong_engine_derivative_is_still_caught_on_a_trained_model(capsys, monkeypatch):
    """dL/dW off by 1 % in the engine's VJP of linear: a real error, reported and exit 1."""
    model = _readme_model("sgd", 1)
    right = ops.linear.vjps[1]
    monkeypatch.setitem(ops.linear.vjps, 1, lambda *args: 1.01 * right(*args))
    x, y = _first_digits()
    with pytest.warns(RuntimeWarning, match="disagree"):
        report = chainrule.explain(model, x, y, seed=1, verbose=False)
    assert any(name.startswith("dL/dW_2 ") for name in report.disagreements)
    wrong = report.gradient("dL/dW_2")
    assert wrong.textbook_error > 1e-3 and wrong.numeric_error > 1e-3
    monkeypatch.setattr(cli.digits, "read_model", lambda path: model)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        status, out, err = _run(capsys, "explain", "--model", "trained.keras", "--seed", 1)
    assert status == 1 and "DISAGREEMENT" in out
    assert err == "" and caught == []  # the report says it in words, not a raw warning above it


# ----- gradient flow ------------------------------------------------------------------------------
def _mlp(seed, **dense):
    set_random_seed(seed)
    model = Sequential([L.Dense(4, activation="tanh", input_shape=(3,), **dense), L.Dense(2)])
    model.compile(optimizer=SGD(0.1), loss="mse")
    return model


def test_gradient_flow_records_norms_every_n_steps_without_changing_training():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(40, 3)), rng.normal(size=(40, 2))
    probe_x, probe_y = x[:8], y[:8]

    plain = _mlp(0)
    plain.fit(x, y, batch_size=4, epochs=2, verbose=0)
    model = _mlp(0)
    flow = GradientFlow(probe_x, probe_y, every=4)
    model.fit(x, y, batch_size=4, epochs=2, verbose=0, callbacks=[flow])
    for a, b in zip(plain.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)  # measuring changed nothing

    assert flow.steps == list(range(0, 21, 4))  # 20 steps, and once before the first
    names = [layer.name for layer in model.layers]
    assert list(flow.gradient_norms) == names and list(flow.weight_norms) == names
    assert all(len(v) == len(flow.steps) for v in flow.gradient_norms.values())
    np.testing.assert_allclose(
        flow.weight_norms[names[1]][-1],
        np.sqrt(sum((w**2).sum() for w in model.layers[1].get_weights())),
        rtol=1e-6,
    )
    # the first measurement is the gradient at the initial weights, on the probe batch
    fresh = _mlp(0)
    loss = fresh.compute_loss(None, probe_y, fresh(probe_x))
    grads = chainrule.gradients(loss, fresh.layers[0].trainable_weights)
    expected = np.sqrt(sum((g.numpy() ** 2).sum() for g in grads))
    assert flow.gradient_norms[names[0]][0] == pytest.approx(expected, rel=1e-5)
    assert flow.alerts == []


def test_gradient_flow_warns_when_gradients_vanish():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(16, 3)), rng.normal(size=(16, 1))
    set_random_seed(0)
    model = Sequential(
        [L.Dense(4, activation="relu", kernel_initializer="zeros", input_shape=(3,)), L.Dense(1)]
    )
    model.compile(optimizer=SGD(0.01), loss="mse")  # relu'(0) = 0: layer 1 never learns
    flow = GradientFlow(x, y, every=1, patience=3)
    with pytest.warns(RuntimeWarning, match=r"'dense.*' has vanishing gradients.*3 measurements"):
        model.fit(x, y, batch_size=4, epochs=1, verbose=0, callbacks=[flow])
    assert len(flow.alerts) == 1 and "steps 0 to 2" in flow.alerts[0]


def test_gradient_flow_warns_when_gradients_explode():
    from chainrule.keras.initializers import Constant

    x, y = np.ones((4, 2)), np.zeros((4, 1))
    model = Sequential([L.Dense(1, kernel_initializer=Constant(1e4), input_shape=(2,))])
    model.compile(optimizer=SGD(0.0), loss="mse")
    flow = GradientFlow(x, y, every=1, patience=2)
    with pytest.warns(RuntimeWarning, match="exploding gradients"):
        model.fit(x, y, batch_size=4, epochs=3, verbose=0, callbacks=[flow])
    assert flow.gradient_norms[model.layers[0].name][0] > 1e3


def test_gradient_flow_checks_its_arguments():
    with pytest.raises(ValueError, match="every must be a positive integer"):
        GradientFlow(np.ones((1, 1)), np.ones((1, 1)), every=0)
    with pytest.raises(ValueError, match="0 < low < high"):
        GradientFlow(np.ones((1, 1)), np.ones((1, 1)), low=1.0, high=0.5)


def test_plot_gradient_flow_writes_a_png(tmp_path):
    from chainrule.tools.plot import plot_gradient_flow

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(16, 3)), rng.normal(size=(16, 2))
    model = _mlp(0)
    flow = GradientFlow(x, y, every=2)
    model.fit(x, y, batch_size=4, epochs=2, verbose=0, callbacks=[flow])
    path = tmp_path / "gradient_flow.png"
    plot_gradient_flow(flow, path, title="tiny")
    assert path.read_bytes().startswith(PNG_SIGNATURE)
    with pytest.raises(ValueError, match="no measurements"):
        plot_gradient_flow(GradientFlow(x, y), tmp_path / "empty.png")


@pytest.mark.slow
def test_cli_train_explain_writes_gradient_flow(capsys, tmp_path):
    status, out, err = _run(
        capsys, "train", "--epochs", "1", "--seed", "0", "--quiet", "--explain", "--out", tmp_path
    )
    assert status == 0, err
    assert "gradient_flow.png" in out
    assert (tmp_path / "gradient_flow.png").read_bytes().startswith(PNG_SIGNATURE)
    assert (tmp_path / "training.png").exists()
