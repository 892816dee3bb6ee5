"""tf's array names (shape, rank, size, gather, gather_nd, tile, pad, split, unstack, sort,
argsort, eye, linspace, stop_gradient, TensorShape): values against NumPy's closed forms and
TensorFlow's documented examples, gradients by finite differences, errors for bad input."""

import numpy as np
import pytest

import chainrule as tf
from chainrule import gradcheck

rng = np.random.default_rng(1)


def randn(*shape):
    return rng.standard_normal(shape)


def test_shape_rank_size_are_int32_tensors_as_in_tensorflow():
    x = tf.zeros((2, 3, 5))
    assert tf.shape(x).dtype == tf.int32 and tf.shape(x).tolist() == [2, 3, 5]
    assert tf.shape(x, out_type=tf.int64).dtype == tf.int64
    assert tf.rank(x).dtype == tf.int32 and int(tf.rank(x)) == 3
    assert tf.size(x).dtype == tf.int32 and int(tf.size(x)) == 30
    assert int(tf.shape(np.ones((4, 1)))[0]) == 4  # the batch size, as a tensor
    assert tf.newaxis is None
    assert tf.ones((3,))[:, tf.newaxis].shape == (3, 1)
    with pytest.raises(TypeError, match="shape: out_type must be int32 or int64"):
        tf.shape(x, out_type=tf.float32)


def test_tensorshape():
    s = tf.TensorShape([None, 3])
    assert s.rank == 2 and s.as_list() == [None, 3] and s[1] == 3 and len(s) == 2
    assert not s.is_fully_defined() and s.num_elements() is None
    assert tf.TensorShape([2, 3]).num_elements() == 6
    assert tf.TensorShape([2, 3]) == [2, 3] and s[1:] == tf.TensorShape([3])
    assert tf.TensorShape(None).rank is None
    with pytest.raises(ValueError, match="rank is unknown"):
        tf.TensorShape(None).as_list()


def test_gather_follows_tensorflow_examples():
    # tf.gather's documentation: params [0 1 2 3 4 5] gathered at [2 0 2 5] -> [2 0 2 5]
    params = tf.constant([0.0, 1.0, 2.0, 3.0, 4.0, 5.0])
    np.testing.assert_array_equal(tf.gather(params, [2, 0, 2, 5]).numpy(), [2, 0, 2, 5])
    m = randn(3, 4, 5)
    idx = np.array([[0, 2], [1, 1]])
    np.testing.assert_allclose(tf.gather(m, idx, axis=1).numpy(), np.take(m, idx, axis=1))
    # batch_dims=1: each row picks from its own slice (TensorFlow's documented rule)
    b = randn(2, 4)
    picks = np.array([[3, 0], [1, 1]])
    expected = np.stack([b[0, [3, 0]], b[1, [1, 1]]])
    np.testing.assert_allclose(tf.gather(b, picks, batch_dims=1).numpy(), expected)
    # an index picked twice gets both gradients
    gradcheck(
        lambda x: tf.gather(x, [2, 0, 2]) * tf.constant([1.0, 2.0, 3.0], dtype="float64"), randn(4)
    )
    gradcheck(lambda x: tf.gather(x, idx, axis=1), m)
    gradcheck(lambda x: tf.gather(x, picks, batch_dims=1), b)


def test_gather_with_axis_after_the_batch_axes():
    # TensorFlow's rule: y[b, p, j.., r] = params[b, p, indices[b, j..], r]
    params = randn(2, 3, 5, 4)
    indices = np.array([[[4, 0, 1], [2, 2, 3]], [[0, 1, 0], [4, 4, 4]]])  # (2, 2, 3)
    y = tf.gather(params, indices, axis=2, batch_dims=1)
    assert y.shape == (2, 3, 2, 3, 4)
    for b in range(2):
        np.testing.assert_allclose(y.numpy()[b], params[b][:, indices[b]])
    np.testing.assert_allclose(
        tf.gather(params, indices[:, 0], axis=-2, batch_dims=-1).numpy(),
        np.stack([params[b][:, indices[b, 0]] for b in range(2)]),
    )
    gradcheck(lambda t: tf.gather(t, indices, axis=2, batch_dims=1), params)
    # two batch axes, each picking one index: batch_dims equal to indices' rank
    picks = np.array([[1, 0, 2], [2, 2, 0]])
    np.testing.assert_allclose(
        tf.gather(params, picks, axis=3, batch_dims=2).numpy(),
        params[np.arange(2)[:, None], np.arange(3), :, picks].transpose(0, 1, 2),
    )


