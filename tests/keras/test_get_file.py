"""keras.utils.get_file: Keras 3's cache layout and hashes, offline against a local HTTP server
(the ``server`` fixture of conftest.py), and archives unpacked only when every member is safe."""

import hashlib
import io
import os
import tarfile
import zipfile

import pytest

from chainrule.keras import utils
from chainrule.keras.datasets.download import DownloadError
from chainrule.keras.utils import files

PAYLOAD = b"some bytes worth caching\n" * 10


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    return tmp_path / "keras_home"


def tar_bytes(members):
    """A .tar.gz archive from (TarInfo, bytes or None) pairs."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            archive.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


def zip_bytes(members):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()


def regular(name):
    return tarfile.TarInfo(name)


def test_downloads_into_keras_home_and_reuses_the_cache(server, home, capsys):
    server.files["/data/file.txt"] = PAYLOAD
    path = utils.get_file(origin=server.url + "/data/file.txt")
    said = capsys.readouterr().out.splitlines()
    assert said[0] == f"Downloading data from {server.url}/data/file.txt"
    assert said[1].startswith(f"{len(PAYLOAD)}/{len(PAYLOAD)} ") and "/B" in said[1]
    assert path == os.path.join(str(home), "datasets", "file.txt")
    assert open(path, "rb").read() == PAYLOAD
    again = utils.get_file("file.txt", server.url + "/data/file.txt")
    assert again == path and len(server.requests) == 1
    utils.get_file("file.txt", server.url + "/data/file.txt", force_download=True)
    assert len(server.requests) == 2
    assert not [n for n in os.listdir(os.path.dirname(path)) if n.endswith(".part")]


def test_cache_dir_and_subdir(server, tmp_path):
    server.files["/a.bin"] = PAYLOAD
    path = utils.get_file("b.bin", server.url + "/a.bin", cache_dir=tmp_path, cache_subdir="x")
    assert path == os.path.join(str(tmp_path), "x", "b.bin")


@pytest.mark.parametrize("algorithm", ["sha256", "md5"])
def test_hash_is_checked_and_a_stale_copy_is_fetched_again(server, home, algorithm, capsys):
    server.files["/f.txt"] = PAYLOAD
    digest = hashlib.new(algorithm, PAYLOAD).hexdigest()
    path = utils.get_file("f.txt", server.url + "/f.txt", file_hash=digest)
    with open(path, "wb") as stale:
        stale.write(b"old")
    utils.get_file("f.txt", server.url + "/f.txt", file_hash=digest, hash_algorithm=algorithm)
    assert open(path, "rb").read() == PAYLOAD and len(server.requests) == 2
    assert "re-download" in capsys.readouterr().out


def test_md5_hash_argument_and_a_mismatch_keeps_nothing(server, home):
    server.files["/f.txt"] = PAYLOAD
    utils.get_file("f.txt", server.url + "/f.txt", md5_hash=hashlib.md5(PAYLOAD).hexdigest())
    with pytest.raises(ValueError, match="corrupted"):
        utils.get_file("g.txt", server.url + "/f.txt", file_hash="0" * 64)
    assert os.listdir(home / "datasets") == ["f.txt"]


def test_bad_arguments_and_a_failed_download(server, home):
    with pytest.raises(ValueError, match="origin"):
        utils.get_file("x")
    with pytest.raises(ValueError, match="not a path"):
        utils.get_file("sub/x", server.url + "/x")
    with pytest.raises(ValueError, match="file name"):
        utils.get_file(origin=server.url + "/")
    with pytest.raises(ValueError, match="not a file name"):
        utils.get_file(origin=server.url + "/a/..")
    with pytest.raises(DownloadError, match="404"):
        utils.get_file("missing", server.url + "/missing")
    assert os.listdir(home / "datasets") == []


def test_extract_tar_returns_the_extracted_folder(server, home):
    folder = tarfile.TarInfo("flowers")
    folder.type = tarfile.DIRTYPE
    link = tarfile.TarInfo("flowers/alias.txt")
    link.type, link.linkname = tarfile.SYMTYPE, "rose.txt"
    server.files["/flowers.tgz"] = tar_bytes(
        [(folder, None), (regular("flowers/rose.txt"), b"rose"), (link, None)]
    )
    path = utils.get_file("flowers.tgz", server.url + "/flowers.tgz", extract=True)
    assert path == os.path.join(str(home), "datasets", "flowers_extracted")
    assert open(os.path.join(path, "flowers", "alias.txt")).read() == "rose"
    assert os.path.exists(os.path.join(str(home), "datasets", "flowers.tgz"))
    # without a file name, the archive is kept as <name>_archive beside the folder
    path = utils.get_file(origin=server.url + "/flowers.tgz", untar=True)
    assert path == os.path.join(str(home), "datasets", "flowers.tgz")
    assert os.path.isdir(path) and os.path.isfile(path + "_archive")


def test_extract_zip(server, home):
    server.files["/words.zip"] = zip_bytes([("words/a.txt", "alpha"), ("words/b.txt", "beta")])
    path = utils.get_file("words.zip", server.url + "/words.zip", extract=True)
    assert sorted(os.listdir(os.path.join(path, "words"))) == ["a.txt", "b.txt"]
    with pytest.warns(UserWarning, match="could not extract"):
        utils.get_file("w.zip", server.url + "/words.zip", extract=True, archive_format="tar")


def _link(name, target, kind=tarfile.SYMTYPE):
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info, None


def _device(name):
    info = tarfile.TarInfo(name)
    info.type = tarfile.CHRTYPE
    return info, None


@pytest.mark.parametrize(
    "members, message",
    [
        ([(regular("/etc/evil"), b"x")], "outside"),
        ([(regular("ok/../../evil"), b"x")], "outside"),
        ([_link("up", "../../etc/passwd")], "outside"),
        ([_link("abs", "/etc/passwd")], "outside"),
        ([_link("hard", "../x", tarfile.LNKTYPE)], "outside"),
        ([_device("dev")], "device"),
        # each link reads as inside, but "b/a" is the root, so "b/a/.." is its parent
        ([_link("b/a", ".."), _link("e", "b/a/.."), (regular("e/evil"), b"x")], "through links"),
        ([_link("e", "x/.."), _link("x", "b/a"), _link("b/a", "..")], "through links"),
    ],
)
def test_unsafe_tar_members_refuse_the_archive(tmp_path, members, message):
    archive = tmp_path / "bad.tgz"
    archive.write_bytes(tar_bytes(members))
    with pytest.raises(ValueError, match=message):
        files.extract_archive(archive, tmp_path / "out")
    assert sorted(os.listdir(tmp_path)) == ["bad.tgz"]


@pytest.mark.parametrize("name", ["/abs.txt", "a/../../up.txt", "..\\up.txt"])
def test_unsafe_zip_members_refuse_the_archive(tmp_path, name):
    archive = tmp_path / "bad.zip"
    archive.write_bytes(zip_bytes([(name, "x")]))
    with pytest.raises(ValueError, match="outside"):
        files.extract_archive(archive, tmp_path / "out")
    assert sorted(os.listdir(tmp_path)) == ["bad.zip"]


def test_the_unpacked_size_is_bounded(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "MAX_EXTRACTED_BYTES", 100)
    tar_path, zip_path = tmp_path / "big.tgz", tmp_path / "big.zip"
    tar_path.write_bytes(tar_bytes([(regular("a"), b"0" * 60), (regular("b"), b"0" * 60)]))
    zip_path.write_bytes(zip_bytes([("a", "0" * 101)]))
    # hard links are written as copies: five of a 30-byte file make 180 bytes
    links = [_link(f"copy{i}", "a", tarfile.LNKTYPE) for i in range(5)]
    linked_path = tmp_path / "linked.tgz"
    linked_path.write_bytes(tar_bytes([(regular("a"), b"0" * 30), *links]))
    for archive in (tar_path, zip_path, linked_path):
        with pytest.raises(ValueError, match="MAX_EXTRACTED_BYTES"):
            files.extract_archive(archive, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    unknown = tmp_path / "unknown.tgz"
    unknown.write_bytes(tar_bytes([_link("copy", "missing", tarfile.LNKTYPE)]))
    with pytest.raises(ValueError, match="not a file listed before it"):
        files.extract_archive(unknown, tmp_path / "out")
