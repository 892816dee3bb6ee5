"""keras.ops and the TensorFlow vocabulary in a replayed step: each function is recorded (so a
replay computes it afresh on each batch) or notes that it read its data's values (so the step
is not replayed). None may be frozen into a plan with the traced batch's values."""

import inspect

import numpy as np
import pytest

import chainrule as cr
from chainrule import engine, keras, nest, tf
from chainrule.fast.plan import Plan
from chainrule.keras import layers, ops


def _batch(kind, seed):
    """A (4, 5) batch: floats with some NaNs (odd seeds) or zeros (even seeds), or integers."""
    rng = np.random.default_rng(seed)
    if kind == "f":
        x = rng.standard_normal((4, 5)).astype("float32")
        x[rng.random((4, 5)) < 0.2] = np.nan if seed % 2 else 0.0
        return x
    return rng.integers(-3, 5, (4, 5)).astype("int32")


def _tensors(out):
    return [t for t in nest.flatten(out) if isinstance(t, cr.Tensor)]


def _traced(fn, kinds):
    """(whether the trace read values, the plan of ``fn`` traced on one batch, or None)."""
    inputs = [cr.Tensor(_batch(kind, 1)) for kind in kinds]
    with engine.tracing(inputs) as traced:
        outputs = _tensors(fn(*inputs))
    return traced.values_read, Plan(inputs, outputs, []) if outputs else None


def _replays_as_the_engine(fn, kinds, plan):
    arrays = [_batch(kind, 2 + i) for i, kind in enumerate(kinds)]
    replayed = plan.run(*arrays)[0]
    eager = [t.data for t in _tensors(fn(*[cr.Tensor(a) for a in arrays]))]
    assert len(replayed) == len(eager)
    for got, want in zip(replayed, eager):
        assert got.shape == want.shape and got.dtype == want.dtype
        if want.dtype.kind == "f":
            np.testing.assert_allclose(got, want, rtol=1e-6, equal_nan=True)
        else:
            np.testing.assert_array_equal(got, want)


def _every_op():
    """(name, function, input kinds) for each function of keras.ops and of the TensorFlow
    vocabulary that takes one or two (4, 5) float or integer tensors."""
    found, seen = [], set()
    for prefix, module in (("ops", ops), ("tf", tf), ("tf.math", tf.math), ("tf.nn", tf.nn)):
        for name in sorted(dir(module)):
            fn = getattr(module, name)
            if name.startswith("_") or inspect.isclass(fn) or inspect.ismodule(fn):
                continue
            if not callable(fn) or id(fn) in seen:
                continue
            seen.add(id(fn))
            for kinds in ("f", "ff", "i", "ii", "fi"):
                try:
                    with np.errstate(all="ignore"):
                        outputs = _tensors(fn(*[cr.Tensor(_batch(k, 1)) for k in kinds]))
                except Exception:
                    continue
                if outputs:
                    found.append((f"{prefix}.{name}", fn, kinds))
                break
    return found


EVERY_OP = _every_op()


def test_the_ops_are_found():
    assert len(EVERY_OP) > 230


@pytest.mark.parametrize("name, fn, kinds", EVERY_OP, ids=[case[0] for case in EVERY_OP])
def test_each_op_is_replayed_as_the_engine_computes_it_or_notes_its_read(name, fn, kinds):
    with np.errstate(all="ignore"):
        read, plan = _traced(fn, kinds)
        if not read:
            _replays_as_the_engine(fn, kinds, plan)


MASKS_AND_INDICES = {
    "comparisons": lambda x: [ops.equal(x, 0), ops.greater(x, 0), ops.less_equal(x, 0.5)],
    "logic": lambda x: [
        ops.logical_and(x > 0, x < 1),
        ops.logical_or(x > 1, x < -1),
        ops.logical_xor(x > 0, x > 1),
        ops.logical_not(x > 0),
    ],
    "tests": lambda x: [ops.isnan(x), ops.isfinite(x), ops.isposinf(x / 0), ops.signbit(x)],
    "rounding": lambda x: [ops.floor(3 * x), ops.ceil(3 * x), ops.round(3 * x), ops.trunc(3 * x)],
    "arg": lambda x: [ops.argmax(x, axis=1), ops.argmin(x, axis=0, keepdims=True)],
    "truth": lambda x: [ops.all(x > -1, axis=1), ops.any(x > 1), ops.count_nonzero(x, axis=0)],
    "where": lambda x: ops.where(ops.greater(x, 0), x, 0.1 * x),
    "stop_gradient": lambda x: x + ops.stop_gradient(ops.round(x) - x),
    "take": lambda x: ops.take(x, ops.argmax(x, axis=0), axis=1),
    "take_along_axis": lambda x: ops.take_along_axis(x, ops.argsort(x, axis=1), axis=1),
    "boolean index": lambda x: x[x > 0],
    "top_k": lambda x: ops.top_k(x, 2),
    "in_top_k": lambda x: ops.in_top_k(ops.argmax(x, axis=1), x, 1),
    "sort": lambda x: [ops.sort(x), ops.median(x, axis=1)],
    "nan": lambda x: [ops.nan_to_num(x), ops.nansum(x), ops.nanmax(x, axis=0)],
    "floor_divide": lambda x: ops.floor_divide(x, 0.3),
    "tf.gather": lambda x: [
        tf.gather(x, ops.argmax(x, axis=0), axis=1),
        tf.gather(x, ops.argmax(x, axis=1), axis=1, batch_dims=1),
        tf.gather_nd(x, ops.stack([ops.arange(4), ops.cast(ops.argmax(x, axis=1), "int32")], 1)),
    ],
}


