"""A training loop written by hand: keras-io's "writing a training loop from scratch in
TensorFlow", run by chainrule and by TensorFlow with only the imports changed.

    python benchmarks/hand_loop.py [--epochs 2] [--repeat 2] [--load N] [--peers tf|none]

The program is the guide's: a 784-64-64-10 functional model (logits), Adam at 1e-3, sparse
categorical cross-entropy from logits, ``tf.data`` batches of 32 from 50,000 MNIST training
images (raw pixels, shuffled in a buffer of 1,024), a ``@tf.function`` step that opens a
``GradientTape``, applies the gradients and updates an accuracy metric, and a validation pass
over the other 10,000 images each epoch. Each system runs it in a fresh interpreter (TensorFlow
with ``CHAINRULE_BENCH_TF_PYTHON``, default ``/work/venv-tf/bin/python``), the two taking turns
``--repeat`` times; the table gives each one's median seconds per epoch (the training pass and
the validation pass) and chainrule's over TensorFlow's. ``--load N`` keeps N busy processes on
the cores throughout, as ``run.py --load`` does.

chainrule's epochs show what its thread choice does outside ``fit`` (docs/performance.md, "A
busy machine"): the loop's tapes time its steps and set the BLAS library's thread count.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from common import DEFAULT_DATA, numpy_blas
from run import THREAD_SETTINGS, busy_processes, load_words

HERE = Path(__file__).resolve().parent
TF_PYTHON = os.environ.get("CHAINRULE_BENCH_TF_PYTHON", "/work/venv-tf/bin/python")

IMPORTS = {
    "chainrule": "import chainrule as tf\nfrom chainrule import keras",
    "tensorflow": "import tensorflow as tf\nimport keras",
}

# The guide's program from its data on; {imports}, the data folder, the epochs and the output
# file are filled in. Only the timing and the JSON record are added.
PROGRAM = """
import json, os, time
import numpy as np
{imports}
from common import MNIST_FILES, read_idx_ubyte

# keras.datasets.mnist.load_data()'s training half: uint8 images (28, 28) and labels
x_train = read_idx_ubyte(os.path.join({data!r}, MNIST_FILES["x_train"]))
y_train = read_idx_ubyte(os.path.join({data!r}, MNIST_FILES["y_train"]))


def get_model():
    inputs = keras.Input(shape=(784,), name="digits")
    x1 = keras.layers.Dense(64, activation="relu")(inputs)
    x2 = keras.layers.Dense(64, activation="relu")(x1)
    outputs = keras.layers.Dense(10, name="predictions")(x2)
    return keras.Model(inputs=inputs, outputs=outputs)


keras.utils.set_random_seed(0)
model = get_model()
optimizer = keras.optimizers.Adam(learning_rate=1e-3)
loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
batch_size = 32
x_train = np.reshape(x_train, (-1, 784))
x_val, y_val = x_train[-10000:], y_train[-10000:]
x_train, y_train = x_train[:-10000], y_train[:-10000]
train_dataset = tf.data.Dataset.from_tensor_slices((x_train, y_train))
train_dataset = train_dataset.shuffle(buffer_size=1024).batch(batch_size)
val_dataset = tf.data.Dataset.from_tensor_slices((x_val, y_val)).batch(batch_size)
train_acc_metric = keras.metrics.SparseCategoricalAccuracy()
val_acc_metric = keras.metrics.SparseCategoricalAccuracy()


@tf.function
def train_step(x, y):
    with tf.GradientTape() as tape:
        logits = model(x, training=True)
        loss_value = loss_fn(y, logits)
    grads = tape.gradient(loss_value, model.trainable_weights)
    optimizer.apply(grads, model.trainable_weights)
    train_acc_metric.update_state(y, logits)
    return loss_value


@tf.function
def test_step(x, y):
    val_logits = model(x, training=False)
    val_acc_metric.update_state(y, val_logits)


epochs, seconds, accuracies = {epochs}, [], []
for epoch in range(epochs):
    start_time = time.perf_counter()
    for step, (x_batch_train, y_batch_train) in enumerate(train_dataset):
        loss_value = train_step(x_batch_train, y_batch_train)
        if step % 100 == 0:
            float(loss_value)
    train_acc_metric.reset_state()
    for x_batch_val, y_batch_val in val_dataset:
        test_step(x_batch_val, y_batch_val)
    accuracies.append(float(val_acc_metric.result()))
    val_acc_metric.reset_state()
    seconds.append(time.perf_counter() - start_time)
with open({out!r}, "w") as file:
    json.dump({{"epoch_seconds": seconds, "val_accuracy": accuracies}}, file)
"""


def run_program(system, python, data_dir, epochs):
    """Run the program with ``system``'s imports in a fresh ``python``: its record, or a note
    saying why not."""
    if not Path(python).exists():
        return None, f"skipped: {python} not found (see benchmarks/README.md to install it)"
    with tempfile.TemporaryDirectory(prefix="chainrule-loop-") as workdir:
        out = Path(workdir) / "result.json"
        source = PROGRAM.format(imports=IMPORTS[system], data=data_dir, epochs=epochs, out=str(out))
        env = dict(
            os.environ,
            PYTHONPATH=os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")])),
        )
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        done = subprocess.run([python, "-c", source], env=env, capture_output=True, text=True)
        if done.returncode != 0 or not out.exists():
            last = [line for line in done.stderr.splitlines() if line.strip()][-1:] or ["no output"]
            return None, f"failed (exit status {done.returncode}): {last[0].strip()[:200]}"
        return json.loads(out.read_text()), None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2, help="epochs per run (default 2)")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each system (default 2)")
    parser.add_argument("--load", type=int, default=0, help="busy processes beside (default 0)")
    parser.add_argument("--peers", default="tf", choices=["tf", "none"])
    parser.add_argument("--data", default=str(DEFAULT_DATA))
    args = parser.parse_args()
    blas = numpy_blas()
    settings = {k: v for k, v in sorted(os.environ.items()) if THREAD_SETTINGS.match(k)}
    print(f"NumPy {blas['numpy']}: BLAS {blas['blas']} {blas['blas_version']}")
    print(
        "thread/BLAS environment: "
        + (", ".join(f"{k}={v}" for k, v in settings.items()) or "none set")
    )
    print(f"{os.cpu_count()} CPUs; {load_words(args.load)}\n")
    systems = {"chainrule": sys.executable}
    if args.peers == "tf":
        systems["tensorflow"] = TF_PYTHON
    epochs = {system: [] for system in systems}
    notes = {}
    with busy_processes(args.load):
        for run in range(args.repeat):
            for system, python in systems.items():
                if system in notes:
                    continue
                record, note = run_program(system, python, args.data, args.epochs)
                if note:
                    notes[system] = note
                    print(f"  {system}: {note}", flush=True)
                    continue
                epochs[system] += record["epoch_seconds"]
                times = ", ".join(f"{s:.2f}" for s in record["epoch_seconds"])
                accuracy = record["val_accuracy"][-1]
                print(
                    f"  {system} (run {run}): s/epoch [{times}], "
                    f"validation accuracy {accuracy:.4f}",
                    flush=True,
                )
    print("\n| system | s/epoch (median) | chainrule's over it |\n|---|--:|--:|")
    mine = statistics.median(epochs["chainrule"]) if epochs["chainrule"] else None
    for system in systems:
        if epochs[system]:
            median = statistics.median(epochs[system])
            ratio = f"{mine / median:.2f}" if mine else "-"
            print(f"| {system} | {median:.2f} | {ratio} |")


if __name__ == "__main__":
    main()
