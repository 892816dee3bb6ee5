"""chainrule.data.Dataset: tf.data's semantics (element order, batching, cardinality, shuffling
through a buffer), iteration as Tensors, the errors a user sees, and that a pass over a shuffled,
batched dataset gathers batches instead of copying the data."""

import tracemalloc

import numpy as np
import pytest

import chainrule as cr
from chainrule.tf.data import AUTOTUNE, INFINITE_CARDINALITY, Dataset


def values(dataset):
    """Every element of one pass, with arrays turned into lists (for comparisons)."""

    def plain(element):
        if isinstance(element, tuple):
            return tuple(plain(e) for e in element)
        if isinstance(element, dict):
            return {k: plain(v) for k, v in element.items()}
        return np.asarray(element).tolist()

    return [plain(element) for element in dataset.as_numpy_iterator()]


def test_from_tensor_slices_yields_rows_as_tensors_in_the_given_structure():
    x = np.arange(12, dtype=np.float32).reshape(6, 2)
    y = np.arange(6)
    first_x, first_y = next(iter(Dataset.from_tensor_slices((x, y))))
    assert isinstance(first_x, cr.Tensor) and isinstance(first_y, cr.Tensor)
    np.testing.assert_array_equal(first_x.numpy(), [0.0, 1.0])
    assert first_x.dtype == np.float32 and first_y.dtype == np.int64  # dtypes kept, as tf.data
    as_dicts = values(Dataset.from_tensor_slices({"image": x, "label": y}))
    assert as_dicts[5] == {"image": [10.0, 11.0], "label": 5}
    nested = values(Dataset.from_tensor_slices(((x, x[:, :1]), {"y": y})))
    assert nested[2] == (([4.0, 5.0], [4.0]), {"y": 2})
    assert values(Dataset.from_tensor_slices([1.0, 2.0])) == [1.0, 2.0]  # a list is one array
    assert next(Dataset.from_tensor_slices([1.0, 2.0]).as_numpy_iterator()).dtype == np.float32
    ds = Dataset.from_tensor_slices(x)
    assert len(ds) == 6 and int(ds.cardinality()) == 6
    assert cr.data.Dataset is Dataset  # tf.data.Dataset, with `import chainrule as tf`


def test_components_of_different_lengths_name_what_was_received():
    with pytest.raises(
        ValueError,
        match=r"same size along axis 0.*received component\[0\] of "
        r"shape \(5, 2\), component\[1\] of shape \(4,\)",
    ):
        Dataset.from_tensor_slices((np.zeros((5, 2)), np.zeros(4)))
    with pytest.raises(ValueError, match=r"component\['label'\] of shape \(3,\)"):
        Dataset.from_tensor_slices({"image": np.zeros((5, 2)), "label": np.zeros(3)})
    with pytest.raises(ValueError, match=r"the array is a scalar"):
        Dataset.from_tensor_slices(np.float32(3.0))
    with pytest.raises(TypeError, match=r"component\[1\]: .*numeric"):
        Dataset.from_tensor_slices((np.zeros(2), np.array([{}, None], dtype=object)))


def test_strings_slice_batch_map_and_cache_as_in_tf_data():
    texts = np.array(["Good <br />film", "DULL", "fine", "bad"], dtype=object)
    ds = Dataset.from_tensor_slices((texts, np.arange(4))).batch(3)
    first, labels = next(iter(ds))
    assert first.numpy().tolist() == [b"Good <br />film", b"DULL", b"fine"]  # bytes, as tf's
    assert labels.numpy().tolist() == [0, 1, 2]
    lowered = ds.map(lambda x, y: (cr.strings.lower(cr.expand_dims(x, -1)), y))
    assert [x.shape for x, _ in lowered] == [(3, 1), (1, 1)]
    assert next(iter(lowered))[0].numpy()[1, 0] == b"dull"
    # cache replays the first pass: a shuffle before it keeps its first order on every pass
    cached = Dataset.from_tensor_slices(np.arange(20)).shuffle(20, seed=3).cache()
    passes = [[int(v) for v in cached] for _ in range(3)]
    assert passes[0] == passes[1] == passes[2] and sorted(passes[0]) == list(range(20))
    assert passes[0] != list(range(20))
    with pytest.raises(ValueError, match="caches in memory only"):
        Dataset.from_tensor_slices(np.arange(3)).cache("/tmp/file")


