"""Tests for the `chainrule` command (train, evaluate, predict) and the image and plot modules.

Most commands run in-process through `cli.main`; the console behaviour (Ctrl-C, exit status, no
traceback) is checked in a subprocess running `python -m chainrule`.
"""

import csv
import io
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from chainrule.keras.datasets import mnist
from chainrule.keras.models import Model
from chainrule.tools import cli, images
from chainrule.tools.cli import classify, digits, train
from chainrule.tools.cli.arguments import EXIT_INTERRUPTED
from chainrule.tools.plot import plot_history

ROOT = Path(__file__).resolve().parents[2]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _run(capsys, *argv):
    """Run `chainrule argv...` in-process; return (exit status, stdout, stderr)."""
    try:
        status = cli.main([str(arg) for arg in argv])
    except SystemExit as exit_:  # argparse's usage errors
        status = exit_.code
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def _one_line_error(err, *fragments):
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err, (fragment, err)


def _subprocess(*argv, **kwargs):
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path}
    return subprocess.Popen(
        [sys.executable, "-m", "chainrule", *map(str, argv)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """One short training run (1 epoch, 10% validation), shared by the tests that read it."""
    out = tmp_path_factory.mktemp("run")
    status = cli.main(
        [
            "train",
            "--epochs",
            "1",
            "--seed",
            "0",
            "--validation-split",
            "0.1",
            "--quiet",
            "--out",
            str(out),
        ]
    )
    assert status == 0
    return out


@pytest.fixture(scope="module")
def prepared_mnist():
    return digits.mnist()


@pytest.fixture
def small_mnist(monkeypatch, prepared_mnist):
    """Train and test on the first 3,200 and 1,000 MNIST images, for tests of the plumbing."""
    (x_train, y_train), (x_test, y_test) = prepared_mnist
    small = (x_train[:3200], y_train[:3200]), (x_test[:1000], y_test[:1000])
    monkeypatch.setattr(digits, "mnist", lambda: small)


@pytest.fixture(scope="module")
def mnist_test():
    (_, _), (x_test, y_test) = mnist.load_data()
    return x_test, y_test


# ----- train ---------------------------------------------------------------------------------
def test_train_uses_keras_defaults_and_the_article_model(monkeypatch, tmp_path, capsys):
    seen = {}
    fit = Model.fit

    def spy(model, x, y, **kwargs):
        seen.update(model=model, x=x, y=y, **kwargs)
        return fit(model, x[:64], y[:64], **{**kwargs, "epochs": 1})

    monkeypatch.setattr(Model, "fit", spy)
    status, out, _ = _run(capsys, "train", "--out", tmp_path)
    assert status == 0
    assert (seen["epochs"], seen["batch_size"], seen["validation_split"]) == (10, 32, 0.0)
    model = seen["model"]
    assert [(layer.units, layer.activation.__name__) for layer in model.layers] == [
        (10, "relu"),
        (10, "softmax"),
    ]
    assert model.batch_input_shape == (None, 784)
    assert type(model.optimizer).__name__ == "SGD" and model.optimizer.learning_rate == 0.01
    assert model.optimizer.momentum == 0.0
    assert model.loss == "categorical_crossentropy"
    (x_train, y_train), _ = mnist.load_data()
    assert seen["x"].shape == (60000, 784)
    assert np.abs(seen["x"] - x_train.reshape(-1, 784) / np.float32(255)).max() < 1e-7
    assert np.array_equal(seen["y"], np.eye(10)[y_train])
    assert "784 -> 10 relu -> 10 softmax, sgd (learning rate 0.01), batch 32, 10 epochs" in out


def test_train_options_shape_the_model(monkeypatch, tmp_path, capsys):
    seen = {}
    fit = Model.fit

    def spy(model, x, y, **kwargs):
        seen.update(model=model, **kwargs)
        return fit(model, x[:64], y[:64], **{**kwargs, "epochs": 1})

    monkeypatch.setattr(Model, "fit", spy)
    status, _, _ = _run(
        capsys,
        "train",
        "--hidden",
        "32,16",
        "--optimizer",
        "adam",
        "--learning-rate",
        "0.003",
        "--batch-size",
        "64",
        "--epochs",
        "3",
        "--quiet",
        "--out",
        tmp_path,
    )
    assert status == 0
    model = seen["model"]
    assert [layer.units for layer in model.layers] == [32, 16, 10]
    assert [layer.activation.__name__ for layer in model.layers] == ["relu", "relu", "softmax"]
    assert type(model.optimizer).__name__ == "Adam"
    assert model.optimizer.learning_rate == pytest.approx(0.003)
    assert (seen["epochs"], seen["batch_size"]) == (3, 64)
    params = json.loads((tmp_path / "history.json").read_text())["params"]
    assert params["hidden"] == [32, 16] and params["optimizer"] == "adam"


def test_train_writes_history_plot_and_model(run_dir, mnist_test):
    with open(run_dir / "history.csv", newline="") as file:
        rows = list(csv.reader(file))
    # Keras's CSVLogger layout: epoch from 0, then the logs' keys sorted.
    assert rows[0] == ["epoch", "accuracy", "loss", "val_accuracy", "val_loss"]
    assert len(rows) == 2 and rows[1][0] == "0"
    record = json.loads((run_dir / "history.json").read_text())
    assert record["epoch"] == [0]
    for key, value in zip(rows[0][1:], rows[1][1:]):
        assert record["history"][key] == [float(value)]
    assert 0.8 < record["history"]["val_accuracy"][0] <= 1.0
    assert record["params"] == {
        "epochs": 1,
        "batch_size": 32,
        "optimizer": "sgd",
        "learning_rate": 0.01,
        "hidden": [10],
        "seed": 0,
        "validation_split": 0.1,
    }
    assert record["interrupted"] is False

    # The saved model reproduces the test accuracy that train reported.
    from chainrule.keras.models import load_model

    x_test, y_test = mnist_test
    model = load_model(run_dir / "model.keras")
    predicted = model.predict(x_test.reshape(-1, 784) / 255.0, verbose=0).argmax(axis=1)
    assert np.mean(predicted == y_test) == pytest.approx(record["test"]["accuracy"], abs=1e-6)

    png = (run_dir / "training.png").read_bytes()
    assert png.startswith(PNG_SIGNATURE)
    assert not list(run_dir.glob(".*"))  # no temporary file left behind


def test_train_progress_output_and_test_results(small_mnist, tmp_path, capsys):
    status, out, err = _run(capsys, "train", "--epochs", "2", "--seed", "1", "--out", tmp_path)
    assert status == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].startswith("MNIST: 3200 training and 1000 test images; model 784 -> 10 relu")
    assert "Epoch 1/2" in lines and "Epoch 2/2" in lines
    assert re.search(r"100/100 ━+ \d+s \d+\w+/step - accuracy: 0\.\d{4} - loss: \d\.\d{4}", out)
    record = json.loads((tmp_path / "history.json").read_text())
    assert f"Test loss: {record['test']['loss']:.4f}" in lines
    assert f"Test accuracy: {record['test']['accuracy']:.4f}" in lines
    assert re.fullmatch(
        r"2 epochs in [\d.]+ s; wrote model.keras, history.csv, history.json, "
        rf"training.png in {re.escape(str(tmp_path) + os.sep)}",
        lines[-1],
    )


def test_train_quiet_prints_only_the_results(small_mnist, tmp_path, capsys):
    status, out, _ = _run(capsys, "train", "--epochs", "1", "--quiet", "--out", tmp_path)
    assert status == 0
    lines = out.splitlines()
    assert [line.split(":")[0] for line in lines[:2]] == ["Test loss", "Test accuracy"]
    assert len(lines) == 3 and lines[2].startswith("1 epoch in ")


def test_train_default_out_is_a_fresh_timestamped_folder(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    first, second = train._output_folder(None), train._output_folder(None)
    assert first != second and first.is_dir() and second.is_dir()
    assert first.parent == second.parent == Path("runs")
    assert re.fullmatch(r"\d{8}-\d{6}(-\d+)?", first.name)


def test_train_without_matplotlib_says_so_and_writes_the_rest(
    small_mnist, monkeypatch, tmp_path, capsys
):
    for module in ("matplotlib", "matplotlib.figure", "matplotlib.backends.backend_agg"):
        monkeypatch.setitem(sys.modules, module, None)
    status, out, _ = _run(capsys, "train", "--epochs", "1", "--quiet", "--out", tmp_path)
    assert status == 0
    notes = [line for line in out.splitlines() if "not written" in line]
    expected = 'training.png not written: plotting needs matplotlib: pip install "chainrule[plot]"'
    assert notes == [expected]
    assert out.splitlines()[-1].endswith(
        f"wrote model.keras, history.csv, history.json in {tmp_path}{os.sep}"
    )
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "history.csv",
        "history.json",
        "model.keras",
    ]


def test_train_without_h5py_says_so_and_writes_the_rest(small_mnist, monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "h5py", None)
    status, out, _ = _run(capsys, "train", "--epochs", "1", "--quiet", "--out", tmp_path)
    assert status == 0
    notes = [line for line in out.splitlines() if "not written" in line]
    assert len(notes) == 1 and notes[0].startswith("model.keras not written: ")
    assert "h5py" in notes[0]
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "history.csv",
        "history.json",
        "training.png",
    ]


