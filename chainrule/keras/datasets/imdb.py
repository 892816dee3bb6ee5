"""IMDB movie reviews as `keras.datasets.imdb`: 25,000 training and 25,000 test reviews labelled
positive (1) or negative (0), each a list of word indices by frequency rank.

``imdb.npz`` (ragged sequences stored as pickled object arrays, read without running code) and
the word index are downloaded on first use from Keras's storage into
``cache_dir()/datasets/imdb`` and verified by digest; later calls read the cache.
"""

import json
import os

import numpy as np

from .download import DEFAULT_TIMEOUT, get_file
from .safe_pickle import load_npz

MIRRORS = ("https://storage.googleapis.com/tensorflow/tf-keras-datasets/",)
CACHE_SUBDIR = os.path.join("datasets", "imdb")
SHA256 = "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f"  # imdb.npz
WORD_INDEX_MD5 = "bfafd718b763782e994055a2d397834f"  # imdb_word_index.json, as Keras checks it


def load_data(
    path="imdb.npz",
    num_words=None,
    skip_top=0,
    maxlen=None,
    seed=113,
    start_char=1,
    oov_char=2,
    index_from=3,
    mirrors=None,
    timeout=DEFAULT_TIMEOUT,
):
    """Load the IMDB reviews, downloading them on first use.

    Each review is shuffled with ``np.random.RandomState(seed)`` (training and test set apart,
    as Keras does), then written as ``[start_char] + [w + index_from for w in review]``; words
    of rank outside [skip_top, num_words) become ``oov_char`` (or are dropped when it is None),
    and reviews of ``maxlen`` words or more are dropped.

    Args:
        path: the cached file's name under ``cache_dir()/datasets/imdb``.
        num_words: keep the most frequent words only (None: all).
        skip_top: also treat the ``skip_top`` most frequent indices as out of vocabulary.
        maxlen: drop sequences of this length or longer (None: keep all).
        seed: the shuffling seed.
        start_char: the index marking a sequence start (None: no marker).
        oov_char: the index of cut-out words (None: drop them).
        index_from: the offset added to every word index.
        mirrors: base URLs to try; None uses ``MIRRORS``.
        timeout: seconds per connect or read before trying the next mirror.

    Returns:
        ``((x_train, y_train), (x_test, y_test))``: object arrays of lists of ints, and int
        label arrays.

    Raises:
        DownloadError: the file is neither cached nor obtainable.
        ValueError: ``maxlen`` removes every sequence.
    """
    file = get_file(path, MIRRORS if mirrors is None else mirrors, SHA256, CACHE_SUBDIR, timeout)
    arrays = load_npz(file)
    rng = np.random.RandomState(seed)
    splits = []
    for x_key, y_key in (("x_train", "y_train"), ("x_test", "y_test")):
        order = np.arange(len(arrays[x_key]))
        rng.shuffle(order)
        splits.append((arrays[x_key][order], arrays[y_key][order]))
    prepared = [_offset_and_filter(x, y, start_char, index_from, maxlen, "imdb") for x, y in splits]
    sizes = [len(x) for x, _ in prepared]
    xs = prepared[0][0] + prepared[1][0]
    xs = cut_vocabulary(xs, num_words, skip_top, oov_char)
    labels = np.concatenate([np.asarray(y) for _, y in prepared])
    x_train, x_test = _object_array(xs[: sizes[0]]), _object_array(xs[sizes[0] :])
    return (x_train, labels[: sizes[0]]), (x_test, labels[sizes[0] :])


def get_word_index(path="imdb_word_index.json", mirrors=None, timeout=DEFAULT_TIMEOUT):
    """The dict word -> frequency rank (1 = most frequent) of the IMDB reviews; in the loaded
    sequences a word of rank r appears as r + index_from.

    Raises:
        DownloadError: the file is neither cached nor obtainable.
    """
    mirrors = MIRRORS if mirrors is None else mirrors
    file = get_file(path, mirrors, WORD_INDEX_MD5, CACHE_SUBDIR, timeout)
    with open(file, encoding="utf-8") as handle:
        return json.load(handle)


def prepare_sequences(xs, labels, start_char, index_from, maxlen, num_words, skip_top, oov_char):
    """The sequence steps shared by IMDB and Reuters, for one list of sequences: offset, mark
    the start, drop long sequences, cut the vocabulary (see :func:`load_data`)."""
    xs, labels = _offset_and_filter(xs, labels, start_char, index_from, maxlen, "reuters")
    return cut_vocabulary(xs, num_words, skip_top, oov_char), np.asarray(labels)


def _offset_and_filter(xs, labels, start_char, index_from, maxlen, name):
    head = [] if start_char is None else [start_char]
    xs = [head + [int(w) + index_from for w in x] for x in xs]
    labels = list(labels)
    if maxlen:
        kept = [i for i, x in enumerate(xs) if len(x) < maxlen]
        if not kept:
            raise ValueError(
                f"{name}.load_data: no sequence is shorter than maxlen={maxlen}; increase maxlen."
            )
        xs, labels = [xs[i] for i in kept], [labels[i] for i in kept]
    return xs, np.asarray(labels)


def cut_vocabulary(xs, num_words, skip_top, oov_char):
    """Sequences with every index outside [skip_top, num_words) replaced by ``oov_char``, or
    dropped when it is None; ``num_words`` None means the largest index present."""
    if not num_words:
        num_words = max((max(x) for x in xs if x), default=0)
    if oov_char is not None:
        return [[w if skip_top <= w < num_words else oov_char for w in x] for x in xs]
    return [[w for w in x if skip_top <= w < num_words] for x in xs]


def _object_array(sequences):
    array = np.empty(len(sequences), dtype=object)
    array[:] = sequences
    return array
