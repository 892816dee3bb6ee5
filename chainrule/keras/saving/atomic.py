"""Atomic file replacement: a file is either its previous complete version or its new one.

The new contents go to a temporary file in the target's folder (same file system, so the final
``os.replace`` is a single atomic rename), which is flushed and fsynced before the rename; the
folder is fsynced after it, so the rename itself survives a power cut. A process killed at any
point leaves the target untouched, or replaced whole.

Saving over a symbolic link writes the file the link points to (the link stays a link); the
replaced file keeps its permission bits. Temporary files carry their writer's process id, so a
save removes those that earlier saves of the same file left when they were killed.
"""

import contextlib
import os
import re
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
    path = os.path.realpath(os.fspath(path))  # through symbolic links, to the file they name
    folder, name = os.path.split(path)
    if not overwrite and os.path.exists(path):
        raise FileExistsError(
            f"{path} already exists and overwrite=False; pass overwrite=True to replace it."
        )
    mode = _permissions(path)
    _remove_stale_temporaries(folder, name)
    temp, descriptor = _create_temporary(folder, name)
    try:
        with os.fdopen(descriptor, "w+b") as file:
            yield file
            file.flush()
            if mode is not None and hasattr(os, "fchmod"):
                os.fchmod(file.fileno(), mode)
            os.fsync(file.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    _fsync_folder(folder)


def _permissions(path):
    """The permission bits of the existing file ``path``, or None for a new file."""
    try:
        return os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        return None


def _remove_stale_temporaries(folder, name):
    """Delete the temporary files of ``name`` whose writing process no longer exists (killed
    saves); a live writer's file, or anyone else's file, is left alone."""
    pattern = re.compile(rf"\.{re.escape(name)}\.(\d+)-[0-9a-f]{{12}}\.tmp")
    try:
        entries = os.listdir(folder)
    except OSError:
        return
    for entry in entries:
        match = pattern.fullmatch(entry)
        if match and not _process_exists(int(match.group(1))):
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(folder, entry))


def _process_exists(pid):
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OverflowError, OSError):
        return True  # someone else's process, or a pid this system cannot ask about
    return True


def _create_temporary(folder, name):
    """A new file ``.<name>.<pid>-<random>.tmp`` in ``folder``, created exclusively with the
    default permissions (0o666 less the umask, like any new file), as (path, descriptor)."""
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        temp = os.path.join(folder, f".{name}.{os.getpid()}-{secrets.token_hex(6)}.tmp")
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
