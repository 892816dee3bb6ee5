"""The fused optimizer updates (chainrule.fast.fused): the NumPy update's results, bit for bit,
for every elementwise optimizer and its options; the fallbacks where a kernel does not apply."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import ops
from chainrule.fast import fused, kernels, tiled, updates
from chainrule.keras import optimizers

SHAPE = (70, 90)  # 6,300 elements: above FUSED_FROM, so fit's loop fuses the update

FTRL_REGULARISED = {
    "l1_regularization_strength": 0.01,
    "l2_regularization_strength": 0.02,
    "l2_shrinkage_regularization_strength": 0.03,
    "beta": 0.1,
}
CASES = [
    ("SGD", {"momentum": 0.9}, "sgd_momentum"),
    ("SGD", {"momentum": 0.9, "nesterov": True}, "sgd_momentum"),
    ("Adam", {}, "adam"),
    ("Adam", {"amsgrad": True}, "adam"),
    ("AdamW", {}, "adam"),
    ("RMSprop", {}, "rmsprop"),
    ("RMSprop", {"centered": True, "momentum": 0.5}, "rmsprop"),
    ("RMSprop", {"momentum": 0.3}, "rmsprop"),
    ("Adagrad", {}, "adagrad"),
    ("Adadelta", {"learning_rate": 1.0}, "adadelta"),
    ("Adamax", {}, "adamax"),
    ("Nadam", {}, "nadam"),
    ("Ftrl", FTRL_REGULARISED, "ftrl"),
    ("Lion", {}, "lion"),
]


class _Recording:
    """Stands in for the kernels' module: runs each kernel and records its name."""

    def __init__(self, module):
        self.module, self.names = module, []

    def __getattr__(self, name):
        self.names.append(name)
        return getattr(self.module, name)


@pytest.fixture
def recorded(monkeypatch):
    """The names of the compiled kernels that run during the test."""
    pytest.importorskip("numba")  # the test extra installs it
    recording = _Recording(fused.compiled())
    monkeypatch.setattr(fused, "compiled", lambda: recording)
    return recording.names


def _train(name, options, loop, w0, grads, schedule=None):
    variable = cr.Variable(w0.copy())
    if schedule is not None:
        options = {**options, "learning_rate": schedule}
    optimizer = getattr(optimizers, name)(**options)
    optimizer.update_loop = loop
    for g in grads:
        optimizer.apply([g], [variable])
    return variable.numpy()


