"""Tests for keras.datasets imdb, reuters and cifar10 (served offline by the local HTTP server
of conftest.py, with small generated files in the real formats), the restricted unpickler, and
keras.utils.timeseries_dataset_from_array / text_dataset_from_directory.
"""

import hashlib
import io
import os
import pickle
import tarfile

import numpy as np
import pytest

import chainrule.keras as keras
from chainrule.keras.datasets import cifar10, imdb, reuters
from chainrule.keras.datasets.download import DownloadError
from chainrule.keras.datasets.safe_pickle import UnsafePickleError, load_npz

# ---------------------------------------------------------------- generated files


def _sequences(rng, n, vocab=12, longest=7):
    return [rng.integers(1, vocab, rng.integers(1, longest)).tolist() for _ in range(n)]


def _imdb_npz():
    rng = np.random.default_rng(7)
    arrays = {}
    for split, n in (("train", 6), ("test", 5)):
        x = np.empty(n, dtype=object)
        x[:] = _sequences(rng, n)
        arrays[f"x_{split}"] = x
        arrays[f"y_{split}"] = rng.integers(0, 2, n)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _reuters_npz():
    rng = np.random.default_rng(8)
    x = np.empty(10, dtype=object)
    x[:] = _sequences(rng, 10)
    buf = io.BytesIO()
    np.savez(buf, x=x, y=rng.integers(0, 46, 10))
    return buf.getvalue()


# Real Keras 3.15.1 on these very files (its get_file replaced by the local path):
#   import keras.src.datasets.imdb as I, keras.src.datasets.reuters as R
#   open("imdb.npz", "wb").write(_imdb_npz()); open("reuters.npz", "wb").write(_reuters_npz())
#   I.get_file = lambda *a, **k: "imdb.npz"; R.get_file = lambda *a, **k: "reuters.npz"
#   I.load_data(**kwargs), R.load_data(**kwargs)
IMDB_EXPECTED = [
    (
        {},
        [[1, 4, 7], [1, 10, 11, 13, 10, 12, 13], [1, 9], [1, 13, 2], [1, 5, 12, 5, 9, 12],
         [1, 7, 7]],
        [0, 1, 0, 1, 0, 1],
        [[1, 10, 5, 4, 8, 4, 5], [1, 10, 9, 2, 12], [1, 11, 10, 7, 2, 9], [1, 2, 9, 12, 2],
         [1, 13, 5]],
        [1, 1, 1, 0, 0],
    ),
    (
        dict(num_words=10, skip_top=4, maxlen=6, seed=3, start_char=None, oov_char=None,
             index_from=0),
        [[6], [4, 4], [9, 6, 9], [4], []],
        [0, 1, 0, 0, 1],
        [[6, 9], [], [8, 7, 4, 6], [7, 6, 9]],
        [0, 0, 1, 1],
    ),
    (
        dict(num_words=9, skip_top=5, seed=1, oov_char=7, index_from=2),
        [[7, 7, 7], [7, 7, 6], [7, 7, 7, 7, 8, 7], [7, 7, 7, 7, 7, 7, 7], [7, 8], [7, 6, 6]],
        [1, 0, 0, 1, 0, 1],
        [[7, 7, 8, 7, 7], [7, 7, 7], [7, 7, 8, 7, 7], [7, 7, 7, 7, 7, 7, 7], [7, 7, 7, 6, 7, 8]],
        [1, 0, 0, 1, 1],
    ),
]  # fmt: skip
REUTERS_EXPECTED = [
    (
        {},
        [[1, 2], [1, 4, 5, 9], [1, 6, 13, 12], [1, 12, 11, 13, 4], [1, 7, 6, 2, 5, 7],
         [1, 8, 4, 6, 8, 10], [1, 2, 6, 13], [1, 10, 8, 11]],
        [8, 17, 41, 6, 24, 0, 40, 19],
        [[1, 10, 8, 8], [1, 5, 6]],
        [37, 13],
    ),
    (
        dict(num_words=8, skip_top=2, maxlen=5, test_split=0.3, seed=5, start_char=9,
             oov_char=3, index_from=1),
        [[3, 3], [3, 3, 4], [3, 3, 6, 6], [3, 3, 4, 3]],
        [8, 13, 37, 40],
        [[3, 3, 6, 3], [3, 4, 3, 3], [3, 2, 3, 7]],
        [19, 41, 17],
    ),
]  # fmt: skip


