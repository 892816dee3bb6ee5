"""Vocabulary lookups: StringLookup and IntegerLookup map tokens to indices (and back).

Index layout, as Keras lays it out: in ``output_mode="int"``, index 0 is the mask token (when
``mask_token`` is set), then ``num_oov_indices`` OOV indices, then the vocabulary in order. In the
other modes there is no mask index: masked inputs add nothing to the encoded vector. Adapting
counts the tokens and keeps them by decreasing count, ties by decreasing token order, at most
``max_tokens`` indices in all.
"""

import collections
import os

import numpy as np

from ....engine import Tensor
from ... import registry
from ...saving.serialization import FileFormatError
from .base import (
    PreprocessingLayer,
    adapt_batches,
    check_output_mode,
    encode_categorical,
    to_numpy,
)
from .fingerprint import hash_buckets

VOCABULARY_FILE = "vocabulary.txt"  # the asset Keras saves a lookup layer's vocabulary in
LOOKUP_MODES = ("int", "one_hot", "multi_hot", "count", "tf_idf")


class IndexLookup(PreprocessingLayer):
    """The common lookup: see :class:`StringLookup` and :class:`IntegerLookup` for the arguments.

    ``vocabulary_dtype`` is "string" or an integer dtype name.
    """

    def __init__(
        self,
        max_tokens,
        num_oov_indices,
        mask_token,
        oov_token,
        vocabulary_dtype,
        vocabulary=None,
        idf_weights=None,
        invert=False,
        output_mode="int",
        sparse=False,
        pad_to_max_tokens=False,
        oov_method="floormod",
        salt=None,
        **kwargs,
    ):
        kind = type(self).__name__
        self._frozen_vocab_size = kwargs.pop("vocabulary_size", None)
        has_input_vocabulary = kwargs.pop("has_input_vocabulary", vocabulary is not None)
        super().__init__(**kwargs)
        if max_tokens is not None and max_tokens <= 1:
            raise ValueError(
                f"{kind}: if set, `max_tokens` must be greater than 1. "
                f"Received: max_tokens={max_tokens}"
            )
        if pad_to_max_tokens and max_tokens is None:
            raise ValueError(
                f"{kind}: pad_to_max_tokens=True needs `max_tokens`. Received: max_tokens=None"
            )
        if num_oov_indices < 0:
            raise ValueError(
                f"{kind}: `num_oov_indices` must be greater than or equal to 0. "
                f"Received: num_oov_indices={num_oov_indices}"
            )
        check_output_mode(kind, output_mode, LOOKUP_MODES)
        if invert and output_mode != "int":
            raise ValueError(
                f"{kind}: `output_mode` must be 'int' when `invert` is true. "
                f"Received: output_mode={output_mode!r}"
            )
        if sparse:
            raise ValueError(f"{kind}: sparse=True needs sparse tensors, which chainrule lacks.")
        if oov_method not in ("floormod", "farmhash"):
            raise ValueError(
                f"{kind}: `oov_method` must be 'floormod' or 'farmhash'. "
                f"Received: oov_method={oov_method!r}"
            )
        if salt is not None and oov_method != "farmhash" and vocabulary_dtype != "string":
            raise ValueError(f"{kind}: `salt` can only be used when oov_method='farmhash'.")
        self.max_tokens = max_tokens
        self.num_oov_indices = num_oov_indices
        self.mask_token = mask_token
        self.oov_token = oov_token
        self.vocabulary_dtype = vocabulary_dtype
        self.invert = invert
        self.output_mode = output_mode
        self.sparse = sparse
        self.pad_to_max_tokens = pad_to_max_tokens
        self.oov_method = oov_method
        self.salt = salt
        self.input_vocabulary = vocabulary if not isinstance(vocabulary, str) else None
        self.input_idf_weights = idf_weights
        self._has_input_vocabulary = has_input_vocabulary
        self._tokens = []
        self._index = {}
        self.idf_weights = None
        if output_mode == "tf_idf" and vocabulary is not None and idf_weights is None:
            raise ValueError(
                f"{kind}: with a `vocabulary` in output_mode 'tf_idf', `idf_weights` must be "
                f"given too."
            )
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)
        self.reset_state()

    # ----- the index layout ------------------------------------------------------------------
    def _oov_start_index(self):
        return 1 if self.mask_token is not None and self.output_mode == "int" else 0

    def _token_start_index(self):
        return self._oov_start_index() + self.num_oov_indices

    def vocabulary_size(self):
        """The number of indices: mask and OOV indices included."""
        return len(self._tokens) + self._token_start_index()

    def get_vocabulary(self, include_special_tokens=True):
        """The token of every index in order (the mask and OOV tokens first, unless
        ``include_special_tokens`` is False)."""
        specials = [self.mask_token] * self._oov_start_index()
        specials += [self.oov_token] * self.num_oov_indices
        tokens = list(self._tokens)
        return specials + tokens if include_special_tokens else tokens

    def set_vocabulary(self, vocabulary, idf_weights=None):
        """Replace the vocabulary (and, in "tf_idf" mode, the IDF weights).

        Args:
            vocabulary: a list, tuple or 1-D array of distinct tokens, or the path of a text file
                with one token per line. It may start with the special tokens (mask, then the
                OOV ones) exactly in the layer's order.
            idf_weights: one weight per vocabulary entry; required in "tf_idf" mode only.

        Raises:
            ValueError: an empty vocabulary, repeated tokens, a special token elsewhere than at
                the start, a vocabulary longer than ``max_tokens``, or IDF weights given in
                another mode, missing in "tf_idf" mode, or of another length.
        """
        kind = type(self).__name__
        if self.output_mode == "tf_idf" and idf_weights is None:
            raise ValueError(f"{kind}: `idf_weights` must be set if output_mode is 'tf_idf'.")
        if self.output_mode != "tf_idf" and idf_weights is not None:
            raise ValueError(
                f"{kind}: `idf_weights` should only be set if output_mode is 'tf_idf'. "
                f"Received: output_mode={self.output_mode!r}"
            )
        if isinstance(vocabulary, str):
            vocabulary = _read_vocabulary_file(kind, vocabulary)
        vocabulary = [self._token(t) for t in np.asarray(to_numpy(vocabulary)).reshape(-1)]
        if not vocabulary:
            raise ValueError(f"{kind}: cannot set an empty vocabulary.")
        token_start = self._token_start_index()
        specials = [self.mask_token] * self._oov_start_index()
        specials += [self.oov_token] * self.num_oov_indices
        found_specials = vocabulary[:token_start] == specials
        tokens = vocabulary[token_start:] if found_specials else vocabulary
        repeated = [t for t, n in collections.Counter(tokens).items() if n > 1]
        if repeated:
            raise ValueError(
                f"{kind}: the vocabulary repeats the terms {repeated}; make each term unique."
            )
        for name, special in (("mask", self.mask_token), ("OOV", self.oov_token)):
            if special is not None and special in tokens and (name == "mask" or self.invert):
                raise ValueError(
                    f"{kind}: found the reserved {name} token {special!r} inside `vocabulary`. "
                    f"Leave the mask and OOV tokens out of the vocabulary, or put them only at "
                    f"its start in exactly this order: {specials}."
                )
        if self.max_tokens is not None and token_start + len(tokens) > self.max_tokens:
            raise ValueError(
                f"{kind}: the vocabulary would have {token_start + len(tokens)} indices, more "
                f"than max_tokens={self.max_tokens}."
            )
        self._set_tokens(tokens)
        if self.output_mode == "tf_idf":
            weights = np.asarray(to_numpy(idf_weights), dtype="float64")
            if weights.ndim != 1 or len(weights) != len(vocabulary):
                raise ValueError(
                    f"{kind}: `idf_weights` must be 1-D with one weight per vocabulary entry; "
                    f"received shape {weights.shape} for {len(vocabulary)} entries."
                )
            front = 0 if found_specials else token_start
            weights = np.concatenate([np.full(front, weights.mean()), weights])
            self._set_idf(weights)

    # ----- saving, as Keras 3 stores a lookup layer ---------------------------------------------
    def save_assets(self, dir_path):
        """Write the vocabulary (special tokens first) to ``dir_path/vocabulary.txt``, one
        token a line; nothing when it is in the config (given as ``vocabulary``)."""
        if self.input_vocabulary is not None:
            return
        with open(os.path.join(dir_path, VOCABULARY_FILE), "w", encoding="utf-8") as file:
            file.write("\n".join(str(token) for token in self.get_vocabulary()))

    def load_assets(self, dir_path):
        """Read back what :meth:`save_assets` wrote (the IDF weights come with the weights)."""
        path = os.path.join(dir_path, VOCABULARY_FILE)
        if self.input_vocabulary is not None or not os.path.exists(path):
            return
        with open(path, encoding="utf-8") as file:
            lines = file.read().split("\n")
        self._check_saved_size("vocabulary.txt holds", len(lines), self._frozen_vocab_size)
        tokens = lines[self._token_start_index() :]
        if self.vocabulary_dtype != "string":
            tokens = [int(line) for line in tokens]
        if not tokens:  # saved before adapt
            return
        if self.output_mode == "tf_idf":  # its weights come with the weights
            self._set_tokens([self._token(t) for t in tokens])
        else:
            self.set_vocabulary(tokens)

    def stored_array_names(self):
        """The arrays this layer stores by name beside its weights: "idf_weights" in "tf_idf"
        mode, as Keras does."""
        return ["idf_weights"] if self.output_mode == "tf_idf" else []

    def stored_arrays(self):
        """``{name: array}`` of :meth:`stored_array_names` (none before ``adapt``)."""
        if self.output_mode != "tf_idf" or self.idf_weights is None:
            return {}
        return {"idf_weights": self.idf_weights}

    def load_stored_arrays(self, arrays):
        """Set what :meth:`stored_arrays` gave.

        Raises:
            FileFormatError: IDF weights that are not one float per index.
        """
        if "idf_weights" in arrays:
            weights = np.asarray(arrays["idf_weights"])
            if weights.ndim != 1 or weights.dtype.kind != "f":
                raise FileFormatError(
                    f"{type(self).__name__} {self.name!r}: idf_weights must be a 1-D float "
                    f"array; the file stores shape {weights.shape}, dtype {weights.dtype}"
                )
            padded = self.max_tokens if self.pad_to_max_tokens else self._frozen_vocab_size
            self._check_saved_size("idf_weights holds", len(weights), padded)
            self.idf_weights = weights.astype("float32")

    def _check_saved_size(self, what, count, expected):
        """Refuse a saved vocabulary or IDF weights of another length than the layer's config
        gives (``vocabulary_size``; the IDF weights are padded to ``max_tokens`` when
        ``pad_to_max_tokens``): a file cannot make the layer larger than it says it is."""
        if expected is not None and count != expected:
            raise FileFormatError(
                f"{type(self).__name__} {self.name!r}: the file's {what} {count} entries, "
                f"but the layer's config gives a vocabulary of {expected}"
            )

    def _set_tokens(self, tokens):
        self._tokens = list(tokens)
        self._index = {t: i + self._token_start_index() for i, t in enumerate(self._tokens)}
        self._record_vocabulary_size()

    def _set_idf(self, weights):
        if self.pad_to_max_tokens:
            weights = np.pad(weights, (0, self.max_tokens - len(weights)))
        self.idf_weights = weights.astype("float32")

    def _record_vocabulary_size(self):
        size = self.vocabulary_size()
        frozen = self._frozen_vocab_size
        if (
            self.output_mode != "int"
            and not self.pad_to_max_tokens
            and self.built
            and frozen is not None
            and size != frozen
        ):
            raise RuntimeError(
                f"{type(self).__name__}: with output_mode={self.output_mode!r} and "
                f"pad_to_max_tokens=False, the vocabulary size cannot change after the layer "
                f"is called. Old vocab size is {frozen}, new vocab size is {size}."
            )
        self._frozen_vocab_size = size

    def _token(self, value):
        """A token as the vocabulary holds it: str for strings, int for integers."""
        if self.vocabulary_dtype == "string":
            return value.decode("utf-8") if isinstance(value, bytes) else str(value)
        return int(value)

    # ----- adapt -----------------------------------------------------------------------------
    def reset_state(self):
        """Forget the counts gathered by ``update_state``."""
        self._counts = collections.Counter()
        self._document_counts = collections.Counter()
        self._num_documents = 0

    def update_state(self, data):
        """Count the tokens of one batch (each row of a 2-D batch is a document)."""
        if self._has_input_vocabulary:
            raise ValueError(
                f"{type(self).__name__}: cannot adapt layer '{self.name}' after setting a "
                f"static vocabulary via the `vocabulary` argument or `set_vocabulary()`."
            )
        rows = _documents(to_numpy(data))
        for row in rows:
            tokens = [self._token(t) for t in row]
            self._counts.update(tokens)
            if self.output_mode == "tf_idf":
                self._document_counts.update(set(tokens))
        self._num_documents += len(rows)

    def finalize_state(self):
        """Make the vocabulary from the counts: most frequent first, ties by decreasing token."""
        if self._has_input_vocabulary or not self._counts:
            return
        for special in (self.mask_token, self.oov_token):
            self._counts.pop(special, None)
        ranked = sorted(self._counts.items(), key=lambda item: (item[1], item[0]), reverse=True)
        if self.max_tokens:
            ranked = ranked[: self.max_tokens - self._token_start_index()]
        tokens = [token for token, _ in ranked]
        self._set_tokens(tokens)
        if self.output_mode == "tf_idf":
            documents = np.array([self._document_counts[t] for t in tokens], dtype="float64")
            idf = np.log(1 + self._num_documents / (1 + documents))
            idf = idf.astype("float32").astype("float64")
            self._set_idf(np.concatenate([np.full(self._token_start_index(), idf.mean()), idf]))
        self.reset_state()

    def adapt(self, data, steps=None):
        """Learn the vocabulary from ``data``: an array or list of tokens (a 1-D one is one
        token per document), a Tensor, a ``chainrule.data.Dataset``, a ``PyDataset`` or an
        iterable of batches, at most ``steps`` batches of it."""
        self.reset_state()
        for batch in adapt_batches(type(self).__name__, data, steps):
            if batch.ndim == 1:
                batch = batch[:, None]
            self.update_state(batch)
        self.finalize_state()

    # ----- call ------------------------------------------------------------------------------
    def call(self, inputs):
        """Look up every token of ``inputs``: shape s -> s in "int" mode, else encoded along the
        last axis (see ``encode_categorical``; "tf_idf" is the count times the IDF weights)."""
        inputs = to_numpy(inputs)
        if self.invert:
            return self._invert(inputs)
        kind = type(self).__name__
        if self.output_mode != "int" and not self.pad_to_max_tokens and not self._tokens:
            raise RuntimeError(
                f"{kind}: with output_mode={self.output_mode!r} and pad_to_max_tokens=False, "
                f"set the vocabulary before calling the layer: pass `vocabulary` or call "
                f"`adapt` on sample data."
            )
        inputs = self._checked_input(inputs)
        indices = self.lookup_indices(inputs)
        if self.output_mode == "int":
            return Tensor(indices)
        depth = self.max_tokens if self.pad_to_max_tokens else self.vocabulary_size()
        mode = "count" if self.output_mode == "tf_idf" else self.output_mode
        encoded = encode_categorical(indices, mode, depth, "float32")
        if self.output_mode == "tf_idf":
            if self.idf_weights is None:
                raise ValueError(f"{kind}: in output_mode 'tf_idf' the IDF weights must be set.")
            encoded = encoded * self.idf_weights
        return Tensor(encoded.astype("float32"))

    def lookup_indices(self, inputs):
        """The int64 index of every token of ``inputs`` (an array of any shape); masked tokens
        get 0 in "int" mode and -1 (nothing) in the others."""
        flat = inputs.reshape(-1)
        tokens = [self._token(t) for t in flat]
        unknown = -1
        indices = np.array([self._index.get(t, unknown) for t in tokens], dtype=np.int64)
        oov = indices == unknown
        if self.mask_token is not None:
            masked = np.array([t == self.mask_token for t in tokens], dtype=bool)
            oov &= ~masked
            indices[masked] = 0 if self.output_mode == "int" else -1
        if oov.any():
            if self.num_oov_indices == 0:
                missing = sorted({tokens[i] for i in np.flatnonzero(oov)}, key=str)
                raise ValueError(
                    f"{type(self).__name__}: with num_oov_indices=0 every input must be in the "
                    f"vocabulary; found OOV values {missing}. Set num_oov_indices=1 to map "
                    f"them to an OOV index."
                )
            indices[oov] = self._oov_start_index() + self._oov_buckets(flat[oov])
        return indices.reshape(inputs.shape)

    def _oov_buckets(self, values):
        """The OOV index (from 0) of each unknown value."""
        if self.num_oov_indices == 1:
            return np.zeros(len(values), dtype=np.int64)
        if self.vocabulary_dtype != "string" and self.oov_method == "floormod":
            return np.mod(values.astype(np.int64), self.num_oov_indices)
        strings = [self._token(v) for v in values]
        key = None if self.salt is None else _salt_key(self.salt)
        return hash_buckets([str(s) for s in strings], self.num_oov_indices, key)

    def _checked_input(self, inputs):
        """``inputs`` if their dtype suits the vocabulary; whole-valued floats (a model's float32
        batches of integer features) become int64."""
        if self.vocabulary_dtype == "string":
            if inputs.dtype.kind not in "UO":
                raise TypeError(
                    f"{type(self).__name__}: expected string inputs; received dtype "
                    f"{inputs.dtype}. Pass an array or list of str."
                )
            return inputs
        if inputs.dtype.kind == "f" and np.all(inputs == np.round(inputs)):
            return inputs.astype(np.int64)
        if inputs.dtype.kind not in "iu":
            raise TypeError(
                f"{type(self).__name__}: expected integer inputs; received dtype "
                f"{inputs.dtype}. Cast them with np.asarray(x, dtype='int64')."
            )
        return inputs

    def _invert(self, inputs):
        """Indices back to tokens: an array of str (StringLookup) or a Tensor of ints."""
        vocabulary = self.get_vocabulary()
        flat = np.asarray(inputs).reshape(-1).astype(np.int64)
        tokens = [
            vocabulary[i] if 0 <= i < len(vocabulary) else self.oov_token for i in flat.tolist()
        ]
        if self.mask_token is not None:
            tokens = [self.mask_token if i == 0 else t for i, t in zip(flat.tolist(), tokens)]
        if self.vocabulary_dtype == "string":
            return np.array(tokens, dtype=object).reshape(np.shape(inputs))
        return Tensor(np.array(tokens, dtype=self.vocabulary_dtype).reshape(np.shape(inputs)))

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if self.output_mode == "int":
            return input_shape
        depth = self.max_tokens if self.pad_to_max_tokens else self._frozen_vocab_size
        if self.output_mode == "one_hot":
            if len(input_shape) > 1 and input_shape[-1] == 1:
                return input_shape[:-1] + (depth,)
            return input_shape + (depth,)
        return input_shape[:-1] + (depth,)

    def get_config(self):
        return {
            **super().get_config(),
            "invert": self.invert,
            "max_tokens": self.max_tokens,
            "num_oov_indices": self.num_oov_indices,
            "oov_token": self.oov_token,
            "mask_token": self.mask_token,
            "output_mode": self.output_mode,
            "sparse": self.sparse,
            "pad_to_max_tokens": self.pad_to_max_tokens,
            "vocabulary_dtype": self.vocabulary_dtype,
            "idf_weights": _listify(self.input_idf_weights),
            "vocabulary": _listify(self.input_vocabulary),
            "vocabulary_size": self._frozen_vocab_size,
            "oov_method": self.oov_method,
            "salt": self.salt,
        }