def test_gather_errors():
    with pytest.raises(ValueError, match="gather: index 7 is out of range for axis 0 of size 3"):
        tf.gather(tf.ones((3,)), [0, 7])
    # negative indices are out of range in TensorFlow too
    with pytest.raises(ValueError, match="gather: index -1 is out of range"):
        tf.gather(tf.ones((3,)), [-1])
    with pytest.raises(ValueError, match="gather: axis=0 must be at least batch_dims=1"):
        tf.gather(tf.ones((2, 3)), [[0], [1]], axis=0, batch_dims=1)
    with pytest.raises(ValueError, match="gather: batch_dims=1 must pair the first axes"):
        tf.gather(tf.ones((2, 3)), [[0], [1], [2]], batch_dims=1)
    with pytest.raises(ValueError, match=r"gather: axis=2 is out of range .* \[-2, 2\)"):
        tf.gather(tf.ones((2, 3)), [0], axis=2)
    with pytest.raises(ValueError, match="gather: axis=0 is out of range for params of shape"):
        tf.gather(tf.constant(1.0), [0])
    with pytest.raises(TypeError, match="gather: indices must be integers"):
        tf.gather(tf.ones((3,)), [0.0])


def test_gather_nd_picks_elements_and_slices():
    x = randn(3, 4, 2)
    idx = np.array([[0, 1], [2, 3], [2, 3]])
    np.testing.assert_allclose(tf.gather_nd(x, idx).numpy(), x[idx[:, 0], idx[:, 1]])
    # tf.gather_nd's documentation: [['a','b'],['c','d']] at [[0,0],[1,1]] -> ['a', 'd']
    grid = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(tf.gather_nd(grid, [[0, 0], [1, 1]]).numpy(), [1.0, 4.0])
    np.testing.assert_array_equal(tf.gather_nd(grid, [[1]]).numpy(), [[3.0, 4.0]])
    gradcheck(lambda t: tf.gather_nd(t, idx), x)
    with pytest.raises(ValueError, match="gather_nd: index 5 is out of range for axis 1"):
        tf.gather_nd(grid, [[0, 5]])
    with pytest.raises(ValueError, match="gather_nd: indices of shape .2, 4. address 4 axes"):
        tf.gather_nd(grid, np.zeros((2, 4), dtype=np.int32))


def test_gather_nd_with_batch_dims():
    # TensorFlow's rule: y[b, i..] = params[b, indices[b, i.., 0], ..., indices[b, i.., k-1]]
    params = randn(2, 3, 4, 5)
    indices = np.array([[[0, 1], [2, 3], [0, 1]], [[1, 0], [1, 3], [2, 2]]])  # (2, 3, 2)
    y = tf.gather_nd(params, indices, batch_dims=1)
    assert y.shape == (2, 3, 5)
    for b in range(2):
        np.testing.assert_allclose(y.numpy()[b], params[b][indices[b, :, 0], indices[b, :, 1]])
    gradcheck(lambda t: tf.gather_nd(t, indices, batch_dims=1), params)
    # tf.gather_nd's documentation, batch_dims=1: [[[0, 1], [2, 3]], [[4, 5], [6, 7]]] at
    # [[1], [0]] -> [[2, 3], [4, 5]]
    documented = tf.constant([[[0, 1], [2, 3]], [[4, 5], [6, 7]]])
    np.testing.assert_array_equal(
        tf.gather_nd(documented, [[1], [0]], batch_dims=1).numpy(), [[2, 3], [4, 5]]
    )
    # no coordinates: the whole of each batch element's slice
    whole = tf.gather_nd(params, np.zeros((2, 0), dtype=np.int32), batch_dims=1)
    np.testing.assert_allclose(whole.numpy(), params)


