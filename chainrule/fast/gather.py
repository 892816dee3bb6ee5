"""A shuffled pass's batches, gathered a chunk ahead on chainrule's other thread.

Each batch of a shuffled pass over arrays is gathered from rows in random places:
``x.take(order[s : s + batch_size], axis=0)``. The copy waits on memory rather than computing:
13 µs of the article's step of about 80 µs (32 MNIST rows of 3 KB), as much as a hand-written
NumPy loop spends on it. That wait does not depend on the step, so :func:`shuffled_batches`
gathers the rows of the next batches on chainrule's other thread (:func:`.threads.ahead`) while
the step runs on the current ones, and the step then reads its batch from a buffer the other
core filled: the article's epoch took 0.149 s without and 0.135 s with, on a 2-core machine.

One hand-over per batch would cost more than it saves: waking the other thread and passing the
interpreter lock back and forth took about 150 µs a batch there. The rows are therefore
gathered in chunks of up to :data:`MAX_BATCHES` batches and :data:`CHUNK_BYTES` bytes, one
hand-over per chunk, and each batch is a slice of its chunk (the same rows in the same order:
the same arrays, value for value). The other core counts as free where the BLAS library runs
in the training thread: the step runs on one core, or chainrule's threads have replaced the
BLAS library's (see :mod:`.threads`). Where the BLAS library's own threads use every core, or
outside a training call, each batch is gathered when it is asked for, in this thread, as
without this module: a chunk gathered in the training thread would push the step's arrays out
of the core's cache (an epoch took 10 % longer so).
"""

from ..backend import take_rows
from . import threads

#: The most batches one chunk holds: a hand-over to the other thread per this many batches.
MAX_BATCHES = 32
#: ...and the most bytes of rows (the arrays' together), a chunk of one batch at least: two
#: chunks, the one read and the one being gathered, exist at once.
CHUNK_BYTES = 4 << 20


def batches_per_chunk(arrays, batch_size):
    """How many batches one chunk holds: :data:`MAX_BATCHES`, fewer where that many batches of
    ``arrays``' rows would take more than :data:`CHUNK_BYTES`, one at least."""
    row_bytes = sum(a.itemsize * (a.size // max(len(a), 1)) for a in arrays)
    return max(1, min(MAX_BATCHES, CHUNK_BYTES // max(1, batch_size * row_bytes)))


def shuffled_batches(arrays, order, batch_size):
    """Yield ``tuple(take_rows(a, order[s : s + batch_size]) for a in arrays)`` for s = 0,
    batch_size, ... up to ``len(order)``, each next chunk of them gathered on chainrule's other
    thread while this one's are used, where :func:`.threads.ahead` runs it there (see the
    module); else each batch gathered in this thread when it is asked for.

    Args:
        arrays: NumPy arrays with one row per sample along their first axis.
        order: the rows' indices, in the pass's order (a permutation).
        batch_size: rows per batch (the last batch may have fewer).
    """
    n = len(order)
    rows = batch_size * batches_per_chunk(arrays, batch_size)

    def gather(start):
        index = order[start : start + rows]
        return tuple(take_rows(a, index) for a in arrays)

    pending = None  # the future of the chunk starting at `start`, where it was gathered ahead
    for start in range(0, n, rows):
        # a chunk the other thread has not started yet (its core busy with another process's
        # work) is gathered here instead: waiting for that thread would cost more
        chunk = None if pending is None or pending.cancel() else pending.result()
        pending = threads.ahead(gather, start + rows) if start + rows < n else None
        if chunk is None:  # not gathered ahead: each batch now, in this thread
            for first in range(start, min(start + rows, n), batch_size):
                index = order[first : first + batch_size]
                yield tuple(take_rows(a, index) for a in arrays)
            continue
        for first in range(0, len(chunk[0]), batch_size):
            yield tuple(part[first : first + batch_size] for part in chunk)