@registry.serializable("keras.layers")
class StringLookup(IndexLookup):
    """Map strings to integer indices from a vocabulary (or, with ``invert=True``, back).

    Indices (``output_mode="int"``): ``[mask_token]`` (if set) at 0, then ``num_oov_indices`` OOV
    indices, then the vocabulary. An unknown token goes to the single OOV index, or with several
    to ``fingerprint64(token) mod num_oov_indices`` (SipHash with a ``salt``), as Keras does.

    Args:
        max_tokens: the most indices the vocabulary may hold (mask and OOV included), or None.
        num_oov_indices: how many indices unknown tokens share (default 1; 0 makes them an
            error).
        mask_token: the token meaning "no token" (index 0), or None (default) for no mask.
        oov_token: the token ``invert`` writes for an OOV index (default "[UNK]").
        vocabulary: the tokens, or a path to a file of one token per line; else ``adapt``.
        idf_weights: the IDF weights, for ``output_mode="tf_idf"`` with a vocabulary.
        invert: map indices to tokens instead (the result is a NumPy array of str).
        output_mode: "int" (default), "one_hot", "multi_hot", "count" or "tf_idf".
        pad_to_max_tokens: in the encoded modes, make the last axis ``max_tokens`` long.
        sparse: must be False (chainrule has no sparse tensors).
        encoding: the text encoding of bytes inputs (default "utf-8").
        salt: a SipHash key (an int or two ints) for hashing unknown tokens.

    Example:
        >>> StringLookup(vocabulary=["a", "b", "c", "d"])([["a", "c", "d"], ["d", "z", "b"]])
        ... # [[1, 3, 4], [4, 0, 2]]
    """

    def __init__(
        self,
        max_tokens=None,
        num_oov_indices=1,
        mask_token=None,
        oov_token="[UNK]",
        vocabulary=None,
        idf_weights=None,
        invert=False,
        output_mode="int",
        pad_to_max_tokens=False,
        sparse=False,
        encoding="utf-8",
        name=None,
        salt=None,
        **kwargs,
    ):
        kwargs.pop("vocabulary_dtype", None)
        kwargs.pop("oov_method", None)  # strings always hash (get_config writes "floormod")
        self.encoding = encoding
        super().__init__(
            max_tokens=max_tokens,
            num_oov_indices=num_oov_indices,
            mask_token=mask_token,
            oov_token=oov_token,
            vocabulary_dtype="string",
            vocabulary=vocabulary,
            idf_weights=idf_weights,
            invert=invert,
            output_mode=output_mode,
            sparse=sparse,
            pad_to_max_tokens=pad_to_max_tokens,
            oov_method="floormod",
            salt=salt,
            name=name,
            **kwargs,
        )

    def get_config(self):
        config = super().get_config()
        del config["vocabulary_dtype"]
        return {**config, "encoding": self.encoding}


