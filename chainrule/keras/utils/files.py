"""Files from the web, cached and checked: Keras's ``get_file``, and archives unpacked safely.

A download goes to a temporary file beside its target and is renamed into place only once it is
complete (and, with ``file_hash``, once its digest matches), so the cache never holds a partial or
unverified file. Archives are unpacked into a temporary folder that is renamed into place the same
way, after every member has been checked: a member whose path is absolute or climbs out with
``..``, a link pointing outside the folder (by its text, or once the links it passes through
are followed), a device file or FIFO, or contents adding up to more than
``MAX_EXTRACTED_BYTES`` make the whole archive be refused with a ``ValueError``.
"""

import http.client
import os
import posixpath
import shutil
import tarfile
import tempfile
import urllib.parse
import warnings
import zipfile
from pathlib import Path

from ..datasets.download import (
    ChecksumError,
    DownloadError,
    describe_failure,
    digest_of_file,
    download,
)
from ..progress import print_msg
from .progbar import Progbar

# The most bytes an archive may unpack to (its members' sizes added up): 64 GiB.
MAX_EXTRACTED_BYTES = 64 << 30
_CHUNK_BYTES = 1 << 20


def keras_home():
    """Keras's cache folder: ``$KERAS_HOME`` if set, else ``~/.keras`` (``/tmp/.keras`` when the
    home folder is not writable)."""
    if "KERAS_HOME" in os.environ:
        return os.environ["KERAS_HOME"]
    home = os.path.expanduser("~")
    return os.path.join(home if os.access(home, os.W_OK) else "/tmp", ".keras")


def get_file(
    fname=None,
    origin=None,
    untar=False,
    md5_hash=None,
    file_hash=None,
    cache_subdir="datasets",
    hash_algorithm="auto",
    extract=False,
    archive_format="auto",
    cache_dir=None,
    force_download=False,
):
    """Download ``origin`` into the cache unless it is already there, and return its path.

    As Keras 3's ``keras.utils.get_file``: the file is kept at
    ``cache_dir/cache_subdir/fname`` (``cache_dir`` defaults to ``keras_home()``; an unwritable one
    falls back to ``/tmp/.keras``). A cached file is used without touching the network, unless
    ``force_download`` or its digest does not match ``file_hash`` (then it is downloaded again).

    With ``extract=True`` (or ``untar=True``) the archive is unpacked and the path of the folder
    it was unpacked into is returned: ``<name before the first dot>_extracted`` when ``fname`` has
    a dot (``"flowers.tgz"`` -> ``flowers_extracted``), else ``fname`` itself (the archive is then
    kept as ``<fname>_archive``). Keras unpacks again on every call; chainrule unpacks when the
    archive was just downloaded or the folder is missing, and reuses the folder otherwise.

    Args:
        fname: the file's name in the cache (default: the last part of ``origin``'s path). Not a
            path: use ``cache_dir`` for the folder.
        origin: the URL to download from.
        untar: deprecated in Keras; ``extract=True`` with the tar format.
        md5_hash: deprecated in Keras; ``file_hash`` with ``hash_algorithm="md5"``.
        file_hash: the expected hex digest of the file (sha256 or md5).
        cache_subdir: the folder under ``cache_dir`` (an absolute path is used as it is).
        hash_algorithm: "sha256", "md5" or "auto" (sha256 for a 64-digit ``file_hash``, else md5).
        extract: unpack the file as an archive.
        archive_format: "auto" (tar, then zip), "tar", "zip", a list of these, or None (unpack
            nothing).
        cache_dir: the cache's base folder.
        force_download: download even when a cached copy exists.

    Returns:
        str: the path of the file, or of the folder it was unpacked into.

    Raises:
        ValueError: no ``origin``; an ``fname`` with a folder in it; a digest mismatch after
            downloading; an archive member that would land outside the folder, a link, device
            file or an archive over ``MAX_EXTRACTED_BYTES``.
        DownloadError: the download failed (an HTTP error, an unreachable host); nothing is kept.
    """
    if origin is None:
        raise ValueError('get_file: give the "origin" argument (the URL of the file to download).')
    if md5_hash is not None and file_hash is None:
        file_hash, hash_algorithm = md5_hash, "md5"
    algorithm = _hash_algorithm(hash_algorithm, file_hash)
    base = os.path.expanduser(keras_home() if cache_dir is None else str(cache_dir))
    if not os.access(base, os.W_OK) and (os.path.exists(base) or not _can_create(base)):
        base = os.path.join("/tmp" if os.path.isdir("/tmp") else tempfile.gettempdir(), ".keras")
    folder = os.path.join(base, cache_subdir)
    os.makedirs(folder, exist_ok=True)

    given_name = os.fspath(fname) if fname is not None else ""
    if given_name and os.sep in given_name:
        raise ValueError(
            f"get_file: `fname` must be a file name, not a path; give the folder as `cache_dir`. "
            f"Received: fname={given_name}"
        )
    name = given_name or os.path.basename(urllib.parse.urlsplit(origin).path)
    if not name:
        raise ValueError(
            f"get_file: cannot tell the file name from origin {origin!r}; give `fname`."
        )
    if name in (".", ".."):
        raise ValueError(f"get_file: {name!r} is not a file name; give another `fname`.")
    extraction_dir = None
    if extract or untar:
        if given_name and "." in name:
            target = os.path.join(folder, name)
            extraction_dir = os.path.join(folder, name[: name.find(".")] + "_extracted")
        else:
            target = os.path.join(folder, name + "_archive")
            extraction_dir = os.path.join(folder, name)
    else:
        target = os.path.join(folder, name)

    expected = file_hash.lower() if file_hash is not None else None
    fetch = force_download or not os.path.exists(target)
    if not fetch and expected is not None and digest_of_file(target, algorithm) != expected:
        print_msg(
            f"A local file was found, but it seems to be incomplete or outdated because the "
            f"{algorithm} file hash does not match the original value of {file_hash} so we will "
            f"re-download the data."
        )
        fetch = True
    if fetch:
        print_msg(f"Downloading data from {origin}")
        bar = {}

        def show(received, total):  # a bar in bytes, as Keras draws one while downloading
            if "bar" not in bar:
                bar["bar"] = Progbar(total, unit_name="B")
            bar["bar"].update(received, finalize=total is not None and received >= total)

        try:
            download(origin, Path(target), expected, algorithm, on_chunk=show)
        except ChecksumError as err:
            raise ValueError(
                f"get_file: incomplete or corrupted file from {origin}: {err}. The {algorithm} "
                f"hash does not match the provided value of {file_hash}."
            ) from err
        except (OSError, http.client.HTTPException) as err:
            raise DownloadError(
                f"get_file: URL fetch failure on {origin}: {describe_failure(err)}"
            ) from err
    if extraction_dir is None:
        return target
    if fetch or not os.path.exists(extraction_dir):
        formats = "tar" if untar else archive_format
        if not extract_archive(target, extraction_dir, formats):
            warnings.warn(f"get_file: could not extract archive {target}.", stacklevel=2)
    return extraction_dir


