"""Atomic file replacement: a file is either its previous complete version or its new one.

The new contents go to a temporary file in the target's folder (same file system, so the final
``os.replace`` is a single atomic rename), which is flushed and fsynced before the rename; the
folder is fsynced after it, so the rename itself survives a power cut. A process killed at any
point leaves the target untouched, or replaced whole.
"""

import contextlib
import os
import secrets


@contextlib.contextmanager
def atomic_write(path, overwrite=True):
    """Write the file ``path`` all at once.

    Yields a binary file (``"w+b"``, seekable) open on a new temporary file beside ``path``. When
    the block ends without an error the file is flushed, fsynced and renamed over ``path``; if the
    block raises, the temporary file is deleted and ``path`` is left as it was.

    Args:
        path: the file to write.
        overwrite: if False and ``path`` exists, raise instead of replacing it.

    Raises:
        FileExistsError: ``path`` exists and ``overwrite`` is False.
        FileNotFoundError: the folder of ``path`` does not exist.

    Example::

        with atomic_write("model.keras") as f:
            f.write(data)
    """
    path = os.path.abspath(os.fspath(path))
    folder, name = os.path.split(path)
    if not overwrite and os.path.exists(path):
        raise FileExistsError(
            f"{path} already exists and overwrite=False; pass overwrite=True to replace it."
        )
    temp, descriptor = _create_temporary(folder, name)
    try:
        with os.fdopen(descriptor, "w+b") as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    _fsync_folder(folder)


def _create_temporary(folder, name):
    """A new file ``.<name>.<random>.tmp`` in ``folder``, created exclusively with the default
    permissions (0o666 less the umask, like any new file), as (path, descriptor)."""
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        temp = os.path.join(folder, f".{name}.{secrets.token_hex(6)}.tmp")
        try:
            return temp, os.open(temp, flags, 0o666)
        except FileExistsError:
            continue


def _fsync_folder(folder):
    """Persist the folder's entry for the renamed file (a no-op where folders cannot be opened)."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