def test_ctrl_c_stops_after_the_batch_and_still_writes(tmp_path):
    process = _subprocess("train", "--epochs", "40", "--out", tmp_path)
    try:
        deadline = time.monotonic() + 60
        for line in process.stdout:  # wait until the second epoch is under way
            if line.startswith("Epoch 2/40") or time.monotonic() > deadline:
                break
        time.sleep(0.2)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == EXIT_INTERRUPTED, err
    assert "Traceback" not in err
    assert "Ctrl-C: stopping after this batch" in err
    match = re.search(
        r"Stopped by Ctrl-C after batch (\d+) of 1875 of epoch (\d+); results so far:", out
    )
    batch, epoch = int(match.group(1)), int(match.group(2))
    assert 1 <= batch <= 1875 and 2 <= epoch < 40
    assert "Test accuracy: 0." in out
    completed = epoch if batch == 1875 else epoch - 1  # a cut-short epoch is not in the history
    record = json.loads((tmp_path / "history.json").read_text())
    assert record["interrupted"] is True and record["epoch"] == list(range(completed))
    assert len((tmp_path / "history.csv").read_text().splitlines()) == 1 + completed
    assert (tmp_path / "training.png").read_bytes().startswith(PNG_SIGNATURE)
    assert (tmp_path / "model.keras").is_file()