def _can_create(path):
    """Whether the nearest existing folder above ``path`` is writable."""
    parent = os.path.dirname(os.path.abspath(path))
    while not os.path.exists(parent):
        parent = os.path.dirname(parent)
    return os.access(parent, os.W_OK)


def _hash_algorithm(hash_algorithm, file_hash):
    """Keras's choice of digest: "sha256" or "md5", or by the hash's length for "auto"."""
    if hash_algorithm not in ("auto", "sha256", "md5"):
        raise ValueError(
            f'get_file: `hash_algorithm` must be "auto", "sha256" or "md5". Received: '
            f"{hash_algorithm!r}"
        )
    if hash_algorithm == "auto":
        return "sha256" if file_hash is not None and len(file_hash) == 64 else "md5"
    return hash_algorithm


def extract_archive(file_path, path=".", archive_format="auto"):
    """Unpack a tar or zip archive into the folder ``path``, checking every member first.

    The archive is unpacked into a temporary folder beside ``path`` which then replaces
    ``path``, so ``path`` never holds a half-unpacked archive.

    Args:
        file_path: the archive.
        path: the folder to unpack into.
        archive_format: "auto" (tar, then zip), "tar", "zip", a list of these, or None.

    Returns:
        bool: True if the file was an archive of one of the formats and was unpacked.

    Raises:
        ValueError: a member with an absolute path or ``..`` in it, a link pointing outside
            ``path``, a device file or FIFO, or members adding up to over ``MAX_EXTRACTED_BYTES``.
    """
    if archive_format is None:
        return False
    formats = ["tar", "zip"] if archive_format == "auto" else archive_format
    formats = [formats] if isinstance(formats, str) else list(formats)
    file_path, path = os.fspath(file_path), os.path.abspath(os.fspath(path))
    for kind in formats:
        if kind not in ("tar", "zip"):
            raise ValueError(
                f'extract_archive: archive formats are "tar" and "zip". Received: {kind!r}'
            )
        if kind == "tar" and tarfile.is_tarfile(file_path):
            unpack = _unpack_tar
        elif kind == "zip" and zipfile.is_zipfile(file_path):
            unpack = _unpack_zip
        else:
            continue
        os.makedirs(os.path.dirname(path), exist_ok=True)
        staging = tempfile.mkdtemp(prefix=f".{os.path.basename(path)}.", dir=os.path.dirname(path))
        try:
            unpack(file_path, staging)
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            elif os.path.lexists(path):
                os.remove(path)
            os.replace(staging, path)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return True
    return False


