"""Tests for chainrule.keras.datasets: the IDX reader, the cached download, MNIST, Fashion-MNIST.

Downloads are served by a local http.server on 127.0.0.1; nothing here reaches other hosts.
"""

import gzip
import hashlib
import io
import shutil
import socket
import struct
import time
import tracemalloc

import numpy as np
import pytest

from chainrule.keras.datasets import fashion_mnist, mnist
from chainrule.keras.datasets.download import (
    ChecksumError,
    DownloadError,
    cache_dir,
    get_file,
)
from chainrule.keras.datasets.idx import IDXFormatError, read_idx, to_idx_bytes

MNIST_SOURCE = mnist.BUNDLED_DIR


def _sha256(data):
    return hashlib.sha256(data).hexdigest()


def _cache_files(root):
    return sorted(path for path in root.rglob("*") if path.is_file())


# ---------------------------------------------------------------- IDX reader


@pytest.mark.parametrize("dtype", ["u1", "i1", "i2", "i4", "f4", "f8"])
@pytest.mark.parametrize("compress", [False, True])
def test_idx_round_trip_each_dtype(tmp_path, dtype, compress):
    rng = np.random.default_rng(0)
    array = (rng.standard_normal((3, 4, 5)) * 100).astype(dtype)
    data = to_idx_bytes(array)
    file = tmp_path / "array.idx"  # no .gz suffix: compression is detected by magic bytes
    file.write_bytes(gzip.compress(data) if compress else data)
    for loaded in (read_idx(file), read_idx(str(file)), read_idx(io.BytesIO(file.read_bytes()))):
        assert loaded.dtype == np.dtype(dtype)
        assert loaded.dtype.isnative
        assert loaded.shape == (3, 4, 5)
        np.testing.assert_array_equal(loaded, array)
        assert loaded.flags.writeable


def test_idx_header_is_big_endian():
    data = to_idx_bytes(np.array([1, 2], dtype=np.int32))
    assert data == b"\0\0\x0c\x01" + struct.pack(">I", 2) + struct.pack(">2i", 1, 2)
    assert to_idx_bytes(np.array([1, 2], dtype=">i4")) == data


def test_idx_empty_dimension():
    loaded = read_idx(io.BytesIO(to_idx_bytes(np.zeros((0, 28, 28), np.uint8))))
    assert loaded.shape == (0, 28, 28)


def _expect_error(data, match, name="fixture.idx"):
    with pytest.raises(IDXFormatError, match=match) as info:
        read_idx(io.BytesIO(data), name=name)
    assert name in str(info.value)
    return info.value


GOOD = to_idx_bytes(np.arange(6, dtype=np.uint8).reshape(2, 3))


def test_idx_bad_magic():
    _expect_error(b"\x01\x00" + GOOD[2:], "not an IDX file.*01 00")


def test_idx_unknown_dtype_code():
    _expect_error(b"\0\0\x07" + GOOD[3:], "unknown IDX dtype code 0x07")


@pytest.mark.parametrize("ndim", [0, 200])
def test_idx_bad_number_of_dims(ndim):
    _expect_error(b"\0\0\x08" + bytes([ndim]) + GOOD[4:], f"declares {ndim} dimensions")


def test_idx_too_short_for_header():
    _expect_error(b"\0\0", "too short")
    _expect_error(GOOD[:9], "truncated header")


def test_idx_truncated_data():
    _expect_error(GOOD[:-1], r"truncated.*\(6 data bytes\) but only 5")


def test_idx_trailing_bytes():
    _expect_error(GOOD + b"\0\0", "2 unexpected bytes after the 6 data bytes")


def test_idx_gzip_truncated_and_trailing():
    _expect_error(gzip.compress(GOOD[:-1]), "truncated")
    _expect_error(gzip.compress(GOOD + b"x"), "unexpected bytes after")
    _expect_error(gzip.compress(GOOD)[:-6], "damaged gzip stream")


def test_idx_error_names_the_path(tmp_path):
    file = tmp_path / "broken-images-idx3-ubyte"
    file.write_bytes(GOOD[:-1])
    with pytest.raises(IDXFormatError, match=str(file)):
        read_idx(file)