def _draw(dtype, shape=SHAPE, steps=3, seed=0):
    rng = np.random.default_rng(seed)
    w0 = rng.standard_normal(shape).astype(dtype)
    return w0, [rng.standard_normal(shape).astype(dtype) for _ in range(steps)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name, options, kernel", CASES)
def test_a_fused_update_is_the_numpy_update_bit_for_bit(recorded, name, options, kernel, dtype):
    w0, grads = _draw(dtype)
    numpy_result = _train(name, options, None, w0, grads)
    fused_result = _train(name, options, updates.update, w0, grads)
    assert recorded == [kernel] * len(grads)
    assert fused_result.dtype == dtype
    np.testing.assert_array_equal(fused_result, numpy_result)
    assert not np.array_equal(fused_result, w0)


@pytest.mark.parametrize("name, options, kernel", CASES)
def test_the_kernels_as_python_loops_are_the_numpy_update(monkeypatch, name, options, kernel):
    # what Numba compiles, run by the interpreter: the same arithmetic on NumPy's scalars
    recording = _Recording(fused)
    monkeypatch.setattr(fused, "compiled", lambda: recording)
    w0, grads = _draw(np.float32, shape=(fused.FUSED_FROM,), steps=2)
    numpy_result = _train(name, options, None, w0, grads)
    np.testing.assert_array_equal(_train(name, options, updates.update, w0, grads), numpy_result)
    assert recording.names == [kernel] * len(grads)


def test_ftrl_with_another_power_agrees_to_rounding(recorded):
    # NumPy's float32 power may round its last bit unlike the C library's powf; p = 0.5 is a
    # square root in both (the case above)
    w0, grads = _draw(np.float32)
    options = {"learning_rate_power": -0.3, **FTRL_REGULARISED}
    numpy_result = _train("Ftrl", options, None, w0, grads)
    fused_result = _train("Ftrl", options, updates.update, w0, grads)
    assert recorded == ["ftrl"] * len(grads)
    np.testing.assert_allclose(fused_result, numpy_result, rtol=2e-6, atol=1e-7)


def test_a_learning_rate_schedule_reaches_the_kernel(recorded):
    w0, grads = _draw(np.float32, steps=4)
    schedule = optimizers.schedules.ExponentialDecay(0.01, decay_steps=1, decay_rate=0.5)
    numpy_result = _train("Adam", {}, None, w0, grads, schedule)
    fused_result = _train("Adam", {}, updates.update, w0, grads, schedule)
    np.testing.assert_array_equal(fused_result, numpy_result)
    constant = _train("Adam", {"learning_rate": 0.01}, updates.update, w0, grads)
    assert not np.array_equal(fused_result, constant)


@pytest.mark.parametrize(
    "name, options",
    [("Adam", {"epsilon": 0.0}), ("RMSprop", {"centered": True}), ("Adagrad", {"epsilon": 0.0})],
)
def test_infinite_and_nan_gradients_give_numpy_s_infinities_and_nans(recorded, name, options):
    w0, grads = _draw(np.float32, steps=2)
    grads[0].flat[:4] = [np.inf, -np.inf, np.nan, 0.0]
    grads[1].flat[4:6] = [np.nan, 1e30]
    # with ε = 0, 0 / 0 where the gradient is 0
    with np.errstate(all="ignore"):
        numpy_result = _train(name, options, None, w0, grads)
        fused_result = _train(name, options, updates.update, w0, grads)
    assert recorded
    assert not np.isfinite(numpy_result).all()
    np.testing.assert_array_equal(fused_result, numpy_result)  # NaN where NaN, inf where inf


def test_small_variables_and_unsuitable_arrays_take_the_numpy_update(recorded):
    # below FUSED_FROM elements; a float16 variable; a variable whose array is not contiguous
    small = _draw(np.float32, shape=(fused.FUSED_FROM - 1,))
    half = _draw(np.float16)
    for w0, grads in (small, half):
        np.testing.assert_array_equal(
            _train("Adam", {}, updates.update, w0, grads), _train("Adam", {}, None, w0, grads)
        )
    w0, grads = _draw(np.float32, shape=(90, 70))
    variables = [cr.Variable(w0.copy()) for _ in range(2)]
    for variable in variables:
        variable.data = variable.data.T  # (70, 90), not C-contiguous
        assert not variable.data.flags.c_contiguous
    for variable, loop in zip(variables, (None, updates.update)):
        optimizer = optimizers.Adam()
        optimizer.update_loop = loop
        for g in grads:
            optimizer.apply([np.ascontiguousarray(g.T)], [variable])
    np.testing.assert_array_equal(variables[1].numpy(), variables[0].numpy())
    assert recorded == []


def test_without_numba_fit_s_loop_updates_in_numpy_blocks(monkeypatch):
    monkeypatch.setattr(fused, "compiled", lambda: None)
    w0, grads = _draw(np.float32, shape=(2 * updates.BLOCK + 5,))
    np.testing.assert_array_equal(
        _train("Nadam", {}, updates.update, w0, grads), _train("Nadam", {}, None, w0, grads)
    )


def test_optimizers_without_a_kernel_never_import_numba(monkeypatch):
    def fail():
        raise AssertionError("the kernels were asked for")

    monkeypatch.setattr(fused, "compiled", fail)
    w0, grads = _draw(np.float32)
    for name in ("SGD", "Lamb", "ScheduleFreeAdamW"):  # plain SGD is two NumPy passes already
        _train(name, {}, updates.update, w0, grads)


def _fit_both_ways(make_model, x, y, recorded):
    """Train ``make_model()`` by fit without Numba's kernels (none is recorded), then with them:
    the same weights, to rounding (fit may run a product on one thread or two)."""

    def fit(with_kernels):
        cr.keras.utils.set_random_seed(4)
        model = make_model()
        with pytest.MonkeyPatch.context() as patch:
            if not with_kernels:
                patch.setattr(fused, "compiled", lambda: None)
            model.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False)
        return model.get_weights()

    plain = fit(False)
    assert recorded == []
    for a, b in zip(fit(True), plain):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_fit_trains_with_the_fused_update_as_without_it(recorded):
    def classifier():
        model = cr.keras.Sequential([cr.keras.layers.Dense(64, "relu"), cr.keras.layers.Dense(3)])
        model.compile(
            cr.keras.optimizers.Adam(), cr.keras.losses.SparseCategoricalCrossentropy(True)
        )
        return model

    x = np.random.default_rng(1).standard_normal((64, 100)).astype(np.float32)
    _fit_both_ways(classifier, x, np.random.default_rng(2).integers(0, 3, 64), recorded)
    # the 100 x 64 kernel, 4 batches x 2 epochs (and the loss's, for its 16 x 3 logits)
    assert [name for name in recorded if name == "adam"] == ["adam"] * 8


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(64, 80), (3, 40, 50), (5000,)])
def test_relu_and_its_gradient_compiled_are_numpy_s_bit_for_bit(dtype, shape):
    pytest.importorskip("numba")
    rng = np.random.default_rng(3)
    a = rng.standard_normal(shape).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    a.flat[:7] = [np.nan, -0.0, 0.0, np.inf, -np.inf, -1.0, 2.0]
    g.flat[:7] = [1.0, np.inf, -np.inf, np.nan, -np.inf, np.inf, -0.0]
    assert fused.for_arrays("relu_vjp", g, a) is not None
    with np.errstate(invalid="ignore"):  # inf times 0 where a <= 0: NaN, in both
        expected = (ops.relu.forward(a), ops.relu.vjps[0](g, None, a))
        results = (kernels.relu(a), kernels._relu_vjp(g, None, a))
    for result, wanted in zip(results, expected):
        assert result.dtype == dtype and result.shape == shape
        np.testing.assert_array_equal(result.view(np.uint8), wanted.view(np.uint8))  # -0, NaN


