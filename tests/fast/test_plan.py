"""Trace once, replay: the replayed step must give the engine's results, bit for bit."""

import traceback

import numpy as np
import pytest

import chainrule as cr
from chainrule import keras
from chainrule.engine import grad_arrays, tracing
from chainrule.fast import fused
from chainrule.fast import plan as plan_module
from chainrule.fast.plan import Plan
from chainrule.fast.train_step import MAX_SHAPES
from chainrule.keras.layers import Dense, Layer
from chainrule.keras.models import Sequential

rng = np.random.default_rng(0)


def _traced(model, arrays):
    inputs = [cr.Tensor(a) for a in arrays]
    with tracing():
        loss, y_pred = model.forward_loss(*inputs)
    return Plan(inputs, [loss, y_pred], model.trainable_weights)


CASES = [
    (
        "relu",
        "softmax",
        "categorical_crossentropy",
        lambda n: np.eye(4, dtype=np.float32)[rng.integers(0, 4, n)],
    ),
    ("tanh", "softmax", "sparse_categorical_crossentropy", lambda n: rng.integers(0, 4, n)),
    (
        "sigmoid",
        "sigmoid",
        "binary_crossentropy",
        lambda n: rng.integers(0, 2, (n, 4)).astype(np.float32),
    ),
    ("gelu", None, "mse", lambda n: rng.standard_normal((n, 4)).astype(np.float32)),
]


@pytest.mark.parametrize("hidden, out, loss, make_y", CASES)
@pytest.mark.parametrize("weighted", [False, True])
def test_replay_equals_the_engine_on_new_batches(hidden, out, loss, make_y, weighted):
    model = Sequential(
        [
            Dense(6, activation=hidden, input_shape=(5,)),
            Dense(4, activation=out, kernel_regularizer="l2"),
        ]
    )
    model.compile("sgd", loss)

    def batch():
        arrays = [rng.standard_normal((8, 5)).astype(np.float32), make_y(8)]
        return arrays + ([rng.uniform(0, 2, 8).astype(np.float32)] if weighted else [])

    plan = _traced(model, batch())
    for _ in range(3):
        arrays = batch()
        (loss_value, y_pred), grads = plan.run(*arrays)
        eager_loss, eager_pred = model.forward_loss(*[cr.Tensor(a) for a in arrays])
        eager_grads = grad_arrays(eager_loss, model.trainable_weights)
        np.testing.assert_array_equal(loss_value, eager_loss.numpy())
        np.testing.assert_array_equal(y_pred, eager_pred.numpy())
        for g, e in zip(grads, eager_grads):
            np.testing.assert_array_equal(g, e)
        model.optimizer.apply(grads, model.trainable_weights)  # replay reads updated weights