@pytest.mark.parametrize("compress", [False, True])
def test_idx_huge_header_on_tiny_file_fails_fast(tmp_path, compress):
    # Claims 4 * 2**32 - 1 ... items: terabytes of int32 from a file of a few bytes.
    header = b"\0\0\x0c\x03" + struct.pack(">3I", 0xFFFFFFFF, 0xFFFFFFFF, 4)
    file = tmp_path / "huge.idx"
    file.write_bytes(gzip.compress(header + b"\0" * 16) if compress else header + b"\0" * 16)
    tracemalloc.start()
    start = time.perf_counter()
    with pytest.raises(IDXFormatError, match="promises shape"):
        read_idx(file)
    elapsed = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert elapsed < 0.5
    assert peak < 1 << 20


def test_idx_gzip_small_promise_reads_only_what_is_there(tmp_path):
    # Within the stream cap, a tiny gzip body claiming 100 MB must not cost 100 MB.
    header = b"\0\0\x08\x01" + struct.pack(">I", 100_000_000)
    file = tmp_path / "short.gz"
    file.write_bytes(gzip.compress(header + b"\0" * 10))
    tracemalloc.start()
    with pytest.raises(IDXFormatError, match="but only 10 follow"):
        read_idx(file)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 4 << 20  # one read chunk, not the 100 MB promised


def test_to_idx_bytes_rejects_unsupported_dtype():
    with pytest.raises(ValueError, match="dtype bool has no IDX code"):
        to_idx_bytes(np.zeros(3, dtype=bool))


# ---------------------------------------------------------------- cached download


@pytest.fixture
def cache(tmp_path, monkeypatch):
    root = tmp_path / "cache"
    monkeypatch.setenv("CHAINRULE_HOME", str(root))
    return root


@pytest.fixture
def closed_port_url():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


PAYLOAD = gzip.compress(GOOD)