def _member_path(archive, name):
    """The normalised relative path of an archive member, refusing absolute paths and ``..``."""
    relative = name.replace("\\", "/")
    parts = relative.split("/")
    if relative.startswith("/") or ".." in parts:
        raise ValueError(
            f"extract_archive: {archive} has a member {name!r} that would be written outside "
            f"the folder it is unpacked into; refusing the archive."
        )
    return posixpath.normpath(relative)


def _check_total(archive, total):
    if total > MAX_EXTRACTED_BYTES:
        raise ValueError(
            f"extract_archive: {archive} unpacks to over {MAX_EXTRACTED_BYTES} bytes "
            f"(MAX_EXTRACTED_BYTES); refusing the archive."
        )


def _unpack_tar(file_path, folder):
    """Check every member of a tar archive, then write the regular files, folders and links."""
    with tarfile.open(file_path) as archive:
        members, total, sizes = [], 0, {}  # sizes: the regular files listed so far
        for member in archive.getmembers():
            relative = _member_path(file_path, member.name)
            if not (member.isfile() or member.isdir() or member.issym() or member.islnk()):
                raise ValueError(
                    f"extract_archive: {file_path} has a member {member.name!r} that is a "
                    f"device file or FIFO; refusing the archive."
                )
            if member.issym() or member.islnk():
                base = posixpath.dirname(relative) if member.issym() else ""
                link = member.linkname.replace("\\", "/")
                pointed = posixpath.normpath(posixpath.join(base, link))
                if link.startswith("/") or pointed == ".." or pointed.startswith("../"):
                    raise ValueError(
                        f"extract_archive: {file_path} has a link {member.name!r} -> "
                        f"{member.linkname!r} pointing outside the folder it is unpacked "
                        f"into; refusing the archive."
                    )
            if member.isfile():
                sizes[relative] = member.size
            elif member.islnk():  # written as a copy of the file it names: as many bytes again
                linked = _member_path(file_path, member.linkname)
                if linked not in sizes:
                    raise ValueError(
                        f"extract_archive: {file_path} has a hard link {member.name!r} to "
                        f"{member.linkname!r}, which is not a file listed before it; refusing "
                        f"the archive."
                    )
                sizes[relative] = sizes[linked]
            total += sizes.get(relative, 0) if not member.isdir() and not member.issym() else 0
            _check_total(file_path, total)
            members.append((member, relative))
        root = os.path.realpath(folder)
        links = []
        for member, relative in members:
            target = os.path.join(folder, relative)
            # A link checked by its text alone can still lead out through another link
            # ("b/a" -> "..", then "e" -> "b/a/.."), so every path written is resolved first.
            _check_resolved(file_path, member.name, root, os.path.dirname(target))
            if member.isdir():
                os.makedirs(target, exist_ok=True)
                _check_resolved(file_path, member.name, root, target)
                continue
            os.makedirs(os.path.dirname(target), exist_ok=True)
            _check_resolved(file_path, member.name, root, target)
            if member.issym():
                os.symlink(member.linkname, target)
                _check_resolved(file_path, member.name, root, target)
                links.append((member.name, target))
            elif member.islnk():
                source = os.path.join(folder, _member_path(file_path, member.linkname))
                _check_resolved(file_path, member.name, root, source)
                shutil.copyfile(source, target)
            else:
                with archive.extractfile(member) as source, open(target, "wb") as sink:
                    shutil.copyfileobj(source, sink, _CHUNK_BYTES)
        for name, target in links:  # a later link may have redirected an earlier one
            _check_resolved(file_path, name, root, target)


def _check_resolved(archive, name, root, path):
    """Refuse the archive unless ``path``, with every link in it followed, is inside ``root``."""
    resolved = os.path.realpath(path)
    if os.path.commonpath([root, resolved]) != root:
        raise ValueError(
            f"extract_archive: {archive} has a member {name!r} that leads, through links, "
            f"outside the folder it is unpacked into; refusing the archive."
        )


def _unpack_zip(file_path, folder):
    """Check every member of a zip archive, then write its files with sizes held to what the
    archive declares (a member that inflates past its declared size is refused)."""
    with zipfile.ZipFile(file_path) as archive:
        infos, total = archive.infolist(), 0
        for info in infos:
            _member_path(file_path, info.filename)
            total += info.file_size
            _check_total(file_path, total)
        for info in infos:
            target = os.path.join(folder, _member_path(file_path, info.filename))
            if info.is_dir():
                os.makedirs(target, exist_ok=True)
                continue
            os.makedirs(os.path.dirname(target), exist_ok=True)
            written = 0
            with archive.open(info) as source, open(target, "wb") as sink:
                while chunk := source.read(_CHUNK_BYTES):
                    written += len(chunk)
                    if written > info.file_size:
                        raise ValueError(
                            f"extract_archive: {file_path} member {info.filename!r} inflates past "
                            f"its declared {info.file_size} bytes; refusing the archive."
                        )
                    sink.write(chunk)