def test_relu_of_unsuitable_arrays_is_numpy_s():
    # a view that is not contiguous, an integer array, and arrays of two dtypes
    a = np.random.default_rng(4).standard_normal((100, 90)).astype(np.float32)
    assert fused.for_arrays("relu", a.T) is None
    assert fused.for_arrays("relu", a.astype(np.int32)) is None
    assert fused.for_arrays("relu_vjp", a, a.astype(np.float64)) is None
    np.testing.assert_array_equal(kernels.relu(a.T), np.maximum(a.T, 0))
    np.testing.assert_array_equal(
        kernels.relu(a.astype(np.int32)), np.maximum(a, 0).astype(np.int32)
    )


@pytest.mark.parametrize("relu", [False, True])
def test_the_tiled_pooling_loops_are_numpy_s_with_ties_nans_and_signed_zeros(monkeypatch, relu):
    pytest.importorskip("numba")
    rng = np.random.default_rng(5)
    t = rng.integers(-2, 3, (6, 4, 5, 5, 8)).astype(np.float32)  # many ties
    t[0, :, 0, 0, 0] = [-0.0, 0.0, -0.0, -1.0]
    t[0, :, 0, 0, 1] = [0.0, -0.0, -3.0, -0.0]
    t[1, 2, 1, 1, :3] = np.nan
    t[2, 3, 2, 2, 0] = np.inf
    g = rng.standard_normal((6, 5, 5, 8)).astype(np.float32)
    g[3, 0, 0, :2] = [np.inf, np.nan]

    def pool_and_route(compiled):
        with pytest.MonkeyPatch.context() as patch:
            if not compiled:
                patch.setattr(fused, "compiled", lambda: None)
            assert (fused.for_arrays("tile_max", t, g) is not None) == compiled
            y = tiled.tile_max(t, relu=relu)
            routed = np.empty_like(t)
            with np.errstate(invalid="ignore"):
                tiled._route_to_first_maxima(t, y, g, routed)
        return y, routed

    for result, wanted in zip(pool_and_route(True), pool_and_route(False)):
        np.testing.assert_array_equal(result.view(np.uint32), wanted.view(np.uint32))


