"""keep_freed_memory: large arrays freed by one step are reused by the next, not faulted in again."""

import os
import subprocess
import sys
import textwrap

import pytest

PROGRAM = textwrap.dedent(
    """
    import resource
    import numpy as np
    from chainrule.backend import keep_freed_memory

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


def test_fit_keeps_freed_memory(monkeypatch):
    import numpy as np

    import chainrule as cr

    calls = []
    monkeypatch.setattr(
        "chainrule.keras.models.model.keep_freed_memory", lambda: calls.append(1) or True
    )
    model = cr.keras.Sequential([cr.keras.layers.Dense(2, input_shape=(3,))])
    model.compile("sgd", "mse")
    x, y = np.ones((4, 3), np.float32), np.zeros((4, 2), np.float32)
    model.fit(x, y, verbose=0)
    model.evaluate(x, y, verbose=0)
    model.predict(x, verbose=0)
    assert len(calls) == 3
