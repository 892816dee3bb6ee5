"""The process settings of fit, evaluate and predict: freed memory kept for the next step,
subnormal floats flushed to zero."""

import os
import platform
import subprocess
import sys
import textwrap

import numpy as np
import pytest

PROGRAM = textwrap.dedent(
    """
    import resource
    import numpy as np
    from chainrule.fast.process import keep_freed_memory

    kept = keep_freed_memory()
    faults = []
    for _ in range(4):  # four "steps", each holding 100 MB of arrays at once, then freeing them
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        arrays = [np.ones(5 << 20, np.float32) for _ in range(5)]
        del arrays
        faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
    print(kept, max(faults[1:]))
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
    kept, faults = out.stdout.split()
    return kept == "True", int(faults)


def _glibc():
    try:
        return sys.platform.startswith("linux") and bool(os.confstr("CS_GNU_LIBC_VERSION"))
    except (ValueError, OSError):
        return False


@pytest.mark.skipif(not _glibc(), reason="the allocator is tuned with glibc's mallopt")
def test_later_steps_reuse_the_memory_that_earlier_steps_freed():
    kept, faults = _run(None)
    assert kept and faults < 50  # the pages stayed mapped: (almost) nothing faulted in again
    kept, faults = _run("0")  # the opt-out leaves glibc's defaults, which give the pages back
    assert not kept and faults > 500


def test_fit_evaluate_and_predict_keep_freed_memory(monkeypatch):
    import chainrule as cr

    calls = []
    monkeypatch.setattr("chainrule.fast.process.keep_freed_memory", lambda: calls.append(1) or True)
    model = cr.keras.Sequential([cr.keras.layers.Dense(2, input_shape=(3,))])
    model.compile("sgd", "mse")
    x, y = np.ones((4, 3), np.float32), np.zeros((4, 2), np.float32)
    model.fit(x, y, verbose=0)
    model.evaluate(x, y, verbose=0)
    model.predict(x, verbose=0)
    assert len(calls) == 3


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