def test_numba_with_its_compiler_switched_off_leaves_training_to_numpy(monkeypatch):
    numba = pytest.importorskip("numba")
    monkeypatch.setattr(numba.config, "DISABLE_JIT", True)
    fused.compiled.cache_clear()
    try:
        assert (
            fused.compiled() is None
        )  # not the loops run by the interpreter, a thousand times slower
        w0, grads = _draw(np.float32)
        np.testing.assert_array_equal(
            _train("Adam", {}, updates.update, w0, grads), _train("Adam", {}, None, w0, grads)
        )
    finally:
        fused.compiled.cache_clear()


def test_a_subclass_with_its_own_update_step_is_updated_by_it(recorded):
    class Doubled(optimizers.Adam):  # a user's rule: twice Adam's step
        def update_step(self, gradient, variable, learning_rate):
            super().update_step(gradient, variable, 2 * learning_rate)

    w0, grads = _draw(np.float32)
    results = []
    for loop in (None, updates.update):
        variable, optimizer = cr.Variable(w0.copy()), Doubled()
        optimizer.update_loop = loop
        for g in grads:
            optimizer.apply([g], [variable])
        results.append(variable.numpy())
    assert recorded == []
    np.testing.assert_array_equal(results[1], results[0])
    assert not np.array_equal(results[0], _train("Adam", {}, None, w0, grads))


def test_without_a_folder_to_cache_in_the_kernels_compile_all_the_same(monkeypatch):
    numba = pytest.importorskip("numba")

    def no_locator(self):
        raise RuntimeError("cannot cache function: no locator available")

    monkeypatch.setattr(numba.core.dispatcher.Dispatcher, "enable_caching", no_locator)
    fused.compiled.cache_clear()
    try:
        kernels = fused.compiled()
        assert kernels is not None
        a = np.array([-1.0, 2.0], np.float32)
        out = np.empty_like(a)
        kernels.relu(a, out)
        np.testing.assert_array_equal(out, [0.0, 2.0])
    finally:
        fused.compiled.cache_clear()


class _TwoOptimizers(cr.keras.Sequential):
    """A train_step of the model's own, as keras-io's GANs write one: the first layer updated by
    the compiled optimizer, the second by another that an attribute holds."""

    def __init__(self, layers, second):
        super().__init__(layers)
        self.second = second

    def train_step(self, data):
        x, y = data
        with cr.GradientTape() as tape:
            loss = self.compute_loss(y=y, y_pred=self(x, training=True))
        first, second = self.layers[0].trainable_weights, self.layers[1].trainable_weights
        grads = tape.gradient(loss, first + second)
        self.optimizer.apply(grads[: len(first)], first)
        self.second.apply(grads[len(first) :], second)
        return {"loss": loss}


def test_a_train_step_of_the_models_own_takes_the_fused_updates(recorded):
    def two_optimizers():
        layers = [cr.keras.layers.Dense(64, "relu"), cr.keras.layers.Dense(80)]
        model = _TwoOptimizers(layers, cr.keras.optimizers.Adam())
        model.compile(cr.keras.optimizers.Adam(), "mse")
        return model

    x = np.random.default_rng(1).standard_normal((64, 100)).astype(np.float32)
    y = np.random.default_rng(2).standard_normal((64, 80)).astype(np.float32)
    _fit_both_ways(two_optimizers, x, y, recorded)
    # the 100 x 64 and 64 x 80 kernels, one by each optimizer, 4 batches x 2 epochs
    assert [name for name in recorded if name == "adam"] == ["adam"] * 16
