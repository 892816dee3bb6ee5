"""Data-parallel training on MPI: real jobs of 2 and 4 ranks started with ``mpiexec``.

Each job is a script next to this file, run in a fresh process tree; the tests read what the
jobs write and print. They need the ``mpi`` extra (mpi4py and an MPI with ``mpiexec``).
"""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("mpi4py", reason='needs the mpi extra: pip install ".[mpi]"')
MPIEXEC = shutil.which("mpiexec", path=str(Path(sys.executable).parent)) or shutil.which("mpiexec")
pytestmark = pytest.mark.skipif(MPIEXEC is None, reason="no mpiexec on PATH")

HERE = Path(__file__).parent
ROOT = HERE.parent.parent


def run_job(script, *args, ranks=None, timeout=120):
    """Run ``script`` (with ``mpiexec -n ranks`` if ranks is given); return (seconds, result)."""
    command = [sys.executable, str(HERE / script), *map(str, args)]
    if ranks is not None:
        command = [MPIEXEC, "-n", str(ranks), *command]
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)
    return time.perf_counter() - start, result


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("ranks", [2, 4])
def test_ranks_train_the_same_weights_as_one_process(tmp_path, optimizer, ranks):
    """N ranks, each on B/N samples of every global batch of B, with gradients averaged, end with
    the weights one process reaches on batches of B (ranks start from different seeds, so the
    initial broadcast is checked too)."""
    _, alone = run_job("data_parallel_job.py", optimizer, tmp_path / "one.npz")
    assert alone.returncode == 0, alone.stderr
    _, job = run_job("data_parallel_job.py", optimizer, tmp_path / "many.npz", ranks=ranks)
    assert job.returncode == 0, job.stderr
    one, many = np.load(tmp_path / "one.npz"), np.load(tmp_path / "many.npz")
    for key in one:
        scale = np.abs(one[key]).max()
        assert np.abs(one[key] - many[key]).max() <= 1e-6 * scale + 1e-7, key


def test_two_identical_jobs_are_bit_identical(tmp_path):
    for name in ("a.npz", "b.npz"):
        _, job = run_job("data_parallel_job.py", "adam", tmp_path / name, ranks=2)
        assert job.returncode == 0, job.stderr
    a, b = np.load(tmp_path / "a.npz"), np.load(tmp_path / "b.npz")
    for key in a:
        assert np.array_equal(a[key], b[key])


def test_a_rank_that_raises_ends_the_job_naming_the_rank_and_the_error():
    seconds, job = run_job("faulty_job.py", "raise", ranks=2, timeout=60)
    assert job.returncode != 0
    assert "rank 1 of 2 failed (RuntimeError: the disk is full)" in job.stderr
    assert seconds < 30


def test_a_killed_rank_ends_the_job():
    seconds, job = run_job("faulty_job.py", "kill", ranks=2, timeout=60)
    assert job.returncode != 0
    assert "Killed (signal 9)" in job.stdout + job.stderr
    assert seconds < 30


@pytest.mark.parametrize("how", ["kill-while-saving", "kill-the-writer"])
def test_a_rank_killed_while_checkpoints_are_written_leaves_a_whole_checkpoint(tmp_path, how):
    """Rank 1 killed while rank 0 saves after every batch, or rank 0 killed halfway through
    writing its third checkpoint: the job ends within seconds and the checkpoint is a whole file
    (the second one, when the third was cut short: its half lies in a temporary file)."""
    checkpoint = tmp_path / "checkpoint.keras"
    seconds, job = run_job("faulty_job.py", how, checkpoint, ranks=2, timeout=60)
    assert job.returncode != 0
    assert "Killed (signal 9)" in job.stdout + job.stderr
    assert seconds < 30
    from chainrule.keras.models import load_model

    model = load_model(checkpoint)
    assert all(np.isfinite(w).all() for w in model.get_weights())
    if how == "kill-the-writer":
        assert int(model.optimizer.iterations) == 2
        (half,) = tmp_path.glob(".checkpoint.keras.*.tmp")
        assert 0 < half.stat().st_size < checkpoint.stat().st_size


