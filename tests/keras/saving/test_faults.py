"""Faults: damaged files (a seeded fuzzer) must load or raise FileFormatError, never anything
else; a saving process killed at random points must leave the previous file or the new one."""

import io
import json
import math
import pathlib
import signal
import subprocess
import sys
import textwrap
import time
import zipfile

import numpy as np
import pytest

pytest.importorskip("h5py")

from chainrule import keras
from chainrule.keras import layers
from chainrule.keras.models import Sequential, load_model
from chainrule.keras.saving import FileFormatError

FIXTURES = pathlib.Path(__file__).parents[2] / "fixtures" / "keras"
ODD_VALUES = [
    None,
    True,
    False,
    0,
    -1,
    3,
    2**31,
    10**12,
    1.5,
    -0.0,
    1e308,
    "",
    "relu",
    "float64",
    "Dense",
    [],
    [None],
    [None, -4],
    [3, "x"],
    {},
    {"class_name": "Dense"},
    {"class_name": "function", "config": "eval"},
    {"module": "os", "class_name": "system"},
]


def chainrule_file(folder):
    keras.utils.set_random_seed(0)
    model = Sequential(
        [
            keras.Input(shape=(5,)),
            layers.Dense(8, activation="relu"),
            layers.BatchNormalization(),
            layers.Dropout(0.2),
            layers.Dense(3, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    rng = np.random.default_rng(0)
    model.fit(rng.normal(size=(32, 5)), rng.integers(0, 3, 32), batch_size=8, verbose=0)
    model.save(folder / "base.keras")
    return folder / "base.keras"


def functional_file(folder):
    """A functional base: two branches that join, a layer called twice, a keras.ops call and a
    Sequential model inside, trained so that the optimizer holds state."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input(shape=(5,))
    shared = layers.Dense(5, activation="tanh")
    left = shared(shared(inputs))
    right = layers.BatchNormalization()(layers.Dense(5)(inputs))
    joined = keras.ops.relu(layers.Add()([left, right])) * 0.5
    block = keras.Sequential([keras.Input(shape=(10,)), layers.Dense(4), layers.Dropout(0.2)])
    outputs = layers.Dense(3, activation="softmax")(block(layers.Concatenate()([joined, right])))
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    rng = np.random.default_rng(0)
    model.fit(rng.normal(size=(32, 5)), rng.integers(0, 3, 32), batch_size=8, verbose=0)
    model.save(folder / "functional.keras")
    return folder / "functional.keras"


def _bytes(data, rng):
    """Flipped bits, a truncation, or an overwritten run of bytes."""
    data = bytearray(data)
    kind = rng.integers(3)
    if kind == 0:
        for _ in range(rng.integers(1, 9)):
            data[rng.integers(len(data))] ^= 1 << int(rng.integers(8))
    elif kind == 1:
        del data[rng.integers(len(data)) :]
    else:
        start = int(rng.integers(len(data)))
        data[start : start + int(rng.integers(1, 64))] = rng.bytes(int(rng.integers(1, 64)))
    return bytes(data)


def _nodes(value, path=()):
    """Every (container, key) in a JSON document."""
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return
    for key, child in list(items):
        yield value, key
        yield from _nodes(child, path + (key,))


def _structure(config_bytes, rng):
    """The config with one to three values replaced by odd ones, or deleted."""
    config = json.loads(config_bytes)
    for _ in range(rng.integers(1, 4)):
        nodes = list(_nodes(config))
        container, key = nodes[rng.integers(len(nodes))]
        if isinstance(container, dict) and rng.random() < 0.2:
            del container[key]
        else:
            container[key] = ODD_VALUES[rng.integers(len(ODD_VALUES))]
    return json.dumps(config).encode()


def mutants(base, count, seed):
    """``count`` damaged copies of a .keras file: raw damage (stopped by the zip checksums, if
    nothing else), and damaged entries in a well-formed archive (that reach the JSON and HDF5
    readers): JSON bytes, JSON structure, HDF5 bytes, entries dropped."""
    rng = np.random.default_rng(seed)
    raw = base.read_bytes()
    with zipfile.ZipFile(base) as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    for _ in range(count):
        kind = rng.integers(5)
        if kind == 0:
            yield _bytes(raw, rng)
            continue
        changed = dict(entries)
        if kind == 1:
            changed["config.json"] = _bytes(entries["config.json"], rng)
        elif kind == 2:
            changed["config.json"] = _structure(entries["config.json"], rng)
        elif kind == 3:
            changed["model.weights.h5"] = _bytes(entries["model.weights.h5"], rng)
        else:
            del changed[list(entries)[rng.integers(len(entries))]]
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for name, content in changed.items():
                archive.writestr(name, content)
        yield buffer.getvalue()


def _usable(model):
    """A loaded model must predict, with the shapes its layers say (on a batch of 2, unless the
    damage made some layer's output too large to try, or of unknown size); a functional model
    with the output shapes its graph recorded."""
    if not isinstance(model, Sequential):
        shapes = [(2,) + tuple(t.shape[1:]) for t in model.inputs + model.outputs]
        if all(None not in shape and math.prod(shape) <= 10**6 for shape in shapes):
            inputs = [np.zeros(shape, "float32") for shape in shapes[: len(model.inputs)]]
            outputs = model(inputs if len(inputs) > 1 else inputs[0])
            flat = outputs if isinstance(outputs, (list, tuple)) else [outputs]
            assert [tuple(o.shape) for o in flat] == shapes[len(model.inputs) :]
        return
    shapes = [(2,) + tuple(model.batch_input_shape[1:])]
    for layer in model.layers:
        shapes.append(tuple(layer.compute_output_shape(shapes[-1])))
    if all(None not in shape and math.prod(shape) <= 10**6 for shape in shapes):
        prediction = model.predict(np.zeros(shapes[0], "float32"), verbose=0)
        assert prediction.shape == shapes[-1]


BASES = {
    "chainrule": (chainrule_file, 1),
    "keras": (lambda folder: FIXTURES / "rmsprop_layers.keras", 2),
    "chainrule_functional": (functional_file, 4),
    "keras_functional": (lambda folder: FIXTURES / "functional_adam.keras", 5),
}


@pytest.mark.parametrize("base", sorted(BASES))
def test_fuzzed_keras_files_load_or_raise_file_format_error(tmp_path, base):
    make, seed = BASES[base]
    path = make(tmp_path)
    outcomes = {"loaded": 0, "refused": 0}
    for index, content in enumerate(mutants(path, 200, seed=seed)):
        target = tmp_path / f"mutant{index}.keras"
        target.write_bytes(content)
        try:
            model = load_model(target)
        except FileFormatError:
            outcomes["refused"] += 1
        else:
            _usable(model)
            outcomes["loaded"] += 1
        target.unlink()
    assert sum(outcomes.values()) == 200
    assert outcomes["refused"] > 100  # most damage is caught; none escapes as another error


@pytest.mark.parametrize("make", [chainrule_file, functional_file])
def test_fuzzed_weights_files_load_or_raise_file_format_error(tmp_path, make):
    model = load_model(make(tmp_path))
    model.save_weights(tmp_path / "base.weights.h5")
    raw = (tmp_path / "base.weights.h5").read_bytes()
    rng = np.random.default_rng(3)
    refused = 0
    for index in range(100):
        target = tmp_path / f"mutant{index}.weights.h5"
        target.write_bytes(_bytes(raw, rng))
        try:
            model.load_weights(target)
        except FileFormatError:
            refused += 1
    assert refused > 30


CHILD = textwrap.dedent("""
    import sys
    import numpy as np
    from chainrule import keras

    model = keras.Sequential([keras.Input(shape=(64,)), keras.layers.Dense(256),
                              keras.layers.Dense(64)])
    print("ready", flush=True)
    version = 0
    while True:
        version += 1
        model.set_weights([np.full(w.shape, version, "float32") for w in model.get_weights()])
        model.save(sys.argv[1])
        print(version, flush=True)
""")


@pytest.mark.slow
def test_a_saving_process_killed_at_random_points_leaves_a_whole_file(tmp_path):
    path = tmp_path / "model.keras"
    model = keras.Sequential([keras.Input(shape=(64,)), layers.Dense(256), layers.Dense(64)])
    model.set_weights([np.zeros(w.shape, "float32") for w in model.get_weights()])
    model.save(path)
    script = tmp_path / "saver.py"
    script.write_text(CHILD)
    rng = np.random.default_rng(0)
    current, killed_during = 0.0, 0
    for _ in range(20):
        child = subprocess.Popen(
            [sys.executable, str(script), str(path)], stdout=subprocess.PIPE, text=True
        )
        assert child.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.0, 0.4))
        child.send_signal(signal.SIGKILL)
        child.wait()
        printed = [int(line) for line in child.stdout.read().split()]
        child.stdout.close()
        # the last save it reported, or the one it was making (done, not yet reported)
        allowed = {printed[-1], printed[-1] + 1} if printed else {current, 1}
        weights = load_model(path).get_weights()  # never a partial file
        value = float(weights[0].flat[0])
        assert all(np.all(w == value) for w in weights)
        assert value in allowed
        killed_during += value == (printed[-1] + 1 if printed else 1)
        current = value
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".model.keras.")]
    assert len(leftovers) <= 20  # a killed save leaves its temporary file, never the target