def test_batch_repeat_take_match_tf_data():
    # Expected values printed by TensorFlow 2.21 for the same pipelines on tf.data.Dataset.range.
    seven = Dataset.from_tensor_slices(np.arange(7))
    assert values(seven.batch(3).repeat(2)) == [[0, 1, 2], [3, 4, 5], [6]] * 2
    assert values(seven.batch(3, drop_remainder=True)) == [[0, 1, 2], [3, 4, 5]]
    assert values(seven.repeat(-5).take(9)) == [0, 1, 2, 3, 4, 5, 6, 0, 1]
    assert values(seven.take(-5)) == list(range(7))
    assert values(seven.repeat(0)) == []
    ten = Dataset.from_tensor_slices({"a": np.arange(10)})
    cardinalities = [
        ten.batch(3),
        ten.batch(3, drop_remainder=True),
        ten.repeat(),
        ten.repeat().take(7),
        ten.take(-1),
        ten.repeat(0),
    ]
    assert [int(d.cardinality()) for d in cardinalities] == [4, 3, -1, 7, 10, 0]
    with pytest.raises(TypeError, match="infinite"):
        len(ten.repeat())
    assert int(ten.repeat().cardinality()) == INFINITE_CARDINALITY


def test_map_passes_tuple_components_as_arguments_and_runs_on_tensors():
    x = np.arange(6, dtype=np.float32).reshape(3, 2)
    y = np.array([0, 1, 2])
    seen = []

    def scale(features, label):
        seen.append((type(features), type(label)))
        return [features / 2.0, label * 10]  # a list comes back as a tuple, as in tf.data

    ds = Dataset.from_tensor_slices((x, y)).map(scale)
    assert values(ds) == [([0.0, 0.5], 0), ([1.0, 1.5], 10), ([2.0, 2.5], 20)]
    assert seen[0] == (cr.Tensor, cr.Tensor)
    as_dict = Dataset.from_tensor_slices({"x": x}).map(lambda d: d["x"].sum())
    assert values(as_dict) == [1.0, 5.0, 9.0]
    per_batch = Dataset.from_tensor_slices((x, y)).batch(2).map(lambda a, b: a * 3)
    assert values(per_batch) == [[[0.0, 3.0], [6.0, 9.0]], [[12.0, 15.0]]]
    padded = Dataset.from_tensor_slices(np.arange(3)).map(lambda i: np.zeros(int(i) + 1))
    with pytest.raises(ValueError, match=r"different shapes for the array: \[\(1,\), \(2,\)\]"):
        list(padded.batch(2))


def test_shuffle_is_a_fresh_permutation_per_pass_and_seeds_fix_the_sequence():
    ds = Dataset.from_tensor_slices(np.arange(50)).shuffle(50, seed=3)
    first, second = values(ds), values(ds)
    assert sorted(first) == sorted(second) == list(range(50))
    assert first != second  # reshuffled on each pass
    again = Dataset.from_tensor_slices(np.arange(50)).shuffle(50, seed=3)
    assert values(again) == first and values(again) == second
    fixed = Dataset.from_tensor_slices(np.arange(50)).shuffle(50, reshuffle_each_iteration=False)
    assert values(fixed) == values(fixed)
    cr.keras.utils.set_random_seed(7)
    unseeded = values(Dataset.from_tensor_slices(np.arange(50)).shuffle(50))
    cr.keras.utils.set_random_seed(7)
    assert values(Dataset.from_tensor_slices(np.arange(50)).shuffle(50)) == unseeded