def test_training_with_replay_is_identical_to_training_through_the_engine():
    x = rng.standard_normal((100, 5)).astype(np.float32)
    y = rng.integers(0, 3, 100)

    def train(run_eagerly):
        keras.utils.set_random_seed(1)
        model = Sequential([Dense(8, activation="relu"), Dense(3, activation="softmax")])
        model.compile(
            keras.optimizers.SGD(0.1, momentum=0.9),
            "sparse_categorical_crossentropy",
            metrics=["accuracy"],
            run_eagerly=run_eagerly,
        )
        history = model.fit(x, y, epochs=3, batch_size=16, verbose=0)  # last batch: 4 samples
        return model, history.history

    replayed, h1 = train(False)
    eager, h2 = train(True)
    assert h1 == h2
    for a, b in zip(replayed.get_weights(), eager.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert any(isinstance(p, Plan) for p in replayed._train_plans.plans.values())
    assert not eager._train_plans.plans


class DataDependentScale(Layer):
    """Multiplies by a number computed in Python from the data: a value a trace would freeze."""

    def call(self, inputs):
        return inputs * float(np.abs(inputs.numpy()).mean())


def test_a_step_whose_trace_would_freeze_a_value_is_not_replayed():
    x = rng.standard_normal((64, 5)).astype(np.float32)
    y = rng.integers(0, 3, 64)
    model = Sequential([Dense(4), DataDependentScale(), Dense(3, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    assert set(model._train_plans.plans.values()) == {"disabled"}


def test_batches_of_ever_new_shapes_stop_being_traced_after_a_few():
    """Text padded to each batch's longest sequence gives a new shape per batch: once
    MAX_SHAPES shapes have plans, new ones run through the engine, untraced."""
    model = Sequential([keras.layers.Embedding(20, 4), keras.layers.GlobalAveragePooling1D()])
    model.compile("sgd", "mse")
    for length in range(1, MAX_SHAPES + 6):
        x = rng.integers(0, 20, (8, length))
        model.train_on_batch(x, np.zeros((8, 4), "float32"))
    assert len(model._train_plans.plans) == MAX_SHAPES


def test_a_step_that_sums_over_the_processes_is_not_replayed():
    """Synchronized BatchNormalization (momentum 1: no moving average changes, which would stop
    the replay anyway) sums over the processes: every step runs through the engine."""
    model = Sequential(
        [
            keras.Input((3,)),
            Dense(4, use_bias=False),
            keras.layers.BatchNormalization(momentum=1.0, synchronized=True),
            Dense(1),
        ]
    )
    model.compile(optimizer="sgd", loss="mse")
    x = rng.standard_normal((32, 3)).astype(np.float32)
    model.fit(x, x[:, :1], batch_size=8, epochs=1, verbose=0)
    assert set(model._train_plans.plans.values()) == {"disabled"}


def test_the_plan_source_writes_out_the_chain_rule():
    model = Sequential(
        [Dense(3, activation="relu", input_shape=(2,)), Dense(2, activation="softmax")]
    )
    model.compile("sgd", "categorical_crossentropy")
    plan = _traced(model, [np.ones((4, 2), np.float32), np.eye(2, dtype=np.float32)[[0, 1, 0, 1]]])
    assert "# linear" in plan.source and "# mean_softmax_cross_entropy" in plan.source
    assert "# _linear_vjp_kernel" in plan.source and "# _relu_vjp" in plan.source
    assert "axis=-1)  # softmax" in plan.source and "**" not in plan.source  # literal keywords


def test_a_traceback_through_a_replayed_step_shows_the_failing_line():
    model = Sequential(
        [Dense(3, activation="relu", input_shape=(2,)), Dense(2, activation="softmax")]
    )
    model.compile("sgd", "categorical_crossentropy")
    plan = _traced(model, [np.ones((4, 2), np.float32), np.eye(2, dtype=np.float32)[[0, 1, 0, 1]]])
    # a batch of another width: the first replayed line, the dense layer's product, fails there
    with pytest.raises(ValueError) as failure:
        plan.run(np.ones((4, 5), np.float32), np.eye(2, dtype=np.float32)[[0, 1, 0, 1]])
    text = "".join(traceback.format_exception(failure.value))
    assert f'File "{plan.filename}", line ' in text
    failing = next(line for line in plan.source.splitlines() if line.endswith("# linear"))
    assert failing.strip() in text  # the generated line itself, as for any Python file


def test_dropout_draws_afresh_in_each_replayed_step():
    x = rng.standard_normal((96, 5)).astype(np.float32)
    y = rng.integers(0, 3, 96)

    def train(run_eagerly):
        keras.utils.set_random_seed(2)
        model = Sequential(
            [
                Dense(16, activation="relu"),
                keras.layers.Dropout(0.5),
                keras.layers.GaussianNoise(0.1),
                Dense(3, activation="softmax"),
            ]
        )
        model.compile("adam", "sparse_categorical_crossentropy", run_eagerly=run_eagerly)
        history = model.fit(x, y, epochs=3, batch_size=16, verbose=0)
        return model, history.history

    replayed, h1 = train(False)
    eager, h2 = train(True)
    assert any(isinstance(p, Plan) for p in replayed._train_plans.plans.values())
    assert h1 == h2
    for a, b in zip(replayed.get_weights(), eager.get_weights()):
        np.testing.assert_array_equal(a, b)


def _eager(model, arrays):
    loss, y_pred = model.forward_loss(*[cr.Tensor(a) for a in arrays])
    return [loss.data, y_pred.data], grad_arrays(loss, model.trainable_weights)


@pytest.mark.parametrize(
    "pooling",
    [
        {"pool_size": 2},
        {"pool_size": 3, "strides": 1, "padding": "same"},  # overlapping windows, -inf pads
        {"pool_size": 2, "strides": 2, "padding": "valid"},
    ],
)
def test_a_relu_before_max_pooling_is_replayed_after_it_with_the_same_results(pooling):
    """max_pool(relu(z)) = relu(max_pool(z)): the plan pools first, and its outputs and
    gradients are the engine's exactly, ties at zero included (half the pre-activations are
    negative, so many windows are all zeros after the relu)."""
    keras.utils.set_random_seed(1)
    model = Sequential(
        [
            keras.Input(shape=(7, 7, 2)),
            keras.layers.Conv2D(4, 2, activation="relu"),
            keras.layers.MaxPooling2D(**pooling),
            keras.layers.Conv2D(3, 2, padding="same"),
            keras.layers.Activation("relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Flatten(),
            Dense(3, activation="softmax"),
        ]
    )
    model.compile("sgd", "categorical_crossentropy")
    batch = lambda: [
        rng.standard_normal((5, 7, 7, 2)).astype(np.float32),
        np.eye(3, dtype=np.float32)[rng.integers(0, 3, 5)],
    ]
    plan = _traced(model, batch())
    source = plan.source
    assert source.index("# max_pool2d") < source.index("# relu")  # pooled first, both times
    assert source.count("# relu") == 2 and source.count("# _relu_vjp") == 2
    for _ in range(3):
        arrays = batch()
        outputs, grads = plan.run(*arrays)
        expected_outputs, expected_grads = _eager(model, arrays)
        for got, want in zip(outputs + grads, expected_outputs + expected_grads):
            np.testing.assert_array_equal(got, want)


def _pooled_and_used_again(block):
    """A traced plan of a model whose ``block`` output is max-pooled and also used again (added
    back after the pooling's upsampling), with the arrays it was traced on."""
    inputs = keras.Input(shape=(4, 4, 1))
    convolved = block(keras.layers.Conv2D(2, 1)(inputs))
    pooled = keras.layers.UpSampling2D(2)(keras.layers.MaxPooling2D(2)(convolved))
    outputs = Dense(2, activation="softmax")(
        keras.layers.Flatten()(keras.layers.Add()([pooled, convolved]))
    )
    model = keras.Model(inputs, outputs)
    model.compile("sgd", "categorical_crossentropy")
    arrays = [
        rng.standard_normal((3, 4, 4, 1)).astype(np.float32),
        np.eye(2, dtype=np.float32)[[0, 1, 1]],
    ]
    return model, _traced(model, arrays), arrays


def test_a_relu_with_another_use_is_not_moved():
    """When the relu's output is also used elsewhere, it must be computed as such: no rewrite."""
    model, plan, arrays = _pooled_and_used_again(keras.layers.Activation("relu"))
    assert plan.source.index("# relu") < plan.source.index("# max_pool2d")
    outputs, grads = plan.run(*arrays)
    expected_outputs, expected_grads = _eager(model, arrays)
    for got, want in zip(outputs + grads, expected_outputs + expected_grads):
        np.testing.assert_array_equal(got, want)


def _convnet(pooling, activation="relu"):
    keras.utils.set_random_seed(2)
    model = Sequential(
        [
            keras.Input(shape=(9, 9, 1)),
            keras.layers.Conv2D(4, 2, activation=activation),
            keras.layers.MaxPooling2D(**pooling),
            keras.layers.Conv2D(3, 2),
            keras.layers.MaxPooling2D(2),  # 3x3 -> 1x1: its last row and column are not read
            keras.layers.Flatten(),
            Dense(3, activation="softmax"),
        ]
    )
    model.compile("sgd", "categorical_crossentropy")
    return model


def _conv_batch():
    return [
        rng.standard_normal((5, 9, 9, 1)).astype(np.float32),
        np.eye(3, dtype=np.float32)[rng.integers(0, 3, 5)],
    ]


@pytest.fixture
def loss_as_its_ops(monkeypatch):
    """Plans keep a softmax cross-entropy loss as its ops: outside fit, which installs the
    kernels whose numbers the call that computes it otherwise gives, those of the primitives
    as written, which the engine computes here."""
    monkeypatch.setattr(plan_module, "_fuse_softmax_cross_entropy", lambda plan: None)


@pytest.mark.parametrize("activation", ["relu", None])
def test_a_convolution_pooled_by_tiling_windows_is_computed_in_their_layout(
    activation, loss_as_its_ops
):
    """Once specialized, the plan computes each convolution whose only use is a tiling max
    pooling in the tiled layout and pools with tile_max (taking in the relu that follows it),
    and computes their gradients in one call: the same outputs, and gradients equal up to the
    rounding of sums taken in another order."""
    model = _convnet({"pool_size": 2}, activation)
    plan = _traced(model, _conv_batch())
    plan.specialize()
    assert plan.source.count("tiles=(2, 2))  # conv2d_tiled") == 2
    assert plan.source.count("# tile_max") == 2
    assert "# max_pool2d" not in plan.source
    # each block's gradients in one call: the pooling's, then the convolution's
    assert plan.source.count("# tiled_conv_gradients") == 2
    assert "# _tile_max_vjp" not in plan.source and "# _conv2d_vjp" not in plan.source
    # the first block's relu runs inside its pooling, forward and backward
    assert plan.source.count("relu=True)  # tile_max") == (activation == "relu")
    assert plan.source.count("# relu") == 0 if activation else "# relu" not in plan.source
    for _ in range(3):
        arrays = _conv_batch()
        outputs, grads = plan.run(*arrays)
        expected_outputs, expected_grads = _eager(model, arrays)
        for got, want in zip(outputs, expected_outputs):
            np.testing.assert_array_equal(got, want)
        for got, want in zip(grads, expected_grads):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_poolings_whose_windows_overlap_or_pad_keep_the_plain_layout():
    for pooling in ({"pool_size": 3, "strides": 2}, {"pool_size": 2, "padding": "same"}):
        model = _convnet(pooling)
        plan = _traced(model, _conv_batch())
        plan.specialize()
        assert plan.source.count("# max_pool2d") == 1 and plan.source.count("# tile_max") == 1
        assert plan.source.count("tiles=(2, 2))  # conv2d_tiled") == 1


def test_a_convolution_with_another_use_keeps_the_plain_layout():
    _, plan, _ = _pooled_and_used_again(lambda convolved: convolved)
    plan.specialize()
    assert "# max_pool2d" in plan.source and "tiles=" not in plan.source


def _softmax_classifier(loss="categorical_crossentropy", activation="softmax", **dense_options):
    keras.utils.set_random_seed(3)
    model = Sequential(
        [
            Dense(6, activation="relu", input_shape=(5,)),
            Dense(4, activation=activation, **dense_options),
        ]
    )
    model.compile("sgd", loss)
    return model


def _classified_batch(sparse=False):
    labels = rng.integers(0, 4, 8)
    return [
        rng.standard_normal((8, 5)).astype(np.float32),
        labels if sparse else np.eye(4, dtype=np.float32)[labels],
    ]


@pytest.mark.parametrize(
    "activation, loss",
    [
        ("softmax", "categorical_crossentropy"),
        ("softmax", "sparse_categorical_crossentropy"),
        (None, keras.losses.CategoricalCrossentropy(from_logits=True)),
        (None, keras.losses.SparseCategoricalCrossentropy(from_logits=True)),
    ],
    ids=["softmax", "softmax, sparse", "logits", "logits, sparse"],
)
def test_a_softmax_cross_entropy_loss_is_computed_with_its_gradient_once_specialized(
    activation, loss
):
    """Where Numba is installed, a plan whose loss is the softmax cross-entropy of the model's
    logits (labels one-hot or class indices; the model's output their softmax or the logits)
    computes the loss, its gradient and the softmax in one call once specialized: the engine's
    outputs and gradients, to rounding."""
    pytest.importorskip("numba")
    sparse = "Sparse" in type(loss).__name__ or "sparse" in str(loss)
    model = _softmax_classifier(loss, activation)
    plan = _traced(model, _classified_batch(sparse))
    plan.specialize()
    call = "# sparse_softmax_cross_entropy_with_gradient" if sparse else "# softmax_cross_entropy_"
    assert plan.source.count(call) == 1
    for op in ("# softmax\n", "cross_entropy\n", "_cross_entropy_vjp", "# mean", "_mean_vjp"):
        assert op not in plan.source
    for _ in range(3):
        arrays = _classified_batch(sparse)
        outputs, grads = plan.run(*arrays)
        expected_outputs, expected_grads = _eager(model, arrays)
        for got, want in zip(outputs + grads, expected_outputs + expected_grads):
            np.testing.assert_allclose(got, want, rtol=2e-6, atol=1e-8)


def test_a_softmax_loss_with_more_added_or_without_numba_keeps_its_ops(monkeypatch):
    """A regularizer's term added to the loss (the cross-entropy's gradient is then not the
    seed's), an ignored class, or no Numba: the softmax, the loss and its VJPs stay as the
    engine runs them."""
    for model, sparse in (
        (_softmax_classifier(kernel_regularizer="l2"), False),
        (_softmax_classifier(keras.losses.SparseCategoricalCrossentropy(ignore_class=0)), True),
    ):
        plan = _traced(model, _classified_batch(sparse))
        plan.specialize()
        assert "_with_gradient" not in plan.source
    monkeypatch.setattr(fused, "compiled", lambda: None)
    plan = _traced(_softmax_classifier(), _classified_batch())
    plan.specialize()
    assert "_with_gradient" not in plan.source
    assert "# mean_softmax_cross_entropy" in plan.source


def test_training_with_the_loss_computed_in_one_call_is_training_through_the_engine():
    """Three epochs of a classifier whose loss a plan computes in one call, against the engine
    inside fit (whose kernels run the same pass per row): the same history and weights, bit
    for bit."""
    pytest.importorskip("numba")
    x = rng.standard_normal((100, 5)).astype(np.float32)
    y = rng.integers(0, 3, 100)

    def train(run_eagerly, loss):
        keras.utils.set_random_seed(1)
        model = Sequential([Dense(8, activation="relu"), Dense(3, activation="softmax")])
        model.compile("adam", loss, run_eagerly=run_eagerly)
        labels = y if "sparse" in loss else np.eye(3, dtype=np.float32)[y]
        history = model.fit(x, labels, epochs=3, batch_size=16, verbose=0)
        return model, history.history

    for loss in ("sparse_categorical_crossentropy", "categorical_crossentropy"):
        (replayed, fused_history), (eager, history) = train(False, loss), train(True, loss)
        plans = [p for p in replayed._train_plans.plans.values() if isinstance(p, Plan)]
        assert plans and all("_with_gradient" in p.source for p in plans)
        assert fused_history == history
        for a, b in zip(replayed.get_weights(), eager.get_weights()):
            np.testing.assert_array_equal(a, b)