def test_ranks_with_different_models_are_refused_at_the_first_broadcast():
    seconds, job = run_job("faulty_job.py", "mismatch", ranks=2, timeout=60)
    assert job.returncode != 0
    assert "the ranks built different models" in job.stderr
    assert "((5, 9), 'float32') on rank 1 but ((5, 8), 'float32') on rank 0" in job.stderr
    assert seconds < 30


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("ranks", [2, 3, 4])
def test_plain_fit_under_the_strategy_matches_one_process(tmp_path, optimizer, ranks):
    """`fit` in a strategy's scope, with shuffling, a validation split, a short last batch
    (70 rows at batch 16: parts of 6, 5 and 5 rows on 3 ranks) and ranks seeded differently,
    ends with one process's weights, history and evaluation; rank 0 alone writes the
    checkpoint, a normal one-process file."""
    assert_strategy_job_matches_one_process(tmp_path, optimizer, ranks)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_a_batch_with_fewer_rows_than_ranks_trains_as_one_process(tmp_path, optimizer):
    """12 samples, 2 of them for validation, at batch 4 on 3 ranks: the last training batch of
    2 rows and the validation batch of 2 leave rank 2 an empty part, which weighs nothing in the
    gradient and the metrics."""
    assert_strategy_job_matches_one_process(tmp_path, optimizer, 3, "--samples=12", "--batch=4")


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("ranks", [2, 4])
def test_synchronized_batch_normalization_trains_as_one_process(tmp_path, optimizer, ranks):
    """BatchNormalization(synchronized=True) normalizes by the global batch's statistics, and its
    gradient is the global one, also for the short last batch's unequal parts (59 training rows
    at batch 16: 3, 3, 3, 2 rows on 4 ranks): weights, moving averages, history and evaluation
    are one process's."""
    assert_strategy_job_matches_one_process(
        tmp_path, optimizer, ranks, "--batchnorm", "--samples=73"
    )


@pytest.mark.parametrize("resume_ranks", [1, 4])
def test_a_job_resumes_from_rank_0s_checkpoint_with_another_number_of_ranks(tmp_path, resume_ranks):
    """Epochs 1-2 on 2 ranks, checkpointed by rank 0 (weights and Adam's state), then epochs
    3-4 on 1 or 4 ranks from that file: the weights of 4 epochs in one process."""
    _, whole = run_job("resume_job.py", "whole", tmp_path / "whole")
    assert whole.returncode == 0, whole.stderr
    _, first = run_job("resume_job.py", "first", tmp_path / "run", ranks=2)
    assert first.returncode == 0, first.stderr
    ranks = None if resume_ranks == 1 else resume_ranks
    _, resumed = run_job("resume_job.py", "resume", tmp_path / "run", ranks=ranks)
    assert resumed.returncode == 0, resumed.stderr
    one, many = np.load(tmp_path / "whole.npz"), np.load(tmp_path / "run.npz")
    for key in one:
        scale = np.abs(one[key]).max()
        assert np.abs(one[key] - many[key]).max() <= 1e-6 * scale, key


def assert_strategy_job_matches_one_process(tmp_path, optimizer, ranks, *job_args):
    _, alone = run_job("strategy_job.py", optimizer, tmp_path / "one", *job_args)
    assert alone.returncode == 0, alone.stderr
    _, job = run_job("strategy_job.py", optimizer, tmp_path / "many", *job_args, ranks=ranks)
    assert job.returncode == 0, job.stderr
    one, many = np.load(tmp_path / "one.npz"), np.load(tmp_path / "many.npz")
    for key in one:
        scale = np.abs(one[key]).max()
        assert np.abs(one[key] - many[key]).max() <= 1e-6 * scale + 1e-7, key
    expected = json.loads((tmp_path / "one.json").read_text())
    got = json.loads((tmp_path / "many.json").read_text())
    for name, values in expected["history"].items():
        np.testing.assert_allclose(got["history"][name], values, rtol=1e-5, err_msg=name)
    for name, value in expected["evaluation"].items():
        assert got["evaluation"][name] == pytest.approx(value, rel=1e-5)
    assert got["scale"] == 1.0
    from chainrule.keras.models import load_model

    checkpoint = load_model(tmp_path / "many.keras")
    for a, b in zip(checkpoint.get_weights(), one.values()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


@pytest.mark.slow
def test_chainrule_train_with_workers_gives_the_one_process_results(tmp_path):
    results = {}
    for workers in (1, 2):
        out = tmp_path / f"run{workers}"
        command = [
            sys.executable,
            "-m",
            "chainrule",
            "train",
            "--epochs",
            "1",
            "--seed",
            "0",
            "--quiet",
            "--out",
            str(out),
            "--workers",
            str(workers),
        ]
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        result = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)
        assert result.returncode == 0, result.stderr
        results[workers] = json.loads((out / "history.json").read_text())["test"]
        assert sorted(p.name for p in out.iterdir()) == [
            "history.csv",
            "history.json",
            "model.keras",
            "training.png",
        ]
    assert results[2]["accuracy"] == pytest.approx(results[1]["accuracy"], abs=1e-6)
    assert results[2]["loss"] == pytest.approx(results[1]["loss"], rel=1e-5)
