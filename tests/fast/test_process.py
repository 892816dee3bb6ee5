"""The process settings of fit, evaluate and predict: freed memory kept for the next step,
subnormal floats flushed to zero."""

import os
import platform
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from chainrule.fast import process

PROGRAM = textwrap.dedent(
    """
    import resource
    import numpy as np
    from chainrule.fast.process import keep_freed_memory

    def steps():
        faults = []
        for _ in range(4):  # four "steps", each holding 100 MB of arrays at once, then freeing them
            before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            arrays = [np.ones(5 << 20, np.float32) for _ in range(5)]
            del arrays
            faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
        return max(faults[1:])

    with keep_freed_memory() as kept:
        inside = steps()
    print(kept, inside, steps())
    """
)


def _run(setting):
    env = dict(os.environ)
    env.pop("CHAINRULE_KEEP_FREED_MEMORY", None)
    if setting is not None:
        env["CHAINRULE_KEEP_FREED_MEMORY"] = setting
    out = subprocess.run(
        [sys.executable, "-c", PROGRAM], env=env, capture_output=True, text=True, check=True
    )
    kept, inside, after = out.stdout.split()
    return kept == "True", int(inside), int(after)


def _glibc():
    try:
        return sys.platform.startswith("linux") and bool(os.confstr("CS_GNU_LIBC_VERSION"))
    except (ValueError, OSError):
        return False


@pytest.mark.skipif(not _glibc(), reason="the allocator is tuned with glibc's mallopt")
def test_later_steps_reuse_the_memory_that_earlier_steps_freed_until_the_block_ends():
    kept, inside, after = _run(None)
    assert kept and inside < 50  # the pages stayed mapped: (almost) nothing faulted in again
    assert after > 500  # glibc's defaults are back: freed arrays go back to the system
    kept, inside, after = _run("0")  # the opt-out leaves glibc's defaults, which give pages back
    assert not kept and inside > 500 and after > 500


class _FakeLibc:
    """Records mallopt(option, value) calls, as glibc's would succeed."""

    def __init__(self):
        self.calls = []

    def mallopt(self, option, value):
        self.calls.append((option, value))
        return 1


M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
KEEP = [(M_MMAP_THRESHOLD, 32 << 20), (M_TRIM_THRESHOLD, 512 << 20)]
GLIBC_DEFAULTS = [(M_MMAP_THRESHOLD, 128 << 10), (M_TRIM_THRESHOLD, 128 << 10)]


@pytest.fixture
def libc(monkeypatch):
    fake = _FakeLibc()
    monkeypatch.setattr(process, "_libc", lambda: fake)
    return fake


def test_the_outermost_block_restores_glibcs_defaults(libc):
    with process.keep_freed_memory() as kept:
        assert kept and libc.calls == KEEP
        with process.keep_freed_memory() as inner:  # evaluate inside fit: nothing more
            assert inner
        assert libc.calls == KEEP
    assert libc.calls == KEEP + GLIBC_DEFAULTS


def test_the_defaults_come_back_after_an_error_too(libc):
    with pytest.raises(RuntimeError):
        with process.keep_freed_memory():
            raise RuntimeError("a failed step")
    assert libc.calls == KEEP + GLIBC_DEFAULTS


def test_without_glibc_nothing_is_set(monkeypatch):
    monkeypatch.setattr(process, "_libc", lambda: None)
    with process.keep_freed_memory() as kept:
        assert not kept


def test_fit_evaluate_and_predict_keep_freed_memory_only_while_they_run(libc):
    import chainrule as cr

    model = cr.keras.Sequential([cr.keras.layers.Dense(2, input_shape=(3,))])
    model.compile("sgd", "mse")
    x, y = np.ones((4, 3), np.float32), np.zeros((4, 2), np.float32)
    model.fit(x, y, validation_data=(x, y), verbose=0)  # evaluates inside fit
    assert libc.calls == KEEP + GLIBC_DEFAULTS
    model.evaluate(x, y, verbose=0)
    model.predict(x, verbose=0)
    assert libc.calls == 3 * (KEEP + GLIBC_DEFAULTS)


SUBNORMAL = np.float32(1e-39)  # below float32's smallest normal number, 1.18e-38

flushing = pytest.mark.skipif(
    not _glibc() or platform.machine() not in ("x86_64", "aarch64"),
    reason="the flush-to-zero mode is set through glibc's fenv on x86-64 and ARM64",
)


@flushing
def test_subnormals_are_zero_inside_flush_denormals_only(monkeypatch):
    from chainrule.fast.process import flush_denormals

    assert SUBNORMAL * np.float32(1) == SUBNORMAL
    with flush_denormals():
        assert SUBNORMAL * np.float32(1) == 0  # an input taken as zero
        assert np.float32(1e-30) * np.float32(1e-10) == 0  # a result flushed
        with flush_denormals():  # nested: the outer mode survives the inner block
            pass
        assert SUBNORMAL * np.float32(1) == 0
    assert SUBNORMAL * np.float32(1) == SUBNORMAL  # restored
    monkeypatch.setenv("CHAINRULE_FLUSH_DENORMALS", "0")
    with flush_denormals():
        assert SUBNORMAL * np.float32(1) == SUBNORMAL


@flushing
def test_training_runs_with_subnormals_flushed():
    import chainrule as cr

    seen = []

    class Probe(cr.keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(float(SUBNORMAL * np.float32(1)))

    model = cr.keras.Sequential([cr.keras.layers.Dense(2, input_shape=(3,))])
    model.compile("adam", "mse")
    model.fit(
        np.ones((4, 3), np.float32), np.zeros((4, 2), np.float32), verbose=0, callbacks=[Probe()]
    )
    assert seen == [0.0]
    assert SUBNORMAL * np.float32(1) == SUBNORMAL  # and the caller's mode is back