class _FakeModel:
    stop_training = False


def test_stop_on_interrupt_restores_the_handler_and_a_second_ctrl_c_quits():
    # Python's own Ctrl-C handler, whatever this process inherited: a shell starts a background
    # job with SIGINT ignored, and then a second Ctrl-C would be ignored too
    inherited = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        _stop_on_interrupt_then_quit()
    finally:
        signal.signal(signal.SIGINT, inherited)


def _stop_on_interrupt_then_quit():
    previous = signal.getsignal(signal.SIGINT)
    stopper = train.StopOnInterrupt()
    stopper.set_model(_FakeModel())
    stopper.on_train_begin()
    assert signal.getsignal(signal.SIGINT) != previous
    stopper.on_epoch_begin(2)
    stopper.on_train_batch_end(6)
    os.kill(os.getpid(), signal.SIGINT)  # the handler runs at the next bytecode boundary
    time.sleep(0.01)
    assert stopper.model.stop_training is True
    assert signal.getsignal(signal.SIGINT) == previous
    with pytest.raises(KeyboardInterrupt):
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(1)
    stopper.on_train_batch_end(7)  # the batch under way when Ctrl-C came is finished
    stopper.on_train_end()
    assert stopper.interrupted == (3, 8)
    assert signal.getsignal(signal.SIGINT) == previous


def test_stop_on_interrupt_without_ctrl_c_restores_the_handler():
    previous = signal.getsignal(signal.SIGINT)
    stopper = train.StopOnInterrupt()
    stopper.set_model(_FakeModel())
    stopper.on_train_begin()
    stopper.on_train_end()
    assert signal.getsignal(signal.SIGINT) == previous and stopper.interrupted is None


@pytest.mark.slow
def test_default_run_reaches_keras_accuracy(tmp_path):
    process = _subprocess("train", "--seed", "0", "--out", tmp_path)  # seeded: no flaky CI
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err
    accuracy = float(re.search(r"^Test accuracy: (\d\.\d+)$", out, re.MULTILINE).group(1))
    assert accuracy >= 0.91, out
    assert out.count("Epoch ") == 10
    record = json.loads((tmp_path / "history.json").read_text())
    assert len(record["epoch"]) == 10
    assert record["history"]["loss"][-1] < record["history"]["loss"][0]


# ----- bad input ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["--hidden", "12,x"], "argument --hidden: expected hidden layer sizes"),
        (["--hidden", "0"], "argument --hidden"),
        (["--hidden", ""], "argument --hidden"),
        (["--epochs", "0"], "argument --epochs: expected a positive integer; got '0'"),
        (["--batch-size", "many"], "argument --batch-size"),
        (["--learning-rate", "fast"], "argument --learning-rate: expected a positive number"),
        (["--learning-rate", "-1"], "argument --learning-rate"),
        (["--validation-split", "1.5"], "argument --validation-split: expected a number in [0, 1)"),
        (["--optimizer", "newton"], "argument --optimizer: invalid choice: 'newton'"),
        (["--seed", "-1"], "argument --seed: expected an integer from 0 to 4294967295; got '-1'"),
        (["--out"], "argument --out: expected one argument"),
    ],
)
def test_train_bad_options_are_one_line_usage_errors(capsys, argv, fragment):
    status, out, err = _run(capsys, "train", *argv)
    assert status == 2 and out == ""
    _one_line_error(err, "chainrule train: error: ", fragment, "(see chainrule train --help)")


