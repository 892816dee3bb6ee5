"""Hostile files: small files crafted to make loading allocate or compute far more than they
hold. Each must be refused with a FileFormatError, in a fresh process whose peak memory and
time are measured; and saving must respect what it replaces (links, permissions, temporaries)."""

import io
import json
import os
import re
import stat
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import numpy as np
import pytest

h5py = pytest.importorskip("h5py")

from chainrule import keras  # noqa: E402
from chainrule.keras import layers  # noqa: E402
from chainrule.keras.models import Sequential, load_model  # noqa: E402
from chainrule.keras.saving import FileFormatError  # noqa: E402

ROOT = Path(__file__).parents[3]
MAX_MEMORY_MB, MAX_SECONDS = 200, 10


def base_file(folder):
    """A small saved model: Input (4,), Dense 3, the weights plain in HDF5."""
    model = Sequential([keras.Input(shape=(4,)), layers.Dense(3)])
    path = folder / "base.keras"
    model.save(path)
    return path


def rewrite(source, target, config=None, weights=None):
    """Copy the ``.keras`` file ``source`` to ``target``, passing its parsed config through
    ``config(dict)`` and rebuilding its HDF5 weights with ``weights(h5_file)`` if given."""
    with zipfile.ZipFile(source) as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    if config is not None:
        parsed = json.loads(entries["config.json"])
        config(parsed)
        entries["config.json"] = json.dumps(parsed).encode()
    if weights is not None:
        buffer = io.BytesIO()
        with h5py.File(buffer, "w") as h5:
            weights(h5)
        entries["model.weights.h5"] = buffer.getvalue()
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return target


def dense_layers(config):
    return [layer for layer in config["config"]["layers"] if layer["class_name"] == "Dense"]