def _sha256(data):
    return hashlib.sha256(data).hexdigest()


def _md5(data):
    return hashlib.md5(data).hexdigest()


@pytest.fixture
def cache(tmp_path, monkeypatch):
    root = tmp_path / "cache"
    monkeypatch.setenv("CHAINRULE_HOME", str(root))
    return root


def _serve(server, monkeypatch, module, files, digest_name="SHA256"):
    """Serve ``files`` (name -> bytes) and point ``module`` at the server with their digests."""
    for name, body in files.items():
        server.files[f"/data/{name}"] = body
    monkeypatch.setattr(module, "MIRRORS", (server.url + "/data/",))


def _as_lists(split):
    x, y = split
    assert x.dtype == object
    return [list(s) for s in x], np.asarray(y).tolist()


# ---------------------------------------------------------------- IMDB


@pytest.mark.parametrize("kwargs, x_train, y_train, x_test, y_test", IMDB_EXPECTED)
def test_imdb_matches_keras(server, cache, monkeypatch, kwargs, x_train, y_train, x_test, y_test):
    body = _imdb_npz()
    _serve(server, monkeypatch, imdb, {"imdb.npz": body})
    monkeypatch.setattr(imdb, "SHA256", _sha256(body))
    train, test = imdb.load_data(**kwargs)
    assert _as_lists(train) == (x_train, y_train)
    assert _as_lists(test) == (x_test, y_test)


def test_imdb_is_downloaded_once(server, cache, monkeypatch):
    body = _imdb_npz()
    _serve(server, monkeypatch, imdb, {"imdb.npz": body})
    monkeypatch.setattr(imdb, "SHA256", _sha256(body))
    first = imdb.load_data()
    second = imdb.load_data()
    assert _as_lists(first[0]) == _as_lists(second[0])
    assert server.requests == ["/data/imdb.npz"]
    assert (cache / "datasets" / "imdb" / "imdb.npz").read_bytes() == body
    with pytest.raises(ValueError, match="maxlen=1"):
        imdb.load_data(maxlen=1)


def test_imdb_wrong_digest_leaves_no_file(server, cache, monkeypatch):
    _serve(server, monkeypatch, imdb, {"imdb.npz": _imdb_npz()})  # Keras's digest: mismatch
    with pytest.raises(DownloadError, match="ChecksumError"):
        imdb.load_data()
    assert not any(path.is_file() for path in cache.rglob("*"))


def test_imdb_word_index(server, cache, monkeypatch):
    body = b'{"the": 1, "and": 2, "a": 3}'
    _serve(server, monkeypatch, imdb, {"imdb_word_index.json": body})
    monkeypatch.setattr(imdb, "WORD_INDEX_MD5", _md5(body))
    assert imdb.get_word_index() == {"the": 1, "and": 2, "a": 3}
    assert imdb.get_word_index() == {"the": 1, "and": 2, "a": 3}
    assert server.requests == ["/data/imdb_word_index.json"]
    monkeypatch.setattr(imdb, "WORD_INDEX_MD5", _md5(b"other"))
    server.files["/data/imdb_word_index.json"] = b"{}"
    with pytest.raises(DownloadError, match="md5") as info:
        imdb.get_word_index()
    assert str(cache / "datasets" / "imdb" / "imdb_word_index.json") in str(info.value)


def test_imdb_defaults_are_keras():
    assert imdb.MIRRORS == ("https://storage.googleapis.com/tensorflow/tf-keras-datasets/",)
    assert imdb.SHA256 == "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f"
    assert keras.datasets.imdb is imdb and keras.datasets.reuters is reuters


# ---------------------------------------------------------------- Reuters