def test_train_out_that_is_a_file_or_under_one(tmp_path, capsys):
    file = tmp_path / "taken"
    file.write_text("")
    status, _, err = _run(capsys, "train", "--out", file)
    assert status == 1
    _one_line_error(err, f"--out {file} is a file")
    status, _, err = _run(capsys, "train", "--out", file / "run")
    assert status == 1
    _one_line_error(err, f"cannot write results to --out {file / 'run'}: Not a directory")


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write to any folder")
def test_train_out_that_is_read_only(tmp_path, capsys):
    tmp_path.chmod(0o500)
    try:
        status, _, err = _run(capsys, "train", "--out", tmp_path / "run")
    finally:
        tmp_path.chmod(0o700)
    assert status == 1
    _one_line_error(err, "cannot write results to --out", "Permission denied")


@pytest.mark.parametrize("command", ["evaluate", "predict"])
def test_missing_model_file(tmp_path, capsys, command):
    image = tmp_path / "digit.pgm"
    image.write_bytes(b"P5 1 1 255\n\0")
    extra = [image] if command == "predict" else []
    status, _, err = _run(capsys, command, tmp_path / "nothing.keras", *extra)
    assert status == 1
    _one_line_error(
        err,
        f"chainrule {command}: error: model file {tmp_path / 'nothing.keras'} "
        "does not exist; `chainrule train` writes one as <out>/model.keras",
    )
    status, _, err = _run(capsys, command, tmp_path, *extra)
    assert status == 1
    _one_line_error(err, f"model file {tmp_path} is not a file")


def test_model_file_that_is_not_a_model(tmp_path, capsys):
    bogus = tmp_path / "model.keras"
    bogus.write_text("not a model")
    status, _, err = _run(capsys, "evaluate", bogus)
    assert status == 1
    _one_line_error(err, f"chainrule evaluate: error: cannot load model {bogus}: ")


def test_predict_rejects_files_that_are_not_images(run_dir, tmp_path, capsys):
    text = tmp_path / "notes.png"
    text.write_text("seven\n")
    status, out, err = _run(capsys, "predict", run_dir / "model.keras", text)
    assert status == 1 and out == ""
    _one_line_error(err, f"{text} is not an image that can be read")
    missing = tmp_path / "gone.png"
    status, _, err = _run(capsys, "predict", run_dir / "model.keras", missing)
    assert status == 1
    _one_line_error(err, f"No such file or directory: {missing}")


def test_bad_input_in_a_subprocess_is_one_line_and_exit_1(tmp_path):
    process = _subprocess("predict", tmp_path / "missing.keras", tmp_path / "x.png")
    out, err = process.communicate(timeout=60)
    assert process.returncode == 1 and out == ""
    _one_line_error(err, "model file", "does not exist")