def test_tile_pad_split_unstack_values():
    x = randn(2, 3)
    np.testing.assert_allclose(tf.tile(x, [2, 3]).numpy(), np.tile(x, (2, 3)))
    pads = [[1, 2], [0, 1]]
    np.testing.assert_allclose(tf.pad(x, pads).numpy(), np.pad(x, pads))
    np.testing.assert_allclose(
        tf.pad(x, pads, constant_values=7.0).numpy(), np.pad(x, pads, constant_values=7.0)
    )
    # tf.pad's documentation: [[1, 2, 3], [4, 5, 6]] with [[1, 1], [2, 2]]
    t = tf.constant([[1, 2, 3], [4, 5, 6]])
    np.testing.assert_array_equal(
        tf.pad(t, [[1, 1], [2, 2]], "REFLECT").numpy(),
        [
            [6, 5, 4, 5, 6, 5, 4],
            [3, 2, 1, 2, 3, 2, 1],
            [6, 5, 4, 5, 6, 5, 4],
            [3, 2, 1, 2, 3, 2, 1],
        ],
    )
    np.testing.assert_array_equal(
        tf.pad(t, [[1, 1], [2, 2]], "SYMMETRIC").numpy(),
        [
            [2, 1, 1, 2, 3, 3, 2],
            [2, 1, 1, 2, 3, 3, 2],
            [5, 4, 4, 5, 6, 6, 5],
            [5, 4, 4, 5, 6, 6, 5],
        ],
    )
    assert tf.pad(t, [[1, 1], [2, 2]]).dtype == tf.int32
    parts = tf.split(randn(4, 6), [1, -1, 2], axis=1)
    assert [p.shape for p in parts] == [(4, 1), (4, 3), (4, 2)]
    assert [p.shape for p in tf.split(x, 3, axis=1)] == [(2, 1)] * 3
    rows = tf.unstack(x, axis=1)
    assert len(rows) == 3
    np.testing.assert_allclose(rows[2].numpy(), x[:, 2])


def test_tile_pad_split_unstack_gradients():
    x = randn(2, 3)
    weights = tf.constant(randn(4, 6))
    gradcheck(lambda t: tf.tile(t, [2, 2]) * weights, x)
    gradcheck(lambda t: tf.pad(t, [[1, 0], [2, 1]], constant_values=3.0), x)
    gradcheck(lambda t: tf.pad(t, [[1, 1], [2, 2]], "REFLECT") ** 2, x)
    gradcheck(lambda t: tf.pad(t, [[1, 1], [2, 2]], "SYMMETRIC") ** 2, x)
    gradcheck(lambda t: tf.split(t, [2, 1], axis=1)[0] * 2 + tf.split(t, [2, 1], axis=1)[1], x)
    gradcheck(lambda t: tf.unstack(t)[1] * tf.unstack(t)[0], x)


def test_tile_pad_split_errors():
    with pytest.raises(ValueError, match="tile: multiples must hold one non-negative count"):
        tf.tile(tf.ones((2, 2)), [2])
    assert tf.tile(tf.ones((2, 3)), tf.constant([0, 2])).shape == (0, 6)
    with pytest.raises(ValueError, match=r"pad: paddings must be 2 non-negative"):
        tf.pad(tf.ones((2, 2)), [[1, 1]])
    with pytest.raises(
        ValueError, match="pad: REFLECT padding of axis 1 .size 3. must be at most 2"
    ):
        tf.pad(tf.ones((2, 3)), [[0, 0], [3, 0]], "REFLECT")
    with pytest.raises(ValueError, match="pad: mode must be"):
        tf.pad(tf.ones((2, 3)), [[0, 0], [1, 0]], "EDGE")
    with pytest.raises(ValueError, match="split: axis 0 of size 5 cannot be cut into 2 equal"):
        tf.split(tf.ones((5,)), 2)
    with pytest.raises(ValueError, match="split: sizes .* do not add up to the size 5"):
        tf.split(tf.ones((5,)), [2, 2])
    with pytest.raises(ValueError, match="unstack: num=3"):
        tf.unstack(tf.ones((2, 2)), num=3)