@pytest.mark.parametrize("kwargs, x_train, y_train, x_test, y_test", REUTERS_EXPECTED)
def test_reuters_matches_keras(
    server, cache, monkeypatch, kwargs, x_train, y_train, x_test, y_test
):
    body = _reuters_npz()
    _serve(server, monkeypatch, reuters, {"reuters.npz": body})
    monkeypatch.setattr(reuters, "SHA256", _sha256(body))
    train, test = reuters.load_data(**kwargs)
    assert _as_lists(train) == (x_train, y_train)
    assert _as_lists(test) == (x_test, y_test)


def test_reuters_word_index_and_labels(server, cache, monkeypatch):
    body = b'{"said": 1}'
    _serve(server, monkeypatch, reuters, {"reuters_word_index.json": body})
    monkeypatch.setattr(reuters, "WORD_INDEX_MD5", _md5(body))
    assert reuters.get_word_index() == {"said": 1}
    names = reuters.get_label_names()
    assert len(names) == 46 and names[:3] == ("cocoa", "grain", "veg-oil") and names[-1] == "lead"


# ---------------------------------------------------------------- safe unpickling


class _Exploit:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_npz_with_a_code_gadget_is_refused(tmp_path):
    x = np.empty(2, dtype=object)
    x[:] = [[1, 2], _Exploit()]
    path = tmp_path / "evil.npz"
    np.savez(path, x=x, y=np.arange(2))
    with pytest.raises(UnsafePickleError, match="refusing to load .*system"):
        load_npz(path)


def test_npz_numeric_and_object_members(tmp_path):
    path = tmp_path / "ok.npz"
    x = np.empty(2, dtype=object)
    x[:] = [[1], [2, 3]]
    np.savez(path, x=x, f=np.arange(6.0).reshape(2, 3).T)
    arrays = load_npz(path)
    assert [list(s) for s in arrays["x"]] == [[1], [2, 3]]
    np.testing.assert_array_equal(arrays["f"], np.arange(6.0).reshape(2, 3).T)


# ---------------------------------------------------------------- CIFAR-10


