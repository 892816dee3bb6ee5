"""chainrule.distributed in a job of one process (no mpiexec): the collectives return their
input, and the optimizer wrapper keeps the wrapped optimizer's class, config and updates."""

import numpy as np
import pytest

pytest.importorskip("mpi4py", reason='needs the mpi extra: pip install ".[mpi]"')

import chainrule.distributed as dist  # noqa: E402
import chainrule.keras as keras  # noqa: E402
from chainrule.distributed import comm  # noqa: E402


def test_a_process_alone_is_rank_0_of_1():
    dist.init()
    assert (dist.rank(), dist.size(), dist.local_rank(), dist.local_size()) == (0, 1, 0, 1)
    assert dist.is_primary() and dist.is_initialized()


def test_collectives_of_one_rank_return_their_input():
    a = np.arange(6.0).reshape(2, 3)
    for result in (dist.allreduce(a), dist.allreduce(a, op=dist.Sum), dist.broadcast(a)):
        np.testing.assert_array_equal(result, a)
        assert result is not a
    np.testing.assert_array_equal(dist.allgather(a), a)
    with pytest.raises(ValueError, match="op must be 'average' or 'sum', got 'max'"):
        dist.allreduce(a, op="max")


def test_the_wrapped_optimizer_keeps_its_class_config_and_updates():
    adam = keras.optimizers.Adam(learning_rate=0.01, beta_1=0.8)
    wrapped = dist.DistributedOptimizer(adam)
    assert isinstance(wrapped, keras.optimizers.Adam)
    assert type(wrapped).__name__ == "Adam"
    assert wrapped.get_config() == adam.get_config()
    plain, variables = keras.optimizers.Adam(learning_rate=0.01, beta_1=0.8), []
    for optimizer in (plain, wrapped):
        v = keras.Variable(np.ones(3, "float32"))
        optimizer.apply([np.array([1.0, -2.0, 0.5], "float32")], [v])
        variables.append(v.numpy())
    np.testing.assert_array_equal(variables[0], variables[1])


def test_an_optimizer_that_has_stepped_is_refused():
    sgd = keras.optimizers.SGD()
    sgd.apply([np.ones(2, "float32")], [keras.Variable(np.ones(2, "float32"))])
    with pytest.raises(ValueError, match="has already taken steps; wrap the optimizer before"):
        dist.DistributedOptimizer(sgd)


def test_without_mpi4py_init_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(comm, "MPI", None)
    monkeypatch.setitem(comm._state, "comm", None)
    with pytest.raises(ImportError, match=r'pip install "chainrule\[mpi\]"'):
        dist.init()


def test_a_batch_is_cut_into_parts_that_differ_by_one_row_at_most():
    from chainrule.distributed.strategy import part_bounds

    assert [part_bounds(16, r, 3) for r in range(3)] == [(0, 6), (6, 11), (11, 16)]
    assert [part_bounds(8, r, 4) for r in range(4)] == [(0, 2), (2, 4), (4, 6), (6, 8)]
    assert [part_bounds(2, r, 3) for r in range(3)] == [(0, 1), (1, 2), (2, 2)]


def test_the_launchers_job_size_is_read_without_starting_mpi(monkeypatch):
    for variable in comm.LAUNCHER_SIZE_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    assert comm.launched_size() == 1
    monkeypatch.setenv("OMPI_COMM_WORLD_SIZE", "4")
    assert comm.launched_size() == 4


def test_a_model_compiled_outside_any_scope_trains_in_one_process():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    assert model._distribution.size == 1 and model._distribution.is_primary
    assert type(model.optimizer) is keras.optimizers.SGD


def test_broadcast_keeps_an_accumulating_optimizers_count_of_calls():
    # with gradient_accumulation_steps, iterations counts updates and its variable the calls
    variable = keras.Variable(np.zeros(2, np.float32), name="w")
    sgd = keras.optimizers.SGD(0.1, gradient_accumulation_steps=2)
    for _ in range(3):
        sgd.apply([np.ones(2, np.float32)], [variable])
    dist.broadcast_optimizer_state(sgd, [variable])
    assert int(sgd._iterations.numpy()) == 3 and int(sgd.iterations) == 1
    np.testing.assert_array_equal(sgd.variables[-1].numpy(), [1.0, 1.0])  # the accumulator
