"""Starting a job of N processes on this machine with ``mpiexec``, and naming the rank that ended
it.

When a process of a job is killed (out of memory, ``kill -9``), MPICH's launcher ends the others
and reports the killed one by its process id::

    =   BAD TERMINATION OF ONE OF YOUR APPLICATION PROCESSES
    =   PID 4478 RUNNING AT vm
    ...
    YOUR APPLICATION TERMINATED WITH THE EXIT STRING: Killed (signal 9)

A job started by :func:`run` passes every process a folder (``CHAINRULE_RANKS_DIR``) in which
:func:`chainrule.distributed.init` leaves a file named by its process id holding its rank; when
the job fails, :func:`run` reads the launcher's report and says which rank that process was.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading

RANKS_DIR = "CHAINRULE_RANKS_DIR"  # where each process notes its rank, by its process id
_TAIL = 1 << 14  # the bytes of each output stream kept to read the launcher's report from
_KILLED_PID = re.compile(rb"PID (\d+) RUNNING AT")
_EXIT_STRING = re.compile(rb"EXIT STRING: ([^\n]+)")


def note_rank(rank):
    """Leave this process's rank where :func:`run` will look for it (if it started the job)."""
    folder = os.environ.get(RANKS_DIR)
    if folder and os.path.isdir(folder):
        with open(os.path.join(folder, str(os.getpid())), "w") as file:
            file.write(str(rank))


def find_mpiexec():
    """The ``mpiexec`` beside this Python (the ``mpich`` wheel's), else the one on PATH."""
    here = os.path.dirname(sys.executable)
    return shutil.which("mpiexec", path=here) or shutil.which("mpiexec")


def run(workers, arguments, mpiexec):
    """Run ``mpiexec -n workers arguments...``, passing its output through as it comes; return
    its exit status. If the job fails because one of its processes was killed, print which rank
    it was and why (to standard error)."""
    with tempfile.TemporaryDirectory(prefix="chainrule-ranks-") as folder:
        env = dict(os.environ, **{RANKS_DIR: folder})
        process = subprocess.Popen(
            [mpiexec, "-n", str(workers), *arguments],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        tails = [bytearray(), bytearray()]
        relays = [
            threading.Thread(target=_relay, args=(stream, sink, tail))
            for stream, sink, tail in (
                (process.stdout, sys.stdout, tails[0]),
                (process.stderr, sys.stderr, tails[1]),
            )
        ]
        for relay in relays:
            relay.start()
        status = process.wait()
        for relay in relays:
            relay.join()
        if status != 0:
            message = killed_rank(bytes(tails[0] + tails[1]), folder, workers)
            if message:
                print(message, file=sys.stderr, flush=True)
    return status


def killed_rank(report, folder, workers):
    """ "rank R of N (process P) was ended: <why>" from the launcher's ``report`` and the ranks
    noted in ``folder``, or None when the report names no killed process."""
    found = _KILLED_PID.search(report)
    if found is None:
        return None
    pid = found.group(1).decode()
    why = _EXIT_STRING.search(report)
    cause = why.group(1).decode(errors="replace").strip() if why else "it stopped unexpectedly"
    try:
        with open(os.path.join(folder, pid)) as file:
            rank = int(file.read())
    except (OSError, ValueError):
        return f"the job ended: process {pid} was ended ({cause})"
    return f"rank {rank} of {workers} (process {pid}) was ended: {cause}; the other ranks stopped"


def _relay(stream, sink, tail):
    """Copy ``stream`` to ``sink`` as it arrives (progress bars redraw mid-line), keeping the
    last bytes in ``tail``."""
    out = getattr(sink, "buffer", None)
    while True:
        chunk = os.read(stream.fileno(), 1 << 16)
        if not chunk:
            break
        if out is not None:
            out.write(chunk)
            out.flush()
        else:
            sink.write(chunk.decode(errors="replace"))
            sink.flush()
        tail.extend(chunk)
        del tail[:-_TAIL]
