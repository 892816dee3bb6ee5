"""TensorFlow's "Customization basics" tutorial, with chainrule imported as tf: Python lists
convert as TensorFlow converts them, NumPy functions read a Tensor's values while NumPy's
operators defer to the Tensor's, and tf.config sees one CPU."""

import numpy as np

import chainrule as tf


def test_python_lists_convert_as_tensorflow_converts_them():
    assert tf.math.add([1, 2], [3, 4]).dtype == np.int32  # NumPy would make int64
    assert tf.math.add([1.0, 2.0], [3.0, 4.0]).dtype == np.float32
    assert tf.math.multiply(np.ones([3, 3]), 42).dtype == np.float64  # an ndarray keeps its own
    ds = tf.data.Dataset.from_tensor_slices([1, 2, 3]).map(tf.math.square).batch(3)
    (batch,) = list(ds)
    assert batch.dtype == np.int32 and batch.numpy().tolist() == [1, 4, 9]


def test_numpy_functions_read_values_and_numpy_operators_defer_to_the_tensor():
    t = tf.Variable([1.0, 2.0])
    added = np.add(t, 1)
    assert type(added) is np.ndarray and added.tolist() == [2.0, 3.0]
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(np.array([3.0, 4.0], np.float32) * t)  # ndarray * Tensor: recorded
    assert isinstance(y, tf.Tensor)
    assert tape.gradient(y, t).numpy().tolist() == [3.0, 4.0]


def test_tf_config_sees_one_cpu_and_no_gpu():
    assert tf.config.list_physical_devices("GPU") == []
    (cpu,) = tf.config.list_physical_devices()
    assert cpu.device_type == "CPU" and cpu.name == "/physical_device:CPU:0"
    tf.config.experimental.set_memory_growth(cpu, True)
    assert tf.random.uniform([2]).device.endswith("CPU:0")


def test_op_determinism_fixes_the_thread_count_that_fit_would_choose(monkeypatch):
    """keras-io's reproducibility recipe calls enable_op_determinism first: the timed choice of
    the BLAS library's threads, the one source of a last bit differing between runs, stops."""
    import os

    from chainrule.fast import threads

    monkeypatch.setenv("CHAINRULE_NUM_THREADS", "")  # restored as it was after the test
    monkeypatch.delenv("CHAINRULE_NUM_THREADS")
    assert not tf.config.experimental.is_op_determinism_enabled()
    monkeypatch.setattr(threads, "thread_count", lambda: 2)
    tf.config.experimental.enable_op_determinism()
    assert tf.config.experimental.is_op_determinism_enabled()
    assert os.environ["CHAINRULE_NUM_THREADS"] == "2"
    monkeypatch.setenv("CHAINRULE_NUM_THREADS", "1")  # the user's own setting stays
    tf.config.experimental.enable_op_determinism()
    assert os.environ["CHAINRULE_NUM_THREADS"] == "1"