def load_cost(path):
    """Load ``path`` in a fresh process: (error type and message, extra peak MB, seconds)."""
    script = textwrap.dedent(
        f"""
        import json, resource, sys, time
        from chainrule.keras.models import load_model
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        start = time.perf_counter()
        try:
            load_model({str(path)!r})
            outcome = "loaded"
        except Exception as err:
            outcome = f"{{type(err).__name__}}: {{err}}"
        seconds = time.perf_counter() - start
        grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
        print(json.dumps([outcome, grown, seconds]))
        """
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=env
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def assert_refused_cheaply(path, message):
    outcome, megabytes, seconds = load_cost(path)
    assert outcome.startswith("FileFormatError"), outcome
    assert message in outcome
    assert path.stat().st_size < 100_000
    assert megabytes < MAX_MEMORY_MB and seconds < MAX_SECONDS, (megabytes, seconds)


def test_weights_declared_but_never_written_are_refused(tmp_path):
    """A Dense of 20000 x 20000 whose kernel is an HDF5 dataset with a shape and no data
    (its fill value would be read as 1.6 GB of zeros)."""

    def huge_unwritten(h5):
        group = h5.create_group("layers/dense/vars")
        group.create_dataset("0", shape=(20000, 20000), dtype="float32")
        group.create_dataset("1", data=np.zeros(20000, "float32"))
        h5.create_group("vars")

    def wide(config):
        config["config"]["layers"][0]["config"]["batch_shape"] = [None, 20000]
        dense_layers(config)[0]["config"]["units"] = 20000
        config.pop("build_config", None)

    path = rewrite(base_file(tmp_path), tmp_path / "unwritten.keras", wide, huge_unwritten)
    assert_refused_cheaply(path, "declares 1600000000 bytes of data but the file stores 0")


def test_weights_compressed_inside_hdf5_are_refused(tmp_path):
    def compressed(h5):
        group = h5.create_group("layers/dense/vars")
        group.create_dataset("0", data=np.zeros((4000, 4000), "float32"), compression="gzip")
        group.create_dataset("1", data=np.zeros(4000, "float32"))
        h5.create_group("vars")

    def wide(config):
        config["config"]["layers"][0]["config"]["batch_shape"] = [None, 4000]
        dense_layers(config)[0]["config"]["units"] = 4000
        config.pop("build_config", None)

    path = rewrite(base_file(tmp_path), tmp_path / "gzip.keras", wide, compressed)
    assert_refused_cheaply(path, "is compressed or filtered inside the HDF5 file")


@pytest.mark.parametrize("dtype", ["U5000000", "int8", "bool", "complex64", "object"])
def test_a_layer_dtype_that_is_not_a_float_type_is_refused(tmp_path, dtype):
    def odd_dtype(config):
        dense_layers(config)[0]["config"]["dtype"] = dtype

    path = rewrite(base_file(tmp_path), tmp_path / "dtype.keras", odd_dtype)
    with pytest.raises(FileFormatError, match="Dense: dtype must be one of float16, float32"):
        load_model(path)


def test_a_huge_input_shape_is_refused_before_anything_runs(tmp_path):
    def huge_input(config):
        config["config"]["layers"][0]["config"]["batch_shape"] = [None, 250_000_000]
        config["config"]["layers"][1] = {
            "module": "keras.layers",
            "class_name": "Activation",
            "config": {"name": "activation", "activation": "relu"},
        }
        config.pop("build_config", None)

    def no_weights(h5):
        h5.create_group("vars")

    path = rewrite(base_file(tmp_path), tmp_path / "input.keras", huge_input, no_weights)
    assert_refused_cheaply(path, "makes one sample of 1000000000 bytes")


def enlarged(config, key, value):
    """Set ``key`` to ``value`` wherever it occurs in ``config``, nested layers' included."""
    if isinstance(config, dict):
        for name, item in config.items():
            if name == key:
                config[name] = value
            else:
                enlarged(item, key, value)
    elif isinstance(config, list):
        for item in config:
            enlarged(item, key, value)


def functional(inputs, layer):
    return keras.Model(inputs, layer(inputs))


# Layers whose weights sit in sublayers, saved small, then given ~20 GB of weights by their
# config alone: each sublayer's weights are compared with the file's before anything is built.
NESTED_HOSTILE = {
    "LSTM": (
        lambda: Sequential([keras.Input((4, 2)), layers.LSTM(3)]),
        ("units", 36_000),  # recurrent kernel 36000 x 144000: 20.7 GB
        "weight 0 of layers/lstm/cell/vars of shape (2, 144000), but the file stores shape (2, 12)",
    ),
    "stacked cells": (
        lambda: Sequential(
            [keras.Input((4, 2)), layers.RNN([layers.GRUCell(3), layers.SimpleRNNCell(3)])]
        ),
        ("units", 72_000),  # GRU recurrent kernel 72000 x 216000: 62 GB
        "weight 0 of layers/rnn/cell/cells/gru_cell/vars of shape (2, 216000)",
    ),
    "Bidirectional": (
        lambda: Sequential([keras.Input((4, 2)), layers.Bidirectional(layers.GRU(3))]),
        ("units", 50_000),
        "weight 0 of layers/bidirectional/backward_layer/cell/vars of shape (2, 150000)",
    ),
    "TimeDistributed": (
        lambda: Sequential([keras.Input((2, 3)), layers.TimeDistributed(layers.Dense(3))]),
        ("units", 2_000_000_000),  # kernel 3 x 2e9: 24 GB
        "weight 0 of layers/time_distributed/layer/vars of shape (3, 2000000000)",
    ),
    "functional TimeDistributed(Sequential)": (
        lambda: functional(
            keras.Input((2, 3)), layers.TimeDistributed(Sequential([layers.Dense(3)]))
        ),
        ("units", 2_000_000_000),  # the inner model's Dense is checked as it is built
        "weights of 32000000000 bytes for input shape (None, 3), more than the 48 bytes",
    ),
    "functional Bidirectional": (
        lambda: functional(keras.Input((4, 2)), layers.Bidirectional(layers.LSTM(3))),
        ("units", 36_000),
        "weights of 41475456000 bytes for input shape (None, 4, 2), more than the 576 bytes",
    ),
}


@pytest.mark.parametrize("case", sorted(NESTED_HOSTILE))
def test_huge_weights_in_a_sublayer_are_refused_before_they_are_built(tmp_path, case):
    make, (key, value), message = NESTED_HOSTILE[case]
    make().save(tmp_path / "small.keras")

    def huge(config):
        enlarged(config, key, value)
        enlarged(config, "build_config", None)  # Keras writes one for nested layers too

    path = rewrite(tmp_path / "small.keras", tmp_path / "huge.keras", huge)
    assert_refused_cheaply(path, message)


@pytest.mark.parametrize(
    "layer, key, value, takes",
    [
        (layers.Dense(3), "use_bias", "yes", "true or false"),
        (layers.GlobalAveragePooling2D(), "keepdims", "yes", "true or false"),
        (layers.BatchNormalization(), "momentum", "high", "a number (or a pair of numbers)"),
        (layers.BatchNormalization(), "axis", 1.5, "an integer (or a list of integers)"),
        (layers.Conv2D(2, 3), "strides", "2", "a list or an integer"),
    ],
)
def test_config_values_of_the_wrong_kind_are_refused_at_load(tmp_path, layer, key, value, takes):
    model = Sequential([keras.Input((6, 6, 2)), layer])
    model.save(tmp_path / "good.keras")

    def wrong(config):
        config["config"]["layers"][1]["config"][key] = value

    path = rewrite(tmp_path / "good.keras", tmp_path / "wrong.keras", wrong)
    name = type(layer).__name__
    with pytest.raises(FileFormatError, match=re.escape(f"{name}: {key} takes {takes}; the file")):
        load_model(path)


# ----- saving respects what it replaces ------------------------------------------------------


def small_model():
    return Sequential([keras.Input((2,)), layers.Dense(1)])


def test_saving_through_a_symlink_writes_its_target(tmp_path):
    target = tmp_path / "real" / "model.keras"
    target.parent.mkdir()
    link = tmp_path / "latest.keras"
    small_model().save(target)
    link.symlink_to(target)
    small_model().save(link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert load_model(link).count_params() == 3


def test_saving_over_a_file_keeps_its_permissions(tmp_path):
    path = tmp_path / "private.keras"
    small_model().save(path)
    path.chmod(0o600)
    small_model().save(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    small_model().save_weights(tmp_path / "w.weights.h5")
    (tmp_path / "w.weights.h5").chmod(0o640)
    small_model().save_weights(tmp_path / "w.weights.h5")
    assert stat.S_IMODE((tmp_path / "w.weights.h5").stat().st_mode) == 0o640


def test_a_failed_save_leaves_no_temporary_and_stale_ones_are_removed(tmp_path):
    path = tmp_path / "m.keras"
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], text=True, capture_output=True
    ).stdout.strip()
    stale = tmp_path / f".m.keras.{dead}-0123456789ab.tmp"
    live = tmp_path / f".m.keras.{os.getppid()}-0123456789ab.tmp"
    other = tmp_path / f".other.keras.{dead}-0123456789ab.tmp"
    for f in (stale, live, other):
        f.write_bytes(b"half a file")

    class Unsavable(layers.Dense):
        def get_config(self):
            raise RuntimeError("no config today")

    with pytest.raises(RuntimeError, match="no config today"):
        Sequential([keras.Input((2,)), Unsavable(1)]).save(path)
    small_model().save(path)
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted(["m.keras", live.name, other.name])
