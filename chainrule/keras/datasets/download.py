"""Fetch data files once, verify them by sha256, and keep them in the user's cache.

Files live under `cache_dir()`: `$CHAINRULE_HOME` if set, else `$XDG_CACHE_HOME/chainrule`, else
`~/.cache/chainrule`. A download goes to a temporary file beside its target, is flushed to disk
and checked against the expected sha256, and only then renamed into place, so the cache never
holds a partial or unverified file. A cached file is checked again on every use and reused without
touching the network.
"""

import hashlib
import http.client
import os
import re
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

DEFAULT_TIMEOUT = 30.0

_CHUNK_BYTES = 1 << 20
# A digest's algorithm, told by its length as Keras's get_file does ("auto"): sha256 or md5
# (Keras publishes only an md5 for some small files).
_ALGORITHMS = {64: "sha256", 32: "md5"}


class ChecksumError(ValueError):
    """A file's sha256 digest is not the one expected."""


class DownloadError(OSError):
    """No mirror delivered a file with the expected sha256."""


def cache_dir():
    """Return the folder chainrule caches downloads in (it need not exist yet).

    Returns:
        Path: `$CHAINRULE_HOME` if set and non-empty, else `$XDG_CACHE_HOME/chainrule`, else
        `~/.cache/chainrule`.
    """
    home = os.environ.get("CHAINRULE_HOME")
    if home:
        return Path(home).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        return Path(xdg).expanduser() / "chainrule"
    return Path.home() / ".cache" / "chainrule"


def sha256_of_file(path):
    """The hex sha256 digest of a file's bytes (64 lowercase hex digits)."""
    return digest_of_file(path, "sha256")


def check_sha256(name, actual, expected, remedy):
    """Raise `ChecksumError` unless two hex digests match.

    Args:
        name: the file the digest belongs to, for the message.
        actual: the digest computed from the file.
        expected: the digest it should have.
        remedy: one sentence telling the user what to do about a mismatch.

    Raises:
        ChecksumError: the digests differ; the message names the file, both digests and remedy.
    """
    if actual != expected:
        raise ChecksumError(f"{name}: sha256 is {actual}, expected {expected}. {remedy}")


def digest_of_file(path, algorithm="sha256"):
    """The hex digest of a file's bytes by ``algorithm`` ("sha256" or "md5"), read in chunks."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as file:
        while chunk := file.read(_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def get_file(fname, mirrors, sha256, cache_subdir="datasets", timeout=DEFAULT_TIMEOUT):
    """Return the path of a verified local copy of `fname`, downloading it if needed.

    A cached copy whose digest matches is returned without any network access. Otherwise each
    mirror is tried in turn: a connection error, HTTP error, timeout or digest mismatch moves on
    to the next one.

    Args:
        fname: the file name, appended to each mirror URL and used as the cached file's name.
        mirrors: base URLs (folders) to try in order, e.g. ("https://example.org/data/",).
        sha256: the expected hex digest of the file's bytes: a sha256 (64 digits) or, for the
            few files Keras publishes only an md5 for, an md5 (32 digits).
        cache_subdir: folder under `cache_dir()` to keep the file in.
        timeout: seconds to wait on any one connect or read before giving up on a mirror.

    Returns:
        Path: `cache_dir() / cache_subdir / fname`, whose sha256 has just been verified.

    Raises:
        ValueError: `mirrors` is empty or `sha256` is neither 64 nor 32 hex digits.
        DownloadError: every mirror failed; the message lists each URL with its failure and the
            full path to place the file at by hand.
        OSError: the cache folder cannot be created.

    Example:
        >>> get_file("t10k-labels-idx1-ubyte.gz", ("https://example.org/mnist/",),
        ...          "ff7bcfd4...", cache_subdir="datasets/mnist")  # doctest: +SKIP
    """
    mirrors = tuple(mirrors)
    if not mirrors:
        raise ValueError(f"get_file: no mirrors given for {fname}")
    expected = sha256.lower()
    algorithm = _ALGORITHMS.get(len(expected))
    if algorithm is None or not re.fullmatch(r"[0-9a-f]+", expected):
        raise ValueError(
            f"get_file: the digest for {fname} must be 64 hex digits (sha256) or 32 (md5), "
            f"got {sha256!r}"
        )
    target = cache_dir() / cache_subdir / fname
    failures = []
    if target.exists():
        cached = digest_of_file(target, algorithm)
        if cached == expected:
            return target
        failures.append(f"cached copy {target}: {algorithm} is {cached}, expected {expected}")
    target.parent.mkdir(parents=True, exist_ok=True)
    for mirror in mirrors:
        url = mirror.rstrip("/") + "/" + fname
        try:
            download(url, target, expected, algorithm, timeout)
            return target
        except (OSError, http.client.HTTPException, ChecksumError) as err:
            failures.append(f"{url}: {describe_failure(err)}")
    tried = "\n".join(f"  {failure}" for failure in failures)
    raise DownloadError(
        f"Could not get {fname} from any mirror:\n{tried}\n"
        f"Download it by hand and place it at\n  {target}\n"
        f"(its {algorithm} must be {expected}), or set CHAINRULE_HOME to another cache folder."
    )


def download(
    url, target, expected=None, algorithm="sha256", timeout=DEFAULT_TIMEOUT, on_chunk=None
):
    """Stream `url` into a temporary file beside `target`, then rename it into place.

    The rename is atomic, so `target` is either absent, its old content, or the whole new file;
    with `expected` (a hex digest by `algorithm`) the file is renamed only if its digest matches.
    `on_chunk(received, total)`, if given, is called after each chunk with the bytes received so
    far and the size the server announced (None if it did not).

    Raises:
        ChecksumError: the received bytes' digest is not `expected` (nothing is kept).
        OSError, http.client.HTTPException: the transfer failed (nothing is kept).
    """
    handle, temp_name = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".part", dir=target.parent
    )
    try:
        digest = hashlib.new(algorithm)
        size = 0
        with os.fdopen(handle, "wb") as temp, urllib.request.urlopen(url, timeout=timeout) as reply:
            announced = reply.headers.get("Content-Length")
            total = int(announced) if announced and announced.isdigit() else None
            while chunk := reply.read(_CHUNK_BYTES):
                temp.write(chunk)
                digest.update(chunk)
                size += len(chunk)
                if on_chunk is not None:
                    on_chunk(size, total)
            temp.flush()
            os.fsync(temp.fileno())
        if expected is not None and digest.hexdigest() != expected:
            raise ChecksumError(
                f"received {size} bytes with {algorithm} {digest.hexdigest()}, expected {expected}"
            )
        os.replace(temp_name, target)
    except BaseException:
        os.unlink(temp_name)
        raise


def describe_failure(err):
    """One line saying why a mirror failed."""
    if isinstance(err, urllib.error.HTTPError):
        err.close()
        return f"HTTP error {err.code} {err.reason}"
    if isinstance(err, urllib.error.URLError) and isinstance(err.reason, OSError):
        return f"{type(err.reason).__name__}: {err.reason}"
    if isinstance(err, urllib.error.URLError):
        return str(err.reason)
    return f"{type(err).__name__}: {err}"