@pytest.mark.parametrize("name", MASKS_AND_INDICES)
def test_the_ops_of_masks_indices_and_rounding_are_recorded_not_read(name):
    """What users write in custom layers and losses (masks, comparisons, argmax, indices,
    straight-through rounding) is recorded, so a step using it keeps its plan."""
    fn = MASKS_AND_INDICES[name]
    with np.errstate(all="ignore"):
        read, plan = _traced(fn, "f")
        assert not read
        _replays_as_the_engine(fn, "f", plan)


def test_a_custom_gradient_is_read_not_recorded():
    """A custom gradient's function runs on values outside the recorded ops (and its
    gradient function keeps the traced batch's values): a step with one is not replayed."""

    @ops.custom_gradient
    def clipped_identity(x):
        return x, lambda g: ops.clip(g, -1, 1)

    read, _ = _traced(lambda x: clipped_identity(x) * 2, "f")
    assert read


def test_a_model_with_masks_and_a_straight_through_rounding_trains_replayed_as_eagerly():
    """A leaky activation written with ``where``, a straight-through rounding with
    ``stop_gradient`` and a loss that leaves out the zero targets with ``not_equal``: the
    step keeps its plan, and the weights after training are the engine's."""

    def masked_mse(y_true, y_pred):
        kept = ops.cast(ops.not_equal(y_true, 0), "float32")
        return ops.sum(kept * (y_true - y_pred) ** 2, axis=-1) / ops.maximum(
            ops.sum(kept, axis=-1), 1.0
        )

    def build(run_eagerly):
        keras.utils.set_random_seed(0)
        inputs = keras.Input((6,))
        hidden = layers.Dense(8)(inputs)
        hidden = layers.Lambda(lambda h: ops.where(ops.greater(h, 0), h, 0.1 * h))(hidden)
        hidden = layers.Lambda(lambda h: h + ops.stop_gradient(ops.round(4 * h) / 4 - h))(hidden)
        model = keras.Model(inputs, layers.Dense(3)(hidden))
        model.compile("adam", masked_mse, run_eagerly=run_eagerly)
        return model

    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 6)).astype("float32")
    y = rng.normal(size=(64, 3)).astype("float32") * (rng.random((64, 3)) < 0.7)
    replayed, eager = build(False), build(True)
    replayed.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    eager.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    assert any(isinstance(p, Plan) for p in replayed._train_plans.plans.values())
    for got, want in zip(replayed.get_weights(), eager.get_weights()):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_a_ctc_loss_reads_each_batchs_labels_in_a_replayed_step():
    """The labels and their lengths are inputs of the CTC op, not arrays of the traced batch:
    the replayed step trains as the engine does."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 10, 6)).astype("float32")
    y = rng.integers(0, 4, (64, 3))
    models = []
    for run_eagerly in (False, True):
        keras.utils.set_random_seed(0)
        inputs = keras.Input((10, 6))
        model = keras.Model(inputs, layers.Dense(5)(inputs))
        model.compile("adam", keras.losses.CTC(), run_eagerly=run_eagerly)
        model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
        models.append(model)
    assert any(isinstance(p, Plan) for p in models[0]._train_plans.plans.values())
    for got, want in zip(models[0].get_weights(), models[1].get_weights()):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_a_replayed_tf_gather_checks_each_batchs_indices():
    """The range check that TensorFlow makes on the CPU is an op of the plan: indices in range
    on the traced batch and out of it on a later one still raise the gather's error."""

    def gathers(x, i, coordinates):
        return [tf.gather(x, i, axis=1), tf.gather_nd(x, coordinates)]

    x = _batch("f", 1)
    i, coordinates = np.array([0, 4, 2]), np.array([[3, 4], [0, 0]])
    inputs = [cr.Tensor(a) for a in (x, i, coordinates)]
    with engine.tracing(inputs) as traced:
        outputs = gathers(*inputs)
    assert not traced.values_read
    plan = Plan(inputs, outputs, [])
    x = _batch("f", 2)
    for got, want in zip(
        plan.run(x, i[::-1], coordinates[::-1])[0], gathers(x, i[::-1], coordinates[::-1])
    ):
        np.testing.assert_array_equal(got, want.data)
    with pytest.raises(ValueError, match="gather: index 5 is out of range for axis 1 of size 5"):
        plan.run(x, i + 1, coordinates)
    with pytest.raises(ValueError, match="gather_nd: index 4 is out of range for axis 0 of size 4"):
        plan.run(x, i, coordinates + 1)