def _cifar_archive(batches, protocol=4, extra=None):
    """A cifar-10-python.tar.gz: each batch a pickled dict with b"data" and b"labels" (the
    real batches are Python 2 pickles, whose byte strings need no constructor either)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, content in {**batches, **(extra or {})}.items():
            data = content if isinstance(content, bytes) else pickle.dumps(content, protocol)
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _cifar_batches():
    rng = np.random.default_rng(3)
    names = [*cifar10.TRAIN_BATCHES, cifar10.TEST_BATCH]
    return {
        name: {
            b"batch_label": name.encode(),
            b"data": rng.integers(0, 256, (2 + i, 3072), dtype=np.uint8),
            b"labels": rng.integers(0, 10, 2 + i).tolist(),
        }
        for i, name in enumerate(names)
    }


def test_cifar10_from_local_mirror(server, cache, monkeypatch):
    batches = _cifar_batches()
    body = _cifar_archive(batches, extra={"batches.meta": {b"label_names": [b"airplane"]}})
    _serve(server, monkeypatch, cifar10, {cifar10.FILE_NAME: body})
    monkeypatch.setattr(cifar10, "SHA256", _sha256(body))
    for _ in range(2):
        (x_train, y_train), (x_test, y_test) = cifar10.load_data()
    assert server.requests == [f"/data/{cifar10.FILE_NAME}"]
    assert x_train.shape == (2 + 3 + 4 + 5 + 6, 32, 32, 3) and x_train.dtype == np.uint8
    assert y_train.shape == (20, 1) and y_train.dtype == np.uint8
    assert x_test.shape == (7, 32, 32, 3) and y_test.shape == (7, 1)
    data = np.concatenate([batches[name][b"data"] for name in cifar10.TRAIN_BATCHES])
    # pixel (i, j) of channel c is byte c * 1024 + i * 32 + j of a row
    for n, i, j, c in [(0, 0, 0, 0), (3, 5, 7, 1), (19, 31, 30, 2)]:
        assert x_train[n, i, j, c] == data[n, c * 1024 + i * 32 + j]
    labels = sum((batches[name][b"labels"] for name in cifar10.TRAIN_BATCHES), [])
    assert y_train.ravel().tolist() == labels
    assert y_test.ravel().tolist() == batches[cifar10.TEST_BATCH][b"labels"]


def test_cifar10_refuses_code_and_bad_batches(server, cache, monkeypatch):
    batches = _cifar_batches()
    evil = dict(batches)
    evil["data_batch_3"] = pickle.dumps({b"data": _Exploit(), b"labels": []}, 4)
    body = _cifar_archive(evil)
    _serve(server, monkeypatch, cifar10, {cifar10.FILE_NAME: body})
    monkeypatch.setattr(cifar10, "SHA256", _sha256(body))
    with pytest.raises(UnsafePickleError, match="posix.system|os.system|nt.system"):
        cifar10.load_data()
    missing = {k: v for k, v in batches.items() if k != "test_batch"}
    for archive, message in [
        (_cifar_archive(missing), "test_batch is missing"),
        (_cifar_archive({**batches, "data_batch_1": {b"data": np.zeros((2, 5))}}), "(n, 3072)"),
    ]:
        server.files[f"/data/{cifar10.FILE_NAME}"] = archive
        monkeypatch.setattr(cifar10, "SHA256", _sha256(archive))
        with pytest.raises(ValueError, match=message):
            cifar10.load_data()


def test_cifar10_defaults_are_keras():
    assert cifar10.MIRRORS == ("https://www.cs.toronto.edu/~kriz/",)
    assert cifar10.SHA256 == "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"


# ---------------------------------------------------------------- timeseries


def test_timeseries_keras_docstring_example_1():
    # Keras docstring: indices 0..98, sequence_length=10, sampling_rate=2, sequence_stride=3:
    # first [0 2 ... 18], second [3 5 ... 21], third [6 8 ... 24], last [78 80 ... 96].
    ds = keras.utils.timeseries_dataset_from_array(
        np.arange(99), None, sequence_length=10, sampling_rate=2, sequence_stride=3
    )
    windows = np.concatenate(list(ds.as_numpy_iterator()))
    assert windows[0].tolist() == list(range(0, 20, 2))
    assert windows[1].tolist() == list(range(3, 23, 2))
    assert windows[2].tolist() == list(range(6, 26, 2))
    assert windows[-1].tolist() == list(range(78, 98, 2))


def test_timeseries_keras_docstring_example_2():
    # Keras docstring: inputs data[:-10], targets data[10:], sequence_length=10:
    # the first window is data[:10] and its target data[10].
    data = np.arange(50) * 1.5
    ds = keras.utils.timeseries_dataset_from_array(
        data[:-10], data[10:], sequence_length=10, batch_size=8
    )
    inputs, targets = next(ds.as_numpy_iterator())
    assert inputs.shape == (8, 10)
    np.testing.assert_array_equal(inputs[0], data[:10])
    assert targets[0] == data[10]
    assert sum(len(x) for x, _ in ds.as_numpy_iterator()) == 31  # 40 - 9 windows


def test_timeseries_indices_shuffle_and_fit():
    data = np.arange(40, dtype="float32").reshape(20, 2)
    targets = np.arange(20)
    ds = keras.utils.timeseries_dataset_from_array(
        data, targets, 3, start_index=2, end_index=15, batch_size=None
    )
    elements = list(ds.as_numpy_iterator())
    assert len(elements) == 11  # 15 - 2 - 2
    window, target = elements[0]
    np.testing.assert_array_equal(window, data[2:5])
    assert target == 2
    shuffled = keras.utils.timeseries_dataset_from_array(
        data, targets, 3, shuffle=True, seed=4, batch_size=4
    )
    pairs = [(x[:, 0, 0] / 2, y) for x, y in shuffled.as_numpy_iterator()]
    seen = np.concatenate([y for _, y in pairs])
    assert sorted(seen.tolist()) == list(range(18))
    assert all(np.array_equal(start, y) for start, y in pairs)  # each window starts at its target
    model = keras.Sequential([keras.layers.Flatten(), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    history = model.fit(shuffled, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    with pytest.raises(ValueError, match="end_index"):
        keras.utils.timeseries_dataset_from_array(data, None, 3, end_index=20)
    with pytest.raises(ValueError, match="sampling_rate"):
        keras.utils.timeseries_dataset_from_array(data, None, 3, sampling_rate=0)


# ---------------------------------------------------------------- text_dataset_from_directory


@pytest.fixture
def text_dir(tmp_path):
    texts = {"neg": ["bad film", "awful", "boring plot"], "pos": ["great", "loved it"]}
    for label, items in texts.items():
        (tmp_path / label).mkdir()
        for i, text in enumerate(items):
            (tmp_path / label / f"{i}.txt").write_text(text)
    (tmp_path / "pos" / "notes.md").write_text("not a text file")
    return tmp_path


def test_text_dataset_from_directory(text_dir, capsys):
    ds = keras.utils.text_dataset_from_directory(text_dir, batch_size=2, shuffle=False)
    assert "Found 5 files belonging to 2 classes." in capsys.readouterr().out
    assert ds.class_names == ["neg", "pos"]
    batches = list(ds)
    assert [b[0].tolist() for b in batches] == [
        ["bad film", "awful"],
        ["boring plot", "great"],
        ["loved it"],
    ]
    labels = np.concatenate([b[1].numpy() for b in batches])
    assert labels.tolist() == [0, 0, 0, 1, 1] and labels.dtype == np.int32


def test_text_dataset_modes_split_and_map(text_dir):
    kwargs = dict(batch_size=None, seed=1, validation_split=0.4, verbose=False)
    train, val = keras.utils.text_dataset_from_directory(
        text_dir, label_mode="categorical", subset="both", max_length=4, **kwargs
    )
    texts = [t for t, _ in train.as_numpy_iterator()] + [t for t, _ in val.as_numpy_iterator()]
    assert len(train) == 3 and len(val) == 2
    assert sorted(texts) == sorted(["bad ", "awfu", "bori", "grea", "love"])
    for text, label in train.as_numpy_iterator():
        assert label.dtype == np.float32 and label.tolist() in ([1, 0], [0, 1])
    binary = keras.utils.text_dataset_from_directory(
        text_dir, label_mode="binary", shuffle=False, verbose=False
    )
    assert next(iter(binary))[1].numpy().tolist() == [[0.0], [0.0], [0.0], [1.0], [1.0]]
    vectorize = keras.layers.TextVectorization(output_mode="multi_hot", max_tokens=12)
    unlabeled = keras.utils.text_dataset_from_directory(
        text_dir, labels=None, shuffle=False, verbose=False
    )
    vectorize.adapt(unlabeled)
    assert "loved" in vectorize.get_vocabulary()
    ready = binary.map(lambda x, y: (vectorize(x), y))
    model = keras.Sequential([keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    assert np.isfinite(model.fit(ready, epochs=2, verbose=0).history["loss"]).all()


def test_text_dataset_errors(text_dir):
    with pytest.raises(ValueError, match="label_mode"):
        keras.utils.text_dataset_from_directory(text_dir, label_mode="sparse")
    with pytest.raises(ValueError, match="go together"):
        keras.utils.text_dataset_from_directory(text_dir, validation_split=0.2)
    with pytest.raises(ValueError, match=r"class_names \['cat'\]"):
        keras.utils.text_dataset_from_directory(text_dir, class_names=["cat"])
    with pytest.raises(ValueError, match="3 labels for 5 files"):
        keras.utils.text_dataset_from_directory(text_dir, labels=[0, 1, 0], verbose=False)
    (text_dir / "empty").mkdir()
    with pytest.raises(ValueError, match="no files ending in .txt"):
        keras.utils.text_dataset_from_directory(text_dir / "empty")


def test_text_dataset_split_while_shuffling_needs_a_seed(text_dir):
    with pytest.raises(ValueError, match="give a `seed`"):
        keras.utils.text_dataset_from_directory(text_dir, validation_split=0.2, subset="training")


def test_binary_labels_need_exactly_two_classes(tmp_path):
    for name in ("a", "b", "c"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "1.txt").write_text(name)
    with pytest.raises(ValueError, match=r"exactly 2 class names.*\['a', 'b', 'c'\]"):
        keras.utils.text_dataset_from_directory(tmp_path, label_mode="binary", verbose=False)