def test_cache_dir_precedence(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("CHAINRULE_HOME", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert cache_dir() == tmp_path / "home" / ".cache" / "chainrule"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "chainrule"
    monkeypatch.setenv("CHAINRULE_HOME", str(tmp_path / "own"))
    assert cache_dir() == tmp_path / "own"


def test_download_is_cached_and_reused(server, cache):
    server.files["/data/a.gz"] = PAYLOAD
    path = get_file("a.gz", [server.url + "/data/"], _sha256(PAYLOAD), cache_subdir="sets")
    assert path == cache / "sets" / "a.gz"
    assert path.read_bytes() == PAYLOAD
    assert server.requests == ["/data/a.gz"]
    again = get_file("a.gz", [server.url + "/data"], _sha256(PAYLOAD), cache_subdir="sets")
    assert again == path
    assert server.requests == ["/data/a.gz"]  # no second request
    assert _cache_files(cache) == [path]
    np.testing.assert_array_equal(read_idx(path), np.arange(6).reshape(2, 3))


def test_corrupted_download_leaves_nothing(server, cache):
    server.files["/a.gz"] = PAYLOAD[:-1] + bytes([PAYLOAD[-1] ^ 1])
    with pytest.raises(DownloadError, match="sha256") as info:
        get_file("a.gz", [server.url], _sha256(PAYLOAD))
    assert f"{server.url}/a.gz: ChecksumError: received {len(PAYLOAD)} bytes" in str(info.value)
    assert _cache_files(cache) == []


def test_corrupted_cached_copy_is_fetched_again(server, cache):
    target = cache / "datasets" / "a.gz"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"stale")
    server.files["/a.gz"] = PAYLOAD
    assert get_file("a.gz", [server.url], _sha256(PAYLOAD)).read_bytes() == PAYLOAD
    assert _cache_files(cache) == [target]


def test_unreachable_mirrors_fall_through(server, cache, closed_port_url):
    server.files["/good/a.gz"] = PAYLOAD
    mirrors = [closed_port_url, server.url + "/missing/", server.url + "/good/"]
    path = get_file("a.gz", mirrors, _sha256(PAYLOAD))
    assert path.read_bytes() == PAYLOAD
    assert server.requests == ["/missing/a.gz", "/good/a.gz"]


def test_timeout_falls_through(server, cache):
    server.files["/a.gz"] = PAYLOAD
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        slow = f"http://127.0.0.1:{silent.getsockname()[1]}/"
        start = time.perf_counter()
        path = get_file("a.gz", [slow, server.url], _sha256(PAYLOAD), timeout=0.3)
    assert time.perf_counter() - start < 5
    assert path.read_bytes() == PAYLOAD


def test_all_mirrors_failing_says_where_to_put_the_file(server, cache, closed_port_url):
    server.files["/bad/a.gz"] = b"not it"
    mirrors = [closed_port_url, server.url + "/missing/", server.url + "/bad/"]
    with pytest.raises(DownloadError) as info:
        get_file("a.gz", mirrors, _sha256(PAYLOAD), cache_subdir="sets")
    message = str(info.value)
    assert f"{closed_port_url}a.gz: ConnectionRefusedError" in message
    assert f"{server.url}/missing/a.gz: HTTP error 404" in message
    assert f"{server.url}/bad/a.gz: ChecksumError" in message
    assert str(cache / "sets" / "a.gz") in message
    assert _sha256(PAYLOAD) in message
    assert _cache_files(cache) == []


def test_get_file_checks_its_arguments(cache):
    with pytest.raises(ValueError, match="no mirrors"):
        get_file("a.gz", [], _sha256(PAYLOAD))
    with pytest.raises(ValueError, match=r"64 hex digits \(sha256\) or 32 \(md5\)"):
        get_file("a.gz", ["http://127.0.0.1:9/"], "abc")


def test_fashion_mnist_from_local_mirror(server, cache, monkeypatch, closed_port_url):
    rng = np.random.default_rng(1)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (5, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": rng.integers(0, 10, 5, dtype=np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (3, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, 3, dtype=np.uint8),
    }
    digests = {}
    for base, array in arrays.items():
        body = gzip.compress(to_idx_bytes(array))
        server.files[f"/fm/{base}.gz"] = body
        digests[base] = _sha256(body)
    monkeypatch.setattr(fashion_mnist, "SHA256", digests)
    monkeypatch.setattr(fashion_mnist, "MIRRORS", (closed_port_url, server.url + "/fm/"))

    for _ in range(2):
        (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
        np.testing.assert_array_equal(x_train, arrays["train-images-idx3-ubyte"])
        np.testing.assert_array_equal(y_train, arrays["train-labels-idx1-ubyte"])
        np.testing.assert_array_equal(x_test, arrays["t10k-images-idx3-ubyte"])
        np.testing.assert_array_equal(y_test, arrays["t10k-labels-idx1-ubyte"])
    assert len(server.requests) == 4  # the second load came from the cache
    assert len(_cache_files(cache / "datasets" / "fashion-mnist")) == 4


def test_fashion_mnist_mirrors_argument(server, cache, closed_port_url):
    with pytest.raises(DownloadError, match="train-images-idx3-ubyte.gz") as info:
        fashion_mnist.load_data(mirrors=[closed_port_url, server.url + "/nothing/"])
    assert str(cache / "datasets" / "fashion-mnist" / "train-images-idx3-ubyte.gz") in str(
        info.value
    )


def test_fashion_mnist_defaults():
    keras_mirror = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
    assert fashion_mnist.MIRRORS[0] == keras_mirror
    assert set(fashion_mnist.SHA256) == set(mnist.FILE_NAMES)


# ---------------------------------------------------------------- MNIST


@pytest.fixture(scope="module")
def mnist_data():
    return mnist.load_data()


def test_mnist_shapes_and_dtypes(mnist_data):
    (x_train, y_train), (x_test, y_test) = mnist_data
    assert x_train.shape == (60000, 28, 28)
    assert y_train.shape == (60000,)
    assert x_test.shape == (10000, 28, 28)
    assert y_test.shape == (10000,)
    for array in (x_train, y_train, x_test, y_test):
        assert array.dtype == np.uint8


def test_mnist_sanity_figures(mnist_data):
    (x_train, y_train), (x_test, y_test) = mnist_data
    train_counts = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    test_counts = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert np.bincount(y_train).tolist() == train_counts
    assert np.bincount(y_test).tolist() == test_counts
    mean = x_train.mean(dtype=np.float64) / 255.0  # the mean of x_train / 255
    assert round(mean, 4) == 0.1307
    assert abs(mean - 0.13066) < 5e-6
    assert y_train[:5].tolist() == [5, 0, 4, 1, 9]


def test_mnist_loads_fast():
    start = time.perf_counter()
    mnist.load_data()
    assert time.perf_counter() - start < 2.0  # about 0.2 s on a laptop core


def test_mnist_bundled_files_match_constants():
    for base, digest in mnist.BUNDLED_SHA256.items():
        assert _sha256((MNIST_SOURCE / f"{base}.gz").read_bytes()) == digest


def test_mnist_damaged_bundled_copy(tmp_path, monkeypatch):
    shutil.copytree(MNIST_SOURCE, tmp_path, dirs_exist_ok=True)
    labels = tmp_path / "t10k-labels-idx1-ubyte.gz"
    data = bytearray(labels.read_bytes())
    data[100] ^= 0xFF
    labels.write_bytes(bytes(data))
    monkeypatch.setattr(mnist, "BUNDLED_DIR", tmp_path)
    with pytest.raises(ChecksumError, match="t10k-labels-idx1-ubyte.gz.*reinstall"):
        mnist.load_data()


@pytest.fixture
def mnist_copy(tmp_path):
    """A user's own copy: two files plain, two recompressed at another level."""
    for base in mnist.FILE_NAMES:
        content = gzip.decompress((MNIST_SOURCE / f"{base}.gz").read_bytes())
        if base.startswith("train"):
            (tmp_path / base).write_bytes(content)
        else:
            (tmp_path / f"{base}.gz").write_bytes(gzip.compress(content, compresslevel=1))
    return tmp_path


def test_mnist_from_path(mnist_copy, mnist_data):
    loaded = mnist.load_data(path=mnist_copy)
    for got, want in zip(loaded[0] + loaded[1], mnist_data[0] + mnist_data[1]):
        np.testing.assert_array_equal(got, want)


def test_mnist_tampered_path_copy(mnist_copy):
    images = mnist_copy / "train-images-idx3-ubyte"
    data = bytearray(images.read_bytes())
    data[16 + 28 * 14 + 14] ^= 0x01  # one pixel of the first image
    images.write_bytes(bytes(data))
    with pytest.raises(ChecksumError, match="train-images-idx3-ubyte: sha256 is"):
        mnist.load_data(path=str(mnist_copy))


def test_mnist_path_errors(tmp_path, mnist_copy):
    missing = tmp_path / "mnist.npz"
    with pytest.raises(FileNotFoundError, match=f"{missing} does not exist"):
        mnist.load_data(path=missing)
    missing.write_bytes(b"")
    with pytest.raises(ValueError, match="is a file; path must be a directory"):
        mnist.load_data(path=missing)
    with pytest.raises(TypeError, match="got int"):
        mnist.load_data(path=3)
    (mnist_copy / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError, match="neither t10k-labels-idx1-ubyte nor"):
        mnist.load_data(path=mnist_copy)


def test_read_splits_checks_layout(tmp_path):
    files = []
    for base, array in zip(
        mnist.FILE_NAMES,
        [np.zeros((3, 2, 2), np.uint8), np.zeros(2, np.uint8)] * 2,
    ):
        files.append(tmp_path / base)
        files[-1].write_bytes(to_idx_bytes(array))
    with pytest.raises(ValueError, match="holds 3 images but .* holds 2 labels"):
        mnist.read_splits(files)
    files[1].write_bytes(to_idx_bytes(np.zeros(3, np.int32)))
    with pytest.raises(ValueError, match="expected uint8 images"):
        mnist.read_splits(files)


def test_mnist_test_data_reads_only_the_test_files(tmp_path, monkeypatch):
    """`load_test_data()` is `load_data()[1]` without reading the 60,000 training images."""
    expected = mnist.load_data()[1]
    for name in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        shutil.copy(mnist.BUNDLED_DIR / f"{name}.gz", tmp_path)
    monkeypatch.setattr(mnist, "BUNDLED_DIR", tmp_path)  # no training files there
    x_test, y_test = mnist.load_test_data()
    assert np.array_equal(x_test, expected[0]) and np.array_equal(y_test, expected[1])
    with pytest.raises(FileNotFoundError):
        mnist.load_data()