@registry.serializable("keras.layers")
class IntegerLookup(IndexLookup):
    """Map integers to contiguous indices from a vocabulary (or, with ``invert=True``, back).

    The layout is :class:`StringLookup`'s. An unknown value v goes to the single OOV index, or
    with several to ``v mod num_oov_indices`` (``oov_method="floormod"``, default) or the
    FarmHash of its decimal string (``"farmhash"``).

    Args:
        max_tokens: as for :class:`StringLookup`, like ``num_oov_indices``, ``vocabulary``,
            ``idf_weights``, ``invert``, ``output_mode``, ``sparse`` and ``pad_to_max_tokens``.
        mask_token: the value meaning "no value" (index 0), or None (default).
        oov_token: the value ``invert`` writes for an OOV index (default -1).
        vocabulary_dtype: "int64" (default) or "int32".
        oov_method: "floormod" (default) or "farmhash".
        salt: a SipHash key for ``oov_method="farmhash"``.

    Example:
        >>> IntegerLookup(vocabulary=[12, 36, 1138, 42])([[12, 1138, 42], [42, 1000, 36]])
        ... # [[1, 3, 4], [4, 0, 2]]
    """

    def __init__(
        self,
        max_tokens=None,
        num_oov_indices=1,
        mask_token=None,
        oov_token=-1,
        vocabulary=None,
        vocabulary_dtype="int64",
        idf_weights=None,
        invert=False,
        output_mode="int",
        sparse=False,
        pad_to_max_tokens=False,
        oov_method="floormod",
        salt=None,
        name=None,
        **kwargs,
    ):
        if vocabulary_dtype not in ("int32", "int64"):
            raise ValueError(
                f"IntegerLookup: `vocabulary_dtype` must be 'int32' or 'int64'. Received: "
                f"vocabulary_dtype={vocabulary_dtype!r}"
            )
        super().__init__(
            max_tokens=max_tokens,
            num_oov_indices=num_oov_indices,
            mask_token=mask_token,
            oov_token=oov_token,
            vocabulary_dtype=vocabulary_dtype,
            vocabulary=vocabulary,
            idf_weights=idf_weights,
            invert=invert,
            output_mode=output_mode,
            sparse=sparse,
            pad_to_max_tokens=pad_to_max_tokens,
            oov_method=oov_method,
            salt=salt,
            name=name,
            **kwargs,
        )

    def get_config(self):
        config = super().get_config()
        if config["vocabulary"] is not None:
            config["vocabulary"] = [int(v) for v in config["vocabulary"]]
        return config


def _documents(batch):
    """A batch as a list of documents (lists of tokens): a row per document, a scalar or 1-D
    batch as one document."""
    if batch.ndim <= 1:
        return [list(batch.reshape(-1))]
    return [list(row.reshape(-1)) for row in batch]


def _salt_key(salt):
    """A SipHash key from Keras's ``salt``: one int k means (k, k)."""
    if isinstance(salt, (list, tuple)) and len(salt) == 2:
        return tuple(int(s) for s in salt)
    if isinstance(salt, int):
        return (salt, salt)
    raise ValueError(f"`salt` must be one integer or two integers; received salt={salt!r}.")


def _read_vocabulary_file(kind, path):
    try:
        with open(path, encoding="utf-8") as file:
            return [line.rstrip("\n") for line in file]
    except FileNotFoundError:
        raise ValueError(f"{kind}: vocabulary file {path} does not exist.") from None


def _listify(value):
    if value is None:
        return None
    if isinstance(value, Tensor):
        value = value.numpy()
    return np.asarray(value).tolist() if not isinstance(value, list) else list(value)


__all__ = ["IndexLookup", "IntegerLookup", "StringLookup"]
