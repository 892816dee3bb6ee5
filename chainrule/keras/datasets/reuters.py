"""Reuters newswires as `keras.datasets.reuters`: 11,228 short news stories in 46 topics, each
a list of word indices by frequency rank, split into training and test sets by ``test_split``.

``reuters.npz`` and the word index are downloaded on first use from Keras's storage into
``cache_dir()/datasets/reuters``, verified by digest, and read from there afterwards.
"""

import json
import os

import numpy as np

from .download import DEFAULT_TIMEOUT, get_file
from .imdb import _object_array, prepare_sequences
from .safe_pickle import load_npz

MIRRORS = ("https://storage.googleapis.com/tensorflow/tf-keras-datasets/",)
CACHE_SUBDIR = os.path.join("datasets", "reuters")
SHA256 = "d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916"  # reuters.npz
WORD_INDEX_MD5 = "4d44cc38712099c9e383dc6e5f11a921"  # reuters_word_index.json, as Keras checks it
LABEL_NAMES = (
    "cocoa", "grain", "veg-oil", "earn", "acq", "wheat", "copper", "housing", "money-supply",
    "coffee", "sugar", "trade", "reserves", "ship", "cotton", "carcass", "crude", "nat-gas",
    "cpi", "money-fx", "interest", "gnp", "meal-feed", "alum", "oilseed", "gold", "tin",
    "strategic-metal", "livestock", "retail", "ipi", "iron-steel", "rubber", "heat", "jobs",
    "lei", "bop", "zinc", "orange", "pet-chem", "dlr", "gas", "silver", "wpi", "hog", "lead",
)  # fmt: skip


def load_data(
    path="reuters.npz",
    num_words=None,
    skip_top=0,
    maxlen=None,
    test_split=0.2,
    seed=113,
    start_char=1,
    oov_char=2,
    index_from=3,
    mirrors=None,
    timeout=DEFAULT_TIMEOUT,
):
    """Load the Reuters newswires, downloading them on first use.

    All stories are shuffled with ``np.random.RandomState(seed)``, prepared as in
    ``imdb.load_data`` (offset, start marker, ``maxlen``, ``num_words``/``skip_top`` cut), and
    the first ``int(n * (1 - test_split))`` form the training set.

    Args:
        test_split: the fraction of stories for the test set.
        the others: as ``imdb.load_data``.

    Returns:
        ``((x_train, y_train), (x_test, y_test))``: object arrays of lists of ints, and topic
        labels 0-45.
    """
    file = get_file(path, MIRRORS if mirrors is None else mirrors, SHA256, CACHE_SUBDIR, timeout)
    arrays = load_npz(file)
    order = np.arange(len(arrays["x"]))
    np.random.RandomState(seed).shuffle(order)
    xs, labels = prepare_sequences(
        arrays["x"][order],
        arrays["y"][order],
        start_char,
        index_from,
        maxlen,
        num_words,
        skip_top,
        oov_char,
    )
    split = int(len(xs) * (1 - test_split))
    return (_object_array(xs[:split]), labels[:split]), (_object_array(xs[split:]), labels[split:])


def get_word_index(path="reuters_word_index.json", mirrors=None, timeout=DEFAULT_TIMEOUT):
    """The dict word -> frequency rank of the Reuters stories (rank r appears as r + 3)."""
    mirrors = MIRRORS if mirrors is None else mirrors
    file = get_file(path, mirrors, WORD_INDEX_MD5, CACHE_SUBDIR, timeout)
    with open(file, encoding="utf-8") as handle:
        return json.load(handle)


def get_label_names():
    """The 46 topic names, in label order."""
    return LABEL_NAMES