def test_sort_and_argsort():
    x = np.array([[3.0, 1.0, 2.0, 1.0], [0.0, 5.0, 5.0, -1.0]])
    np.testing.assert_array_equal(tf.sort(x).numpy(), np.sort(x, axis=-1))
    np.testing.assert_array_equal(tf.sort(x, direction="DESCENDING").numpy(), -np.sort(-x, axis=-1))
    np.testing.assert_array_equal(tf.sort(x, axis=0).numpy(), np.sort(x, axis=0))
    order = tf.argsort(x)
    assert order.dtype == tf.int32
    np.testing.assert_array_equal(order.numpy(), [[1, 3, 2, 0], [3, 0, 1, 2]])  # ties in order
    np.testing.assert_array_equal(
        tf.argsort(x, direction="DESCENDING").numpy(), [[0, 2, 1, 3], [1, 2, 0, 3]]
    )
    gradcheck(lambda t: tf.sort(t) * tf.constant(np.arange(4.0)), randn(3, 4))
    gradcheck(lambda t: tf.sort(t, axis=0, direction="DESCENDING") ** 2, randn(3, 2))
    with pytest.raises(ValueError, match="sort: direction must be 'ASCENDING' or 'DESCENDING'"):
        tf.sort(x, direction="UP")
    ints = tf.constant([3, 1, 2])
    assert tf.sort(ints, direction="DESCENDING").numpy().tolist() == [3, 2, 1]
    assert tf.sort(ints).dtype == tf.int32


def test_eye_linspace_stop_gradient():
    np.testing.assert_array_equal(tf.eye(2, 3).numpy(), np.eye(2, 3))
    assert tf.eye(3).dtype == tf.float32
    assert tf.eye(2, batch_shape=[4]).shape == (4, 2, 2)
    line = tf.linspace(10.0, 12.0, 3)
    assert line.dtype == tf.float32
    np.testing.assert_allclose(line.numpy(), [10.0, 11.0, 12.0])
    # TensorFlow's documented example: one sequence per element of start and stop, on axis 0
    np.testing.assert_allclose(
        tf.linspace([0.0, 5.0], [10.0, 40.0], 5, axis=0).numpy(),
        [[0.0, 5.0], [2.5, 13.75], [5.0, 22.5], [7.5, 31.25], [10.0, 40.0]],
    )
    # integer ends give float64, as in TensorFlow 2.21: tf.linspace(0, 1, 3) is float64
    # [0., 0.5, 1.] (keras-io's conditional GAN interpolates with it)
    halves = tf.linspace(0, 1, 3)
    assert halves.dtype == tf.float64 and halves.numpy().tolist() == [0.0, 0.5, 1.0]
    assert tf.linspace(np.int64(0), np.int64(2), 3).dtype == tf.float64
    assert tf.linspace(0.0, 1, 3).dtype == tf.float32
    with pytest.raises(TypeError, match="linspace: stop 1.5 is not an integer like start"):
        tf.linspace(0, 1.5, 3)
    x = tf.Variable([1.0, 2.0])
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(x * tf.stop_gradient(x))
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), [1.0, 2.0])  # d/dx x*c = c


def test_variable_assign_family():
    v = tf.Variable([1.0, 2.0])
    assert v.dtype == tf.float32 and v.trainable
    assert v.assign_add([1.0, 1.0]) is v
    v.assign_sub([0.5, 0.5])
    np.testing.assert_array_equal(v.numpy(), [1.5, 2.5])
    v.assign([0.0, 4.0])
    np.testing.assert_array_equal(v.numpy(), [0.0, 4.0])
    with pytest.raises(ValueError, match="cannot assign a value of shape"):
        v.assign([1.0, 2.0, 3.0])


def test_tf_device_takes_cpu_names_as_tensorflow_does_and_refuses_a_gpu():
    with tf.device("CPU:0"):
        y = tf.argmax(tf.expand_dims(tf.constant([1.0, 3.0, 2.0]), 0), axis=1)
    assert y.numpy().tolist() == [1]
    with pytest.raises(ValueError, match="device: chainrule computes with NumPy on the CPU"):
        with tf.device("/GPU:0"):
            pass
