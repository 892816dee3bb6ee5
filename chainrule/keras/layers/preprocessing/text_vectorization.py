"""TextVectorization: strings -> standardized -> split into tokens -> n-grams -> indices or
encoded vectors, through a StringLookup whose mask token is the empty string."""

import re
import string

import numpy as np

from ....engine import Tensor
from ....tf.strings import ascii_lower
from ... import registry
from .base import PreprocessingLayer, adapt_batches, check_output_mode, to_numpy
from .lookup import LOOKUP_MODES, StringLookup

STANDARDIZE = ("lower_and_strip_punctuation", "lower", "strip_punctuation")
SPLIT = ("whitespace", "character")
_PUNCTUATION = re.compile("[" + re.escape(string.punctuation) + "]")


@registry.serializable("keras.layers")
class TextVectorization(PreprocessingLayer):
    """Turn strings into sequences of token indices, or into one vector per string.

    Each input string goes through:

    1. ``standardize``: "lower_and_strip_punctuation" (default), "lower", "strip_punctuation",
       None, or a callable on a NumPy array of str. Lowercasing is ASCII-only and the stripped
       punctuation is ASCII's ``!"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~``, as in TensorFlow.
    2. ``split``: "whitespace" (default: runs of whitespace, empty pieces dropped), "character",
       None (the whole string is one token), or a callable mapping a 1-D array of str to a list
       of token lists.
    3. ``ngrams``: None, n (all 1..n-grams) or a tuple of widths; the n-grams of each width
       follow the shorter ones, their tokens joined by a space.
    4. a :class:`StringLookup` with ``mask_token=""``: in "int" mode index 0 is padding and 1
       the OOV token "[UNK]"; the other modes encode each string as one vector.

    Output: "int" gives int64 of shape (batch, output_sequence_length), or (batch, longest
    sequence) when it is None, zero-padded and truncated; "multi_hot", "count" and "tf_idf" give
    float32 (batch, vocabulary size or ``max_tokens`` when ``pad_to_max_tokens``).

    Args:
        max_tokens: the most indices (padding and OOV included), or None.
        standardize, split, ngrams: as above.
        output_mode: "int" (default), "multi_hot", "count" or "tf_idf".
        output_sequence_length: the length of "int" outputs, or None.
        pad_to_max_tokens: encoded vectors of length ``max_tokens``.
        vocabulary, idf_weights: a fixed vocabulary (list or file path) and its IDF weights.
        sparse, ragged: must be False (chainrule has neither sparse nor ragged tensors).
        encoding: the encoding of bytes inputs (default "utf-8").

    Example:
        >>> layer = TextVectorization(max_tokens=5000, output_sequence_length=4)
        >>> layer.adapt(["foo bar", "bar baz", "baz bada boom"])
        >>> layer([["foo qux bar"], ["qux baz"]])   # [[4, 1, 3, 0], [1, 2, 0, 0]]
    """

    def __init__(
        self,
        max_tokens=None,
        standardize="lower_and_strip_punctuation",
        split="whitespace",
        ngrams=None,
        output_mode="int",
        output_sequence_length=None,
        pad_to_max_tokens=False,
        vocabulary=None,
        idf_weights=None,
        sparse=False,
        ragged=False,
        encoding="utf-8",
        name=None,
        **kwargs,
    ):
        has_input_vocabulary = kwargs.pop("has_input_vocabulary", vocabulary is not None)
        vocabulary_size = kwargs.pop("vocabulary_size", None)
        super().__init__(name=name, **kwargs)
        if not (standardize is None or callable(standardize) or standardize in STANDARDIZE):
            raise ValueError(
                f"TextVectorization: `standardize` must be None, a callable or one of "
                f"{STANDARDIZE}. Received: standardize={standardize!r}"
            )
        if not (split is None or callable(split) or split in SPLIT):
            raise ValueError(
                f"TextVectorization: `split` must be None, a callable or one of {SPLIT}. "
                f"Received: split={split!r}"
            )
        check_output_mode("TextVectorization", output_mode, LOOKUP_MODES)
        if isinstance(ngrams, list):
            ngrams = tuple(ngrams)
        if not (
            ngrams is None
            or (isinstance(ngrams, int) and not isinstance(ngrams, bool) and ngrams > 0)
            or (isinstance(ngrams, tuple) and all(isinstance(n, int) and n > 0 for n in ngrams))
        ):
            raise ValueError(
                f"TextVectorization: `ngrams` must be None, a positive integer, or a tuple of "
                f"positive integers. Received: ngrams={ngrams!r}"
            )
        if output_sequence_length is not None and not (
            isinstance(output_sequence_length, int) and output_sequence_length > 0
        ):
            raise ValueError(
                f"TextVectorization: `output_sequence_length` must be None or a positive "
                f"integer. Received: output_sequence_length={output_sequence_length!r}"
            )
        if output_mode != "int" and output_sequence_length is not None:
            raise ValueError(
                f"TextVectorization: `output_sequence_length` must not be set if "
                f"`output_mode` is not 'int'. Received output_mode={output_mode!r}."
            )
        if ragged:
            raise ValueError("TextVectorization: ragged=True needs ragged tensors; use False.")
        self._standardize = standardize
        self._split = split
        self._ngrams_arg = ngrams
        self._ngrams = tuple(range(1, ngrams + 1)) if isinstance(ngrams, int) else ngrams
        self._output_mode = output_mode
        self._output_sequence_length = output_sequence_length
        self._ragged = ragged
        self._encoding = encoding
        self._lookup_layer = StringLookup(
            max_tokens=max_tokens,
            vocabulary=vocabulary,
            idf_weights=idf_weights,
            pad_to_max_tokens=pad_to_max_tokens,
            mask_token="",
            output_mode=output_mode,
            sparse=sparse,
            has_input_vocabulary=has_input_vocabulary,
            encoding=encoding,
            vocabulary_size=vocabulary_size,
        )

    # ----- saving: the lookup's vocabulary and IDF weights, as Keras 3 stores them -----------
    def save_assets(self, dir_path):
        self._lookup_layer.save_assets(dir_path)

    def load_assets(self, dir_path):
        self._lookup_layer.load_assets(dir_path)

    def stored_array_names(self):
        return self._lookup_layer.stored_array_names()

    def stored_arrays(self):
        return self._lookup_layer.stored_arrays()

    def load_stored_arrays(self, arrays):
        self._lookup_layer.load_stored_arrays(arrays)

    # ----- the pipeline ----------------------------------------------------------------------
    def _standardized(self, strings):
        """Step 1 on a NumPy array of str."""
        if callable(self._standardize):
            return to_numpy(self._standardize(strings))
        if self._standardize is None:
            return strings
        flat = [str(s) for s in strings.reshape(-1)]
        if self._standardize in ("lower", "lower_and_strip_punctuation"):
            flat = [ascii_lower(s) for s in flat]
        if self._standardize in ("strip_punctuation", "lower_and_strip_punctuation"):
            flat = [_PUNCTUATION.sub("", s) for s in flat]
        return np.array(flat, dtype=object).reshape(strings.shape)

    def _tokens(self, inputs):
        """Steps 1-3: a list with one token list per string (per row, for split=None on 2-D
        data, the row's strings), and whether the input was split."""
        strings = to_numpy(inputs)
        if strings.dtype.kind not in "UO":
            raise TypeError(
                f"TextVectorization: expected strings; received dtype {strings.dtype}. Pass an "
                f"array or list of str."
            )
        strings = np.asarray(self._standardized(strings.astype(object)), dtype=object)
        if self._split is None:
            if strings.ndim == 0:
                strings = strings[None]
            rows = strings.reshape(len(strings), -1) if strings.ndim else strings
            documents = [[str(s) for s in row] for row in rows]
        else:
            if strings.ndim > 1:
                if strings.shape[-1] != 1:
                    raise ValueError(
                        f"TextVectorization: to split strings, the input rank must be 1 or "
                        f"the last dimension must be 1. Received: inputs.shape={strings.shape}"
                    )
                strings = strings.reshape(strings.shape[:-1])
            if strings.ndim == 0:
                strings = strings[None]
            if strings.ndim != 1:
                raise ValueError(
                    f"TextVectorization: expected a batch of strings of shape (batch,) or "
                    f"(batch, 1); received shape {strings.shape + (1,)}."
                )
            if callable(self._split):
                documents = [[str(t) for t in doc] for doc in self._split(strings)]
            elif self._split == "whitespace":
                documents = [str(s).split() for s in strings]
            else:
                documents = [list(str(s)) for s in strings]
        if self._ngrams is not None:
            documents = [_ngrams(doc, self._ngrams) for doc in documents]
        return documents

    def call(self, inputs):
        documents = self._tokens(inputs)
        lookup = self._lookup_layer
        if self._output_mode != "int":
            longest = max([len(doc) for doc in documents] + [1])
            padded = np.array([doc + [""] * (longest - len(doc)) for doc in documents], object)
            return lookup(padded)
        sequences = [lookup.lookup_indices(np.array(doc, dtype=object)) for doc in documents]
        length = self._output_sequence_length
        if length is None:
            length = max([len(seq) for seq in sequences] + [0])
        out = np.zeros((len(sequences), length), dtype=np.int64)
        for row, seq in zip(out, sequences):
            seq = seq[:length]
            row[: len(seq)] = seq
        return Tensor(out)

    def adapt(self, data, batch_size=None, steps=None):
        """Learn the vocabulary (and IDF weights) from ``data``: a list or array of strings, a
        ``chainrule.data.Dataset`` of string batches, a ``PyDataset`` or an iterable of batches.
        Tokens are ranked by count, ties by decreasing token; at most ``max_tokens`` kept."""
        lookup = self._lookup_layer
        lookup.reset_state()
        for batch in adapt_batches("TextVectorization", data, steps):
            for document in self._tokens(batch):
                lookup.update_state(np.array([document], dtype=object).reshape(1, -1))
        lookup.finalize_state()

    def compute_output_shape(self, input_shape):
        if self._output_mode == "int":
            return (input_shape[0], self._output_sequence_length)
        depth = (
            self._lookup_layer.max_tokens
            if self._lookup_layer.pad_to_max_tokens
            else self._lookup_layer._frozen_vocab_size
        )
        return (input_shape[0], depth)

    # ----- vocabulary ------------------------------------------------------------------------
    def get_vocabulary(self, include_special_tokens=True):
        """The token of every index ("" and "[UNK]" first in "int" mode, unless
        ``include_special_tokens`` is False)."""
        return self._lookup_layer.get_vocabulary(include_special_tokens)

    def vocabulary_size(self):
        """The number of indices, padding and OOV included."""
        return self._lookup_layer.vocabulary_size()

    def set_vocabulary(self, vocabulary, idf_weights=None):
        """Replace the vocabulary (and IDF weights in "tf_idf" mode); see
        :meth:`StringLookup.set_vocabulary`."""
        self._lookup_layer.set_vocabulary(vocabulary, idf_weights=idf_weights)

    def get_config(self):
        lookup = self._lookup_layer
        return {
            **super().get_config(),
            "max_tokens": lookup.max_tokens,
            "standardize": self._standardize,
            "split": self._split,
            "ngrams": self._ngrams_arg,
            "output_mode": self._output_mode,
            "output_sequence_length": self._output_sequence_length,
            "pad_to_max_tokens": lookup.pad_to_max_tokens,
            "sparse": lookup.sparse,
            "ragged": self._ragged,
            "vocabulary": lookup.get_config()["vocabulary"],
            "idf_weights": lookup.get_config()["idf_weights"],
            "encoding": self._encoding,
            "vocabulary_size": self.vocabulary_size(),
        }


def _ngrams(tokens, widths):
    """All n-grams of ``tokens`` for each width in turn, tokens joined by one space."""
    return [" ".join(tokens[i : i + n]) for n in widths for i in range(len(tokens) - n + 1)]