def test_a_small_buffer_shuffles_as_tf_data_does():
    ds = Dataset.from_tensor_slices(np.arange(200))
    order = values(ds.shuffle(5, seed=0))
    assert sorted(order) == list(range(200))
    # Output i is drawn from a buffer that has read elements 0 .. i + 4 only.
    assert all(element < i + 5 for i, element in enumerate(order))
    assert order != list(range(200))
    assert values(ds.shuffle(1)) == list(range(200))  # a buffer of one cannot reorder
    endless = values(ds.repeat().shuffle(7, seed=1).take(450))  # streams, never materialised
    assert len(endless) == 450 and set(endless) <= set(range(200))
    mapped = values(ds.take(20).map(lambda i: i * 2).shuffle(4, seed=2))
    assert sorted(mapped) == list(range(0, 40, 2))


def test_prefetch_and_argument_checks():
    ds = Dataset.from_tensor_slices(np.arange(4))
    assert values(ds.prefetch(AUTOTUNE)) == values(ds.prefetch(2)) == [0, 1, 2, 3]
    with pytest.raises(ValueError, match=r"Dataset.batch: batch_size must be at least 1; got 0"):
        ds.batch(0)
    with pytest.raises(ValueError, match="Dataset.shuffle: buffer_size must be at least 1"):
        ds.shuffle(0)
    with pytest.raises(TypeError, match=r"Dataset.take: count must be an integer; got float"):
        ds.take(2.5)
    with pytest.raises(TypeError, match="Dataset.map expects a function"):
        ds.map("double")


def test_a_shuffled_batched_pass_gathers_batches_without_copying_the_data():
    x = np.zeros((20000, 100), dtype=np.float32)  # 8 MB
    y = np.zeros(20000, dtype=np.int64)
    ds = Dataset.from_tensor_slices((x, y)).shuffle(20000).batch(32)
    tracemalloc.start()
    batches = 0
    for xb, yb in ds.as_numpy_iterator():
        batches += 1
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert batches == 625 and xb.shape == (32, 100)
    assert peak < x.nbytes / 10  # row indices (a few 160 kB arrays) and a batch, not a copy


def test_text_line_dataset_reads_lines_lazily_file_after_file(tmp_path):
    import gzip

    (tmp_path / "a.txt").write_text("first line\r\nsecond\n", encoding="utf-8")
    with gzip.open(tmp_path / "b.txt.gz", "wt", encoding="utf-8") as file:
        file.write("caf\u00e9\nlast")
    plain = cr.data.TextLineDataset([str(tmp_path / "a.txt")])
    assert int(plain.cardinality()) == 2
    assert [t.numpy() for t in plain] == [b"first line", b"second"]
    zipped = cr.data.TextLineDataset(str(tmp_path / "b.txt.gz"), compression_type="GZIP")
    assert [t.numpy() for t in zipped.batch(5)][0].tolist() == ["caf\u00e9".encode(), b"last"]
    assert cr.data.experimental.AUTOTUNE == AUTOTUNE
    with pytest.raises(ValueError, match="compression_type must be None, '' or 'GZIP'"):
        cr.data.TextLineDataset(str(tmp_path / "a.txt"), compression_type="ZLIB")
    with pytest.raises(FileNotFoundError, match="missing.txt"):
        cr.data.TextLineDataset(str(tmp_path / "missing.txt"))


def test_slices_of_strided_views_batch_as_their_copies_copying_only_the_rows():
    """from_tensor_slices((pairs[:, 0], pairs[:, 1])): NumPy's take would copy each column whole
    for every shuffled batch."""
    pairs = np.random.default_rng(0).standard_normal((4000, 2, 64)).astype(np.float32)
    views = (pairs[:, 0], pairs[:, 1])
    copies = tuple(np.ascontiguousarray(v) for v in views)
    batches = {}
    for name, leaves in (("views", views), ("copies", copies)):
        dataset = Dataset.from_tensor_slices(leaves).shuffle(4000, seed=3).batch(32)
        batches[name] = [tuple(t.numpy() for t in batch) for batch in dataset]
    for (a1, a2), (b1, b2) in zip(batches["views"], batches["copies"]):
        np.testing.assert_array_equal(a1, b1)
        np.testing.assert_array_equal(a2, b2)
    dataset = Dataset.from_tensor_slices(views).shuffle(4000, seed=3).batch(32)
    batch = iter(dataset)
    tracemalloc.start()
    next(batch)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 512 * 1024  # a column whole is 1 MB