# ----- evaluate, predict ---------------------------------------------------------------------
def test_confusion_matrix_counts_pairs():
    matrix = classify.confusion_matrix([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 0, 2], 3)
    np.testing.assert_array_equal(matrix, [[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    table = classify.format_confusion_matrix(matrix).splitlines()
    assert table[0].split() == ["true", "0", "1", "2", "accuracy"]
    assert table[1].split() == ["0", "1", "1", "0", "0.5000"]
    assert table[3].split() == ["2", "1", "0", "2", "0.6667"]


def test_evaluate_prints_accuracy_and_confusion_matrix(run_dir, mnist_test, capsys):
    status, out, err = _run(capsys, "evaluate", run_dir / "model.keras")
    assert status == 0 and err == ""
    record = json.loads((run_dir / "history.json").read_text())
    lines = out.splitlines()
    correct = round(record["test"]["accuracy"] * 10000)
    assert lines[0] == (
        f"Test accuracy: {record['test']['accuracy']:.4f} ({correct} of 10000 test images)"
    )
    assert lines[1].startswith("Confusion matrix (rows: true digit, columns: predicted digit)")
    rows = np.array([line.split()[1:11] for line in lines[3:13]], dtype=np.int64)
    np.testing.assert_array_equal(rows.sum(axis=1), np.bincount(mnist_test[1], minlength=10))
    assert np.trace(rows) == correct


def _digit_files(folder, image):
    """One MNIST digit (28x28 uint8) as PNG, inverted PNG at 2x, RGB PNG, PGM P5 and P2."""
    from PIL import Image

    big = np.kron(255 - image, np.ones((2, 2), np.uint8))  # ink on paper, 56x56
    files = {
        "digit.png": Image.fromarray(image),
        "paper.png": Image.fromarray(big),
        "colour.png": Image.fromarray(np.stack([image] * 3, axis=-1)),
    }
    for name, picture in files.items():
        picture.save(folder / name)
    (folder / "digit.pgm").write_bytes(b"P5\n# MNIST\n28 28\n255\n" + image.tobytes())
    text = "\n".join(" ".join(map(str, row)) for row in image)
    (folder / "digit_ascii.pgm").write_text(f"P2 28 28 255\n{text}\n")
    return [folder / name for name in (*files, "digit.pgm", "digit_ascii.pgm")]


def test_predict_reads_each_format_to_the_same_probabilities(run_dir, mnist_test, tmp_path, capsys):
    from chainrule.keras.models import load_model

    x_test, _ = mnist_test
    expected = load_model(run_dir / "model.keras").predict(
        x_test[:1].reshape(1, 784) / 255.0, verbose=0
    )[0]
    paths = _digit_files(tmp_path, x_test[0])
    status, out, err = _run(capsys, "predict", run_dir / "model.keras", *paths)
    assert status == 0 and err == ""
    lines = out.splitlines()
    assert len(lines) == 2 * len(paths)
    digit = int(expected.argmax())
    for path, head, probabilities in zip(paths, lines[0::2], lines[1::2]):
        assert head == f"{path}: {digit} (probability {expected[digit]:.4f})"
        values = [float(v) for v in re.findall(r"\d: (\d\.\d{4})", probabilities)]
        np.testing.assert_allclose(values, expected, atol=6e-5)


# ----- images --------------------------------------------------------------------------------
def test_parse_pgm_binary_text_and_16_bit():
    pixels = np.array([[0, 128, 255], [7, 8, 9]], np.uint8)
    binary = images.parse_pgm(b"P5 3 2 255\n" + pixels.tobytes())
    np.testing.assert_allclose(binary, pixels / 255)
    text = images.parse_pgm(b"P2\n# a comment\n3 2\n# another\n255\n0 128 255\n7 8 9\n")
    np.testing.assert_allclose(text, pixels / 255)
    wide = np.array([[0, 1000], [65535, 4]], ">u2")
    np.testing.assert_allclose(images.parse_pgm(b"P5 2 2 65535 " + wide.tobytes()), wide / 65535)


@pytest.mark.parametrize(
    "data, match",
    [
        (b"P6 1 1 255\n\0\0\0", r"not a PGM file \(it starts with b'P6'"),
        (b"P5 2", "the PGM header ends early"),
        (b"P5 2 x 255\n", "PGM header field height must be a positive integer; got b'x'"),
        (b"P5 0 2 255\n", "says 0x2 pixels with maxval 255"),
        (b"P5 2 2 70000\n\0\0\0\0", "maxval in \\[1, 65535\\]"),
        (b"P5 2 2 255\n\0\0\0", r"promises 2x2 pixels \(4 bytes\) but 3 bytes follow"),
        (
            b"P5 99999 99999 255\n\0",
            r"99999x99999 = 9999800001 pixels; images are read up to 50000000 pixels",
        ),
        (b"P5 999 999 255\n\0", r"promises 999x999 pixels \(998001 bytes\) but 1 bytes follow"),
        (b"P2 2 1 255\n1", "promises 2x1 = 2 pixel values but the text holds 1 tokens"),
        (b"P2 2 1 255\n1 b", "not integers"),
        (b"P2 2 1 100\n1 200", "a pixel value 200 exceeds maxval 100"),
    ],
)
def test_parse_pgm_rejects_malformed_files(data, match):
    with pytest.raises(images.ImageFormatError, match=match) as info:
        images.parse_pgm(data, name="digit.pgm")
    assert str(info.value).startswith("digit.pgm: ")


def test_resize_area_averages_blocks_and_keeps_the_mean():
    rng = np.random.default_rng(0)
    image = rng.random((56, 84))
    blocks = image.reshape(28, 2, 28, 3).mean(axis=(1, 3))
    np.testing.assert_allclose(images.resize_area(image, (28, 28)), blocks, atol=1e-12)
    odd = rng.random((45, 37))  # non-integer factors: the total ink is kept
    np.testing.assert_allclose(images.resize_area(odd, (28, 28)).mean(), odd.mean(), rtol=1e-12)
    np.testing.assert_allclose(images.resize_area(odd, odd.shape), odd, atol=1e-12)
    np.testing.assert_array_equal(
        images.resize_area(np.eye(2), (4, 4)), np.kron(np.eye(2), np.ones((2, 2)))
    )


def test_to_mnist_inverts_ink_on_paper():
    digit = np.zeros((28, 28))
    digit[5:23, 12:16] = 1.0
    np.testing.assert_allclose(images.to_mnist(digit), digit)
    np.testing.assert_allclose(images.to_mnist(1.0 - digit), digit, atol=1e-6)
    assert images.to_mnist(digit).dtype == np.float32


def test_read_grayscale_colour_alpha_and_16_bit_png(tmp_path):
    from PIL import Image

    rgb = np.zeros((2, 2, 3), np.uint8)
    rgb[0, 0] = (255, 0, 0)
    Image.fromarray(rgb).save(tmp_path / "rgb.png")
    assert images.read_grayscale(tmp_path / "rgb.png")[0, 0] == pytest.approx(76 / 255)
    rgba = np.zeros((2, 2, 4), np.uint8)
    rgba[0, 0] = (0, 0, 0, 255)  # one black pixel on a transparent sheet
    Image.fromarray(rgba).save(tmp_path / "rgba.png")
    np.testing.assert_array_equal(images.read_grayscale(tmp_path / "rgba.png"), [[0, 1], [1, 1]])
    wide = np.array([[0, 65535], [32768, 1]], np.uint16)
    Image.fromarray(wide).save(tmp_path / "wide.png")
    np.testing.assert_allclose(images.read_grayscale(tmp_path / "wide.png"), wide / 65535)


def test_read_grayscale_errors(tmp_path, monkeypatch):
    broken = tmp_path / "broken.png"
    broken.write_bytes(PNG_SIGNATURE + b"\0\0\0\x0dIHDR")
    with pytest.raises(images.ImageFormatError, match=f"{broken} is not an image that can be"):
        images.read_grayscale(broken)
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(
        ImportError,
        match=r"is a PNG image; reading it needs Pillow: pip install "
        r'"chainrule\[image\]"',
    ):
        images.read_grayscale(broken)
    pgm = tmp_path / "ok.pgm"
    pgm.write_bytes(b"P5 1 1 255\n\xff")
    assert images.read_grayscale(pgm).tolist() == [[1.0]]  # PGM needs no Pillow


# ----- plot --------------------------------------------------------------------------------
def _colours(png):
    from PIL import Image

    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).reshape(-1, 3)
    return {tuple(colour) for colour in np.unique(pixels, axis=0)}


def test_plot_history_draws_train_and_validation_curves():
    blue, orange = (0x1F, 0x77, 0xB4), (0xFF, 0x7F, 0x0E)  # matplotlib's C0 and C1
    history = {"loss": [0.9, 0.5, 0.4], "accuracy": [0.7, 0.85, 0.9]}
    train_only, both = io.BytesIO(), io.BytesIO()
    plot_history(history, train_only)
    plot_history(
        {**history, "val_loss": [0.6, 0.45, 0.42], "val_accuracy": [0.8, 0.87, 0.88]},
        both,
        title="run",
    )
    from PIL import Image

    assert Image.open(io.BytesIO(both.getvalue())).size == (900, 340)
    assert blue in _colours(train_only.getvalue()) and orange not in _colours(train_only.getvalue())
    assert {blue, orange} <= _colours(both.getvalue())


def test_plot_history_needs_loss_or_accuracy():
    with pytest.raises(ValueError, match="expected per-epoch 'loss' or 'accuracy' values"):
        plot_history({"mae": [1.0]}, io.BytesIO())


# ----- an existing run, hostile options and files ------------------------------------------
@pytest.fixture
def tiny_mnist(monkeypatch, prepared_mnist):
    """Train on 64 and test on 32 MNIST images: for runs that must stop or fail quickly."""
    (x_train, y_train), (x_test, y_test) = prepared_mnist
    tiny = (x_train[:64], y_train[:64]), (x_test[:32], y_test[:32])
    monkeypatch.setattr(digits, "mnist", lambda: tiny)


def test_train_refuses_to_replace_an_existing_run(tiny_mnist, tmp_path, capsys):
    (tmp_path / "model.keras").write_text("the earlier run's model")
    status, out, err = _run(capsys, "train", "--epochs", "1", "--quiet", "--out", tmp_path)
    assert status == 1 and out == ""
    _one_line_error(err, f"--out {tmp_path} already holds", "--overwrite", "another folder")
    assert [path.name for path in tmp_path.iterdir()] == ["model.keras"]
    assert (tmp_path / "model.keras").read_text() == "the earlier run's model"
    status, _, _ = _run(
        capsys, "train", "--epochs", "1", "--quiet", "--overwrite", "--out", tmp_path
    )
    assert status == 0
    assert (tmp_path / "model.keras").read_bytes() != b"the earlier run's model"


def test_train_default_out_never_reuses_a_folder(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(train.time, "strftime", lambda _: "20260101-000000")
    (tmp_path / "runs" / "20260101-000000").mkdir(parents=True)  # empty, but taken
    assert train._output_folder(None) == Path("runs/20260101-000000-2")
    assert train._output_folder(None) == Path("runs/20260101-000000-3")


@pytest.mark.parametrize(
    "argv, fragments",
    [
        (["--seed", "4294967296"], ["argument --seed", "'4294967296'", "4294967295"]),
        (
            ["--validation-split", "0.999"],
            ["argument --validation-split: 0.999 leaves 3 of the 3200 training images", "32"],
        ),
        (["--validation-split", "0.99999"], ["argument --validation-split: 0.99999 leaves 0"]),
        (
            ["--validation-split", "1e-20"],
            ["argument --validation-split: 1e-20 holds out none of the 3200"],
        ),
        (["--hidden", "10000000"], ["argument --hidden: 10000000", "GiB", "at most"]),
        (["--hidden", "64,5000000,64"], ["argument --hidden: 64,5000000,64", "GiB"]),
    ],
)
def test_train_bad_values_are_usage_errors_before_any_folder(
    small_mnist, tmp_path, capsys, argv, fragments
):
    import tracemalloc

    out_dir = tmp_path / "run"
    tracemalloc.start()
    try:
        status, out, err = _run(capsys, "train", *argv, "--out", out_dir)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert status == 2 and out == ""
    _one_line_error(err, "chainrule train: error: ", *fragments, "(see chainrule train --help)")
    assert not out_dir.exists()
    assert peak < 50e6  # nothing allocated for a model that was refused


def test_train_that_diverges_fails_and_writes_no_model(tiny_mnist, tmp_path, capsys):
    (tmp_path / "model.keras").write_text("the earlier run's model")
    status, out, err = _run(
        capsys, "train", "--learning-rate", "1e308", "--overwrite", "--quiet", "--out", tmp_path
    )
    assert status == 1
    _one_line_error(err, "training diverged: the loss became", "--learning-rate 1e+308", "lower")
    assert "Test accuracy" not in out
    assert [path.name for path in tmp_path.iterdir()] == ["model.keras"]
    assert (tmp_path / "model.keras").read_text() == "the earlier run's model"
    fresh = tmp_path / "fresh"
    status, _, err = _run(capsys, "train", "--learning-rate", "1e308", "--quiet", "--out", fresh)
    assert status == 1 and not fresh.exists()


def test_ctrl_c_mid_epoch_keeps_the_partial_epoch_out_of_the_history(
    small_mnist, monkeypatch, tmp_path, capsys
):
    trained = train.StopOnInterrupt.on_train_batch_end

    def ctrl_c_at_batch_30_of_epoch_2(stopper, batch, logs=None):
        trained(stopper, batch, logs)
        if stopper._position == (2, 30):
            stopper._stop(signal.SIGINT, None)

    monkeypatch.setattr(train.StopOnInterrupt, "on_train_batch_end", ctrl_c_at_batch_30_of_epoch_2)
    status, out, _ = _run(capsys, "train", "--epochs", "3", "--out", tmp_path)
    assert status == EXIT_INTERRUPTED
    lines = out.splitlines()
    epoch_2 = lines[lines.index("Epoch 2/3") + 1]
    assert epoch_2.startswith(" 30/100 ━"), epoch_2
    assert "Stopped by Ctrl-C after batch 30 of 100 of epoch 2; results so far:" in lines
    assert re.fullmatch(r"1 epoch and 30 of 100 batches in [\d.]+ s; wrote .*", lines[-1])
    with open(tmp_path / "history.csv", newline="") as file:
        rows = list(csv.reader(file))
    assert [row[0] for row in rows] == ["epoch", "0"]  # completed epochs only, as CSVLogger
    record = json.loads((tmp_path / "history.json").read_text())
    assert record["epoch"] == [0] and len(record["history"]["loss"]) == 1
    partial = record["partial_epoch"]
    assert (partial["epoch"], partial["batches"], partial["steps"]) == (1, 30, 100)
    assert set(partial["logs"]) == {"loss", "accuracy"}


def test_version(capsys):
    from chainrule.version import __version__

    status, out, _ = _run(capsys, "--version")
    assert status == 0 and out == f"chainrule {__version__}\n"


def test_train_says_1_epoch_and_takes_optimizer_names_in_any_case(tiny_mnist, tmp_path, capsys):
    status, out, _ = _run(
        capsys, "train", "--epochs", "1", "--optimizer", "Adam", "--out", tmp_path
    )
    assert status == 0
    assert "epochs" not in out and ", 1 epoch\n" in out and "\n1 epoch in " in out
    assert json.loads((tmp_path / "history.json").read_text())["params"]["optimizer"] == "adam"


def test_evaluate_reads_only_the_test_images(run_dir, monkeypatch, capsys):
    def no_training_images(*args, **kwargs):
        raise AssertionError("evaluate read the training images")

    monkeypatch.setattr(mnist, "load_data", no_training_images)
    status, out, _ = _run(capsys, "evaluate", run_dir / "model.keras")
    assert status == 0 and out.startswith("Test accuracy: ")


def test_license_ships_with_the_package():
    import tomllib

    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License") and "Copyright (c) 2026 the chainrule authors" in text
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license-files"] == ["LICENSE"]


def _bounded(read, path, limit=50e6):
    """`read(path)`'s error, checking that it allocated less than `limit` bytes."""
    import tracemalloc

    tracemalloc.start()
    try:
        with pytest.raises(images.ImageFormatError) as info:
            read(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < limit, peak
    return str(info.value)


def _png_header(width, height):
    """The chunks of a PNG that declare width x height 8-bit grayscale pixels, but hold none."""
    import struct
    import zlib

    def chunk(kind, body):
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return PNG_SIGNATURE + chunk(b"IHDR", ihdr) + chunk(b"IDAT", b"")


def test_read_grayscale_refuses_what_is_not_a_regular_file(tmp_path):
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)  # opening it would wait forever for a writer
    message = _bounded(images.read_grayscale, fifo)
    assert message.startswith(f"{fifo} is not a regular file (a FIFO)")
    message = _bounded(images.read_grayscale, "/dev/zero")
    assert message.startswith("/dev/zero is not a regular file (a character device)")
    message = _bounded(images.read_grayscale, tmp_path)
    assert message.startswith(f"{tmp_path} is not a regular file (a directory)")


def test_read_grayscale_bounds_pixels_and_bytes_before_reading(tmp_path):
    png = tmp_path / "tall.png"
    png.write_bytes(_png_header(1, 80_000_000))
    message = _bounded(images.read_grayscale, png)
    assert "1x80000000 = 80000000 pixels" in message and "50000000" in message
    pgm = tmp_path / "huge.pgm"
    pgm.write_bytes(b"P5 10000 10000 255\n\0")
    message = _bounded(images.read_grayscale, pgm)
    assert "10000x10000 = 100000000 pixels" in message and "50000000" in message
    text = tmp_path / "huge_text.pgm"
    text.write_bytes(b"P2 2000 2000 255\n0")
    assert "plain-text PGM" in _bounded(images.read_grayscale, text)
    sparse = tmp_path / "sparse.pgm"
    with open(sparse, "wb") as file:  # a sparse file: no disk space, no memory
        file.write(b"P5 1 1 255\n")
        file.truncate(images.MAX_FILE_BYTES + 1)
    assert "bytes" in _bounded(images.read_grayscale, sparse, limit=10e6)


@pytest.mark.parametrize("size", [(400_000, 1), (1, 400_000)])
def test_a_long_thin_image_is_resized_in_little_memory(tmp_path, size):
    import tracemalloc

    from PIL import Image

    Image.new("L", size, 255).save(tmp_path / "thin.png")
    tracemalloc.start()
    try:
        digit = images.to_mnist(images.read_grayscale(tmp_path / "thin.png"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert digit.shape == (28, 28) and peak < 30e6, peak


def test_predict_reports_a_hostile_file_in_one_line(run_dir, tmp_path, capsys):
    fifo = tmp_path / "pipe.pgm"
    os.mkfifo(fifo)
    status, out, err = _run(capsys, "predict", run_dir / "model.keras", fifo)
    assert status == 1 and out == ""
    _one_line_error(err, f"{fifo} is not a regular file")
