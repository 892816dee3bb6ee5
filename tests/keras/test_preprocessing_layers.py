"""Tests for the preprocessing layers: lookups, TextVectorization, Hashing (FarmHash and
SipHash), CategoryEncoding, Discretization, Normalization and Rescaling.

Expected values come from Keras 3's docstring examples (its lookup and hashing layers need
TensorFlow, which the reference environment lacks), from published FarmHash test vectors, or
from Keras 3.15.1 on JAX where the layer runs there (the script is quoted beside the values).
"""

import numpy as np
import pytest

import chainrule as cr
import chainrule.keras as keras
from chainrule.keras.layers import (
    CategoryEncoding,
    Discretization,
    Hashing,
    IntegerLookup,
    Normalization,
    Rescaling,
    StringLookup,
    TextVectorization,
)
from chainrule.keras.layers.preprocessing.fingerprint import fingerprint64, hash_buckets
from chainrule.tf.data import Dataset

MASK = (1 << 64) - 1
VOCAB = ["a", "b", "c", "d"]
DATA = [["a", "c", "d"], ["d", "z", "b"]]
DATA4 = [["a", "c", "d", "d"], ["d", "z", "b", "z"]]


def values(tensor):
    return np.asarray(tensor.numpy())


# ---------------------------------------------------------------- FarmHash / SipHash


def test_fingerprint64_published_vectors():
    # Guava's FarmHashFingerprint64Test, testReallySimpleFingerprints.
    assert fingerprint64(b"test") == 8581389452482819506
    assert fingerprint64(b"test" * 8) == -4196240717365766262 & MASK
    assert fingerprint64(b"test" * 64) == 3500507768004279527
    assert fingerprint64(b"") == 0x9AE16A3B2F90404F
    # The self-check of FarmHash users: Fingerprint64("1") % 100 == 49, "2" -> 59, "3" -> 21.
    assert [fingerprint64(s) % 100 for s in "123"] == [49, 59, 21]


def test_fingerprint64_every_length_up_to_3200_bytes():
    # Guava's testMultipleLengths: a running hash over prefixes of a self-modifying buffer,
    # matching FarmHash's C++ reference on every length class (0-16, 17-32, 33-64, > 64).
    buf, size, h = bytearray(3200), 0, 0

    def step(h, length):
        h ^= fingerprint64(bytes(buf[:length]))
        h ^= h >> 41
        return (h * 949921979) & MASK

    for i in range(800):
        h = step(h, i)
        buf[size] = ord("a") + (h & 0xFFFFF) % 26
        size += 1
        h = step(h, (i * i) % size)
        buf[size] = ord("a") + (h & 0xFFFFF) % 26
        size += 1
        h = step(h, (i * i * i) % size)
        buf[size] = ord("a") + (h & 0xFFFFF) % 26
        size += 1
        h = step(h, size)
        buf[size] = ord("a") + (h & 0xFFFFF) % 26
        size += 1
        x0, x1, x2, x3 = buf[size - 1], buf[size - 2], buf[size - 3], buf[size // 2]
        buf[((x0 << 16) + (x1 << 8) + x2) % size] ^= x3
        buf[((x1 << 16) + (x2 << 8) + x3) % size] ^= i % 256
    assert h == 0x7A1D67C50EC7E167


def test_hash_buckets_match_tensorflow():
    # tf.strings.to_hash_bucket_fast(["Hello", "TensorFlow", "2.x"], 3) -> [0, 2, 2]
    assert hash_buckets(["Hello", "TensorFlow", "2.x"], 3).tolist() == [0, 2, 2]
    assert hash_buckets(np.array([b"Hello"]), 3).tolist() == [0]


# ---------------------------------------------------------------- Hashing


def test_hashing_docstring_examples():
    inputs = [["A"], ["B"], ["C"], ["D"], ["E"]]
    out = Hashing(num_bins=3)(inputs)
    assert out.dtype == np.int64
    assert values(out).ravel().tolist() == [1, 0, 1, 1, 2]
    masked = Hashing(num_bins=3, mask_value="")([["A"], ["B"], [""], ["C"], ["D"]])
    assert values(masked).ravel().tolist() == [1, 1, 0, 2, 2]
    assert values(Hashing(num_bins=3, salt=[133, 137])(inputs)).ravel().tolist() == [1, 2, 1, 0, 2]
    salted = Hashing(num_bins=3, salt=133)
    assert values(salted(inputs)).ravel().tolist() == [0, 0, 2, 1, 0]
    assert salted.get_config()["salt"] == [133, 133]


def test_hashing_integers_hash_their_decimal_strings():
    ints = np.array([[1], [2], [3], [12]])
    expected = hash_buckets(["1", "2", "3", "12"], 100).tolist()
    assert values(Hashing(num_bins=100)(ints)).ravel().tolist() == expected
    floats = np.array([[1.7], [2.2], [3.0], [12.9]])  # truncated to integers first
    assert values(Hashing(num_bins=100)(floats)).ravel().tolist() == expected


def test_hashing_encoded_modes_and_errors():
    out = Hashing(num_bins=3, output_mode="one_hot")([["A"], ["B"]])
    assert values(out).tolist() == [[0, 1, 0], [1, 0, 0]]
    assert out.dtype == np.float32
    counts = Hashing(num_bins=3, output_mode="count")([["A", "C", "E"]])
    assert values(counts).tolist() == [[0, 2, 1]]
    with pytest.raises(ValueError, match="num_bins"):
        Hashing(num_bins=0)
    with pytest.raises(ValueError, match="output_mode"):
        Hashing(num_bins=3, output_mode="tf_idf")
    with pytest.raises(ValueError, match="salt"):
        Hashing(num_bins=3, salt="x")


# ---------------------------------------------------------------- StringLookup


def test_string_lookup_docstring_examples():
    assert values(StringLookup(vocabulary=VOCAB)(DATA)).tolist() == [[1, 3, 4], [4, 0, 2]]
    layer = StringLookup()
    layer.adapt(DATA)
    assert layer.get_vocabulary() == ["[UNK]", "d", "z", "c", "b", "a"]
    assert values(layer(DATA)).tolist() == [[5, 3, 1], [1, 2, 4]]
    two_oov = StringLookup(vocabulary=VOCAB, num_oov_indices=2)
    assert values(two_oov([["a", "c", "d"], ["m", "z", "b"]])).tolist() == [[2, 4, 5], [0, 1, 3]]
    one_hot = StringLookup(vocabulary=VOCAB, output_mode="one_hot")(["a", "b", "c", "d", "z"])
    assert values(one_hot).tolist() == np.eye(5)[[1, 2, 3, 4, 0]].tolist()
    multi = StringLookup(vocabulary=VOCAB, output_mode="multi_hot")(DATA4)
    assert values(multi).tolist() == [[0, 1, 0, 1, 1], [1, 0, 1, 0, 1]]
    count = StringLookup(vocabulary=VOCAB, output_mode="count")(DATA4)
    assert values(count).tolist() == [[0, 1, 0, 1, 2], [2, 0, 1, 0, 1]]


def test_string_lookup_tf_idf():
    layer = StringLookup(output_mode="tf_idf")
    layer.set_vocabulary(VOCAB, idf_weights=[0.25, 0.75, 0.6, 0.4])
    np.testing.assert_allclose(
        values(layer(DATA4)), [[0, 0.25, 0, 0.6, 0.8], [1.0, 0, 0.75, 0, 0.4]], rtol=1e-6
    )
    layer = StringLookup(output_mode="tf_idf")
    layer.set_vocabulary(["[UNK]"] + VOCAB, idf_weights=[0.9, 0.25, 0.75, 0.6, 0.4])
    np.testing.assert_allclose(
        values(layer(DATA4)), [[0, 0.25, 0, 0.6, 0.8], [1.8, 0, 0.75, 0, 0.4]], rtol=1e-6
    )


def test_string_lookup_adapt_tf_idf_weights():
    # idf = log(1 + num_documents / (1 + document_count)); OOV gets the mean.
    layer = StringLookup(output_mode="tf_idf")
    layer.adapt([["a", "b"], ["a", "a"], ["c", "a"]])
    assert layer.get_vocabulary() == ["[UNK]", "a", "c", "b"]
    idf = np.log(1 + 3 / (1 + np.array([3.0, 1.0, 1.0])))
    out = values(layer([["a", "a", "x"]]))
    np.testing.assert_allclose(out, [[idf.mean(), 2 * idf[0], 0, 0]], rtol=1e-6)


def test_string_lookup_invert_round_trip():
    ids = StringLookup(vocabulary=VOCAB)(DATA)
    words = StringLookup(vocabulary=VOCAB, invert=True)(ids)
    assert words.tolist() == [["a", "c", "d"], ["d", "[UNK]", "b"]]
    masked = StringLookup(vocabulary=VOCAB, mask_token="[MASK]", invert=True)
    assert masked([[0, 1, 2]]).tolist() == [["[MASK]", "[UNK]", "a"]]


def test_string_lookup_mask_and_max_tokens():
    layer = StringLookup(vocabulary=VOCAB, mask_token="")
    assert layer.get_vocabulary()[:2] == ["", "[UNK]"]
    assert values(layer([["a", "", "z"]])).tolist() == [[2, 0, 1]]
    multi = StringLookup(vocabulary=VOCAB, mask_token="", output_mode="multi_hot")
    assert values(multi([["a", "", ""]])).tolist() == [[0, 1, 0, 0, 0]]  # no mask index here
    capped = StringLookup(max_tokens=3)
    capped.adapt([["x", "y", "y", "z", "z", "z"]])
    assert capped.get_vocabulary() == ["[UNK]", "z", "y"]
    padded = StringLookup(max_tokens=8, pad_to_max_tokens=True, output_mode="multi_hot")
    padded.adapt([["x", "y"]])
    assert values(padded([["x"]])).shape == (1, 8)


def test_string_lookup_vocabulary_file(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text("a\nb\nc\nd\n")
    assert values(StringLookup(vocabulary=str(path))(DATA)).tolist() == [[1, 3, 4], [4, 0, 2]]


def test_string_lookup_errors():
    with pytest.raises(ValueError, match="repeats the terms \\['a'\\]"):
        StringLookup(vocabulary=["a", "b", "a"])
    with pytest.raises(ValueError, match="mask token"):
        StringLookup(vocabulary=["a", "", "b"], mask_token="")
    with pytest.raises(ValueError, match="max_tokens=3"):
        StringLookup(vocabulary=VOCAB, max_tokens=3)
    with pytest.raises(ValueError, match="after setting a static vocabulary"):
        StringLookup(vocabulary=VOCAB).adapt(DATA)
    with pytest.raises(ValueError, match="OOV values \\['z'\\]"):
        StringLookup(vocabulary=VOCAB, num_oov_indices=0)(DATA)
    with pytest.raises(RuntimeError, match="set the vocabulary"):
        StringLookup(output_mode="multi_hot")(DATA)
    with pytest.raises(TypeError, match="expected string inputs"):
        StringLookup(vocabulary=VOCAB)(np.array([1, 2]))
    with pytest.raises(ValueError, match="idf_weights"):
        StringLookup(vocabulary=VOCAB, output_mode="tf_idf")
    with pytest.raises(ValueError, match="output_mode"):
        StringLookup(output_mode="binary")


def test_string_lookup_config_round_trip():
    layer = StringLookup(vocabulary=VOCAB, num_oov_indices=2, mask_token="[M]", name="look")
    config = layer.get_config()
    assert config["vocabulary"] == VOCAB
    assert config["oov_token"] == "[UNK]" and config["encoding"] == "utf-8"
    assert config["vocabulary_size"] == 7 and "vocabulary_dtype" not in config
    clone = StringLookup.from_config(config)
    assert values(clone(DATA)).tolist() == values(layer(DATA)).tolist()


def test_lookup_adapt_sources():
    batches = [np.array([["a", "b"], ["b", "c"]]), np.array([["b", "c"]])]

    class Batches(keras.utils.PyDataset):
        def __len__(self):
            return 2

        def __getitem__(self, index):
            return batches[index]

    expected = ["[UNK]", "b", "c", "a"]
    for source in (iter(batches), Batches(), np.concatenate(batches)):
        layer = StringLookup()
        layer.adapt(source)
        assert layer.get_vocabulary() == expected
    ints = IntegerLookup()
    ints.adapt(Dataset.from_tensor_slices(np.array([3, 3, 4, 7, 7, 7])).batch(2))
    assert ints.get_vocabulary() == [-1, 7, 3, 4]
    stepped = IntegerLookup()
    stepped.adapt(Dataset.from_tensor_slices(np.array([3, 3, 4, 7])).batch(2), steps=1)
    assert stepped.get_vocabulary() == [-1, 3]


# ---------------------------------------------------------------- IntegerLookup


def test_integer_lookup_docstring_examples():
    vocab = [12, 36, 1138, 42]
    data = [[12, 1138, 42], [42, 1000, 36]]
    assert values(IntegerLookup(vocabulary=vocab)(data)).tolist() == [[1, 3, 4], [4, 0, 2]]
    layer = IntegerLookup()
    layer.adapt(data)
    assert layer.get_vocabulary() == [-1, 42, 1138, 1000, 36, 12]
    assert values(layer(data)).tolist() == [[5, 2, 1], [1, 3, 4]]
    two_oov = IntegerLookup(vocabulary=vocab, num_oov_indices=2)
    assert values(two_oov([[12, 1138, 42], [37, 1000, 36]])).tolist() == [[2, 4, 5], [1, 0, 3]]
    masked = IntegerLookup(vocabulary=vocab, mask_token=0)
    assert values(masked([[12, 0, 7]])).tolist() == [[2, 0, 1]]
    inverse = IntegerLookup(vocabulary=vocab, invert=True)([[1, 3, 4], [4, 0, 2]])
    assert values(inverse).tolist() == [[12, 1138, 42], [42, -1, 36]]
    assert IntegerLookup(vocabulary=vocab).get_config()["vocabulary"] == vocab


def test_integer_lookup_farmhash_oov():
    layer = IntegerLookup(vocabulary=[1, 2], num_oov_indices=3, oov_method="farmhash")
    expected = (hash_buckets(["7", "1000"], 3) + 0).tolist()
    assert values(layer([7, 1000])).tolist() == expected
    with pytest.raises(TypeError, match="expected integer inputs"):
        IntegerLookup(vocabulary=[1, 2])(["a"])


# ---------------------------------------------------------------- TextVectorization


def test_text_vectorization_docstring_examples():
    layer = TextVectorization(max_tokens=5000, output_mode="int", output_sequence_length=4)
    layer.adapt(["foo bar", "bar baz", "baz bada boom"])
    out = layer([["foo qux bar"], ["qux baz"]])
    assert out.dtype == np.int64
    assert values(out).tolist() == [[4, 1, 3, 0], [1, 2, 0, 0]]
    fixed = TextVectorization(
        max_tokens=5000, output_sequence_length=4, vocabulary=["earth", "wind", "and", "fire"]
    )
    out = fixed([["earth wind and also fire"], ["fire and earth"]])
    assert values(out).tolist() == [[2, 3, 4, 1], [5, 4, 2, 0]]


def test_text_vectorization_standardize_and_split():
    text = ["Hello, World! It's a-test."]
    tokens = {
        "lower_and_strip_punctuation": ["hello", "world", "its", "atest"],
        "lower": ["hello,", "world!", "it's", "a-test."],
        "strip_punctuation": ["Hello", "World", "Its", "atest"],
        None: ["Hello,", "World!", "It's", "a-test."],
    }
    for standardize, expected in tokens.items():
        layer = TextVectorization(standardize=standardize)
        layer.adapt(text)
        assert sorted(layer.get_vocabulary(False)) == sorted(expected)
    chars = TextVectorization(split="character", standardize=None)
    chars.adapt(["abca"])
    assert chars.get_vocabulary() == ["", "[UNK]", "a", "c", "b"]
    assert values(chars(["cab", "a"])).tolist() == [[3, 2, 4], [2, 0, 0]]
    whole = TextVectorization(split=None)
    whole.adapt(["New York", "new york", "Paris"])
    assert whole.get_vocabulary() == ["", "[UNK]", "new york", "paris"]


def test_text_vectorization_callables():
    def upper(strings):
        return np.char.upper(strings.astype(str))

    def on_commas(strings):
        return [str(s).split(",") for s in strings]

    layer = TextVectorization(standardize=upper, split=on_commas)
    layer.adapt(["a,b", "b,c"])
    assert layer.get_vocabulary() == ["", "[UNK]", "B", "C", "A"]
    assert values(layer(["c,a,x"])).tolist() == [[3, 4, 1]]


def test_text_vectorization_ngrams_and_modes():
    layer = TextVectorization(ngrams=2)
    layer.adapt(["a b c"])
    assert sorted(layer.get_vocabulary(False)) == ["a", "a b", "b", "b c", "c"]
    # widths in turn: the 1-grams, then the 2-grams
    vocab = layer.get_vocabulary()
    expected = [vocab.index(t) for t in ["b", "c", "b c"]]
    assert values(layer(["b c"])).tolist() == [expected]
    multi = TextVectorization(output_mode="multi_hot", vocabulary=["x", "y"])
    assert values(multi(["y y z", "x"])).tolist() == [[1, 0, 1], [0, 1, 0]]
    count = TextVectorization(output_mode="count", vocabulary=["x", "y"])
    assert values(count(["y y z", ""])).tolist() == [[1, 0, 2], [0, 0, 0]]
    padded = TextVectorization(output_mode="count", max_tokens=6, pad_to_max_tokens=True)
    padded.adapt(["x y"])
    assert values(padded(["x"])).shape == (1, 6)
    tfidf = TextVectorization(output_mode="tf_idf")
    tfidf.adapt(["x y", "x"])
    idf = np.log(1 + 2 / (1 + np.array([2.0, 1.0])))
    np.testing.assert_allclose(values(tfidf(["x x"])), [[0, 2 * idf[0], 0]], rtol=1e-6)


def test_text_vectorization_adapt_dataset_and_truncation():
    text = np.array(["the cat", "the dog", "the end"], dtype=object)

    class Batches(keras.utils.PyDataset):
        def __len__(self):
            return 2

        def __getitem__(self, index):
            return text[index * 2 : index * 2 + 2]

    layer = TextVectorization(max_tokens=4, output_sequence_length=1)
    layer.adapt(Batches())
    assert layer.get_vocabulary() == ["", "[UNK]", "the", "end"]
    assert values(layer(["end the the"])).tolist() == [[3]]


def test_text_vectorization_config_and_errors():
    layer = TextVectorization(max_tokens=10, ngrams=(1, 3), output_sequence_length=5)
    config = layer.get_config()
    assert config["ngrams"] == (1, 3) and config["standardize"] == "lower_and_strip_punctuation"
    assert config["split"] == "whitespace" and config["vocabulary_size"] == 2
    assert TextVectorization.from_config(config).get_config()["output_sequence_length"] == 5
    with pytest.raises(ValueError, match="output_sequence_length"):
        TextVectorization(output_mode="count", output_sequence_length=3)
    with pytest.raises(ValueError, match="standardize"):
        TextVectorization(standardize="upper")
    with pytest.raises(ValueError, match="ngrams"):
        TextVectorization(ngrams=0)
    with pytest.raises(ValueError, match="last dimension must be 1"):
        TextVectorization(vocabulary=["a"])([["a", "b"]])
    with pytest.raises(TypeError, match="expected strings"):
        TextVectorization(vocabulary=["a"])(np.array([1.0]))


def test_text_vectorization_feeds_a_trainable_model():
    vectorize = TextVectorization(max_tokens=20, output_mode="multi_hot")
    texts = ["good movie", "bad movie", "good film", "bad film"] * 4
    labels = np.array([1, 0, 1, 0] * 4, dtype="float32")
    vectorize.adapt(texts)
    x = values(vectorize(texts))
    model = keras.Sequential([keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.Adam(0.1), loss="binary_crossentropy")
    model.fit(x, labels, epochs=30, verbose=0)
    assert (values(model(x)).ravel() > 0.5).tolist() == [True, False, True, False] * 4


# ---------------------------------------------------------------- CategoryEncoding


def test_category_encoding_values():
    # Keras 3.15.1 (JAX):
    #   CategoryEncoding(num_tokens=4, output_mode="count")(np.array([[0, 1], [0, 0], [1, 2],
    #   [3, 1]])) -> [[1,1,0,0],[2,0,0,0],[0,1,1,0],[0,1,0,1]]
    #   ... count_weights=[[.1,.2],[.1,.1]] on [[0,1],[0,0]] -> [[.1,.2,0,0],[.2,0,0,0]]
    #   CategoryEncoding(num_tokens=4, output_mode="multi_hot")(np.array([3,2,0,1])) -> [1,1,1,1]
    count = CategoryEncoding(num_tokens=4, output_mode="count")
    assert values(count([[0, 1], [0, 0], [1, 2], [3, 1]])).tolist() == [
        [1, 1, 0, 0],
        [2, 0, 0, 0],
        [0, 1, 1, 0],
        [0, 1, 0, 1],
    ]
    weighted = count([[0, 1], [0, 0]], count_weights=[[0.1, 0.2], [0.1, 0.1]])
    np.testing.assert_allclose(values(weighted), [[0.1, 0.2, 0, 0], [0.2, 0, 0, 0]], rtol=1e-6)
    assert values(CategoryEncoding(num_tokens=4)(np.array([3, 2, 0, 1]))).tolist() == [1, 1, 1, 1]
    one_hot = CategoryEncoding(num_tokens=4, output_mode="one_hot")([3, 2, 0, 1])
    assert values(one_hot).tolist() == np.eye(4)[[3, 2, 0, 1]].tolist()
    assert CategoryEncoding(num_tokens=4, output_mode="binary").output_mode == "multi_hot"
    config = CategoryEncoding(num_tokens=4, name="enc").get_config()
    assert config["num_tokens"] == 4 and config["output_mode"] == "multi_hot"


def test_category_encoding_errors():
    with pytest.raises(ValueError, match="num_tokens must be set"):
        CategoryEncoding()
    with pytest.raises(ValueError, match=r"inputs must be in \[0, 4\)"):
        CategoryEncoding(num_tokens=4)([[0, 4]])
    with pytest.raises(ValueError, match="count_weights"):
        CategoryEncoding(num_tokens=4)([[0, 1]], count_weights=[[1.0, 1.0]])


# ---------------------------------------------------------------- Discretization


def test_discretization_adapt_matches_keras():
    # Keras 3.15.1 (JAX); adapt() needs TensorFlow there, so the same steps by hand:
    #   d = keras.layers.Discretization(num_bins=4, epsilon=0.01)
    #   d.reset_state(); d.update_state(x); d.finalize_state()
    #   x = [[-1.5, 1.0, 3.4, .5], [0.0, 3.0, 1.3, 0.0]]
    #   -> bin_boundaries [0.0, 0.5, 1.2999999523162842], d(x) = [[0,2,3,2],[1,3,3,1]] int32
    #   r = np.random.default_rng(0).normal(size=(50, 3)).astype("float32") * 2 + 1
    #   num_bins=5, epsilon=0.1 -> [-0.48699861764907837, 0.6815498471260071,
    #                               1.710745096206665, 2.8701000213623047]
    #   num_bins=3, epsilon=0.05, update_state(r[:20]), update_state(r[20:])
    #   -> [0.1729867160320282, 1.9561740159988403]
    x = np.array([[-1.5, 1.0, 3.4, 0.5], [0.0, 3.0, 1.3, 0.0]])
    layer = Discretization(num_bins=4, epsilon=0.01)
    layer.adapt(x)
    np.testing.assert_allclose(layer.bin_boundaries, [0.0, 0.5, 1.2999999523162842])
    out = layer(x)
    assert out.dtype == np.int32
    assert values(out).tolist() == [[0, 2, 3, 2], [1, 3, 3, 1]]
    r = np.random.default_rng(0).normal(size=(50, 3)).astype("float32") * 2 + 1
    layer = Discretization(num_bins=5, epsilon=0.1)
    layer.adapt(r)
    np.testing.assert_allclose(
        layer.bin_boundaries,
        [-0.48699861764907837, 0.6815498471260071, 1.710745096206665, 2.8701000213623047],
        rtol=1e-6,
    )
    batched = Discretization(num_bins=3, epsilon=0.05)
    batched.adapt([r[:20], r[20:]])
    np.testing.assert_allclose(
        batched.bin_boundaries, [0.1729867160320282, 1.9561740159988403], rtol=1e-6
    )


def test_discretization_modes_config_and_errors():
    # Keras: Discretization(bin_boundaries=[0., 1.], output_mode="count")([[-1., .5, 2., 3.]])
    #        -> [[1.0, 1.0, 2.0]]
    counts = Discretization(bin_boundaries=[0.0, 1.0], output_mode="count")
    assert values(counts([[-1.0, 0.5, 2.0, 3.0]])).tolist() == [[1, 1, 2]]
    # Keras: Discretization(num_bins=4).get_config()
    assert Discretization(num_bins=4, name="d").get_config() == {
        "bin_boundaries": None,
        "num_bins": 4,
        "epsilon": 0.01,
        "output_mode": "int",
        "sparse": False,
        "name": "d",
        "dtype": "float32",
    }
    adapted = Discretization(num_bins=2)
    adapted.adapt(np.arange(10.0))
    clone = Discretization.from_config(adapted.get_config())
    assert clone.bin_boundaries == adapted.bin_boundaries
    with pytest.raises(ValueError, match="not both"):
        Discretization(bin_boundaries=[0.0], num_bins=2)
    with pytest.raises(ValueError, match="either"):
        Discretization()
    with pytest.raises(ValueError, match="adapt"):
        Discretization(bin_boundaries=[1.0]).adapt(np.zeros(3))


# ---------------------------------------------------------------- Normalization, Rescaling


R = np.random.default_rng(0).normal(size=(50, 3)).astype("float32") * 2 + 1


def test_normalization_adapt_matches_keras():
    # Keras 3.15.1 (JAX): n = keras.layers.Normalization(); n.adapt(R); n(R[:2]) ->
    expected = [
        [0.2928018569946289, -0.26704543828964233, 0.40367981791496277],
        [0.2739751935005188, -0.7534253001213074, 0.07514405250549316],
    ]
    layer = Normalization()
    layer.adapt(R)
    np.testing.assert_allclose(values(layer(R[:2])), expected, rtol=1e-5, atol=1e-6)
    assert layer.count.numpy() == 50
    batched = Normalization()
    batched.adapt(Dataset.from_tensor_slices(R).batch(7))  # merged batch statistics
    np.testing.assert_allclose(values(batched(R[:2])), expected, rtol=1e-4, atol=1e-5)
    whole = Normalization(axis=None)
    whole.adapt(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(values(whole(np.array([1.0, 2.0, 3.0]))), [-1.2247448, 0, 1.2247448])


def test_normalization_given_statistics_invert_and_config():
    # Keras: Normalization(axis=None, mean=2., variance=4., invert=True)([[1., -1.]]) -> [[4, 0]]
    layer = Normalization(axis=None, mean=2.0, variance=4.0, invert=True, name="n")
    assert values(layer(np.array([[1.0, -1.0]]))).tolist() == [[4.0, 0.0]]
    config = layer.get_config()
    assert config["axis"] == () and config["mean"] == 2.0 and config["variance"] == 4.0
    per_feature = Normalization(mean=[1.0, 2.0], variance=[1.0, 4.0])
    assert values(per_feature(np.array([[2.0, 4.0]]))).tolist() == [[1.0, 1.0]]
    with pytest.raises(ValueError, match="both `mean` and `variance`"):
        Normalization(mean=1.0)
    layer = Normalization()
    layer.adapt(R)
    with pytest.raises(ValueError, match="incompatible shape"):
        layer.adapt(np.zeros((4, 5)))


def test_normalization_and_rescaling_gradients():
    layer = Normalization(mean=[1.0, 2.0], variance=[4.0, 9.0], dtype="float64")
    x = np.random.default_rng(1).normal(size=(3, 2))
    assert cr.gradcheck(lambda t: layer(t), x) < 1e-6
    rescale = Rescaling(scale=[0.5, -2.0], offset=1.0, dtype="float64")
    assert cr.gradcheck(lambda t: rescale(t), x) < 1e-6
    inverse = Normalization(axis=None, mean=1.0, variance=4.0, invert=True, dtype="float64")
    assert cr.gradcheck(lambda t: inverse(t), x) < 1e-6


def test_rescaling():
    out = Rescaling(scale=1.0 / 255, offset=-1)(np.array([[0, 255]], dtype=np.uint8))
    assert out.dtype == np.float32
    np.testing.assert_allclose(values(out), [[-1.0, 0.0]], atol=1e-7)
    # Keras: Rescaling(scale=1/255., offset=-1).get_config() -> scale 0.00392156862745098, offset -1
    config = Rescaling(scale=1 / 255.0, offset=-1).get_config()
    assert config["scale"] == 0.00392156862745098 and config["offset"] == -1


def test_layers_work_inside_a_model():
    norm = Normalization()
    norm.adapt(R)
    inputs = keras.Input(shape=(3,))
    outputs = keras.layers.Dense(1)(Rescaling(2.0)(norm(inputs)))
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="sgd", loss="mse")
    history = model.fit(R, R[:, :1], epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()


# ---------------------------------------------------------------- Resizing, CenterCrop

# Keras 3.15.1 (JAX), on x = np.arange(70, dtype="float32").reshape(1, 5, 7, 2) ** 1.5 and
# u = (np.arange(35).reshape(1, 5, 7, 1) * 7).astype("uint8"):
IMAGE = np.arange(70, dtype="float32").reshape(1, 5, 7, 2) ** 1.5
UINT8 = (np.arange(35).reshape(1, 5, 7, 1) * 7).astype("uint8")


def test_resizing_matches_keras():
    # keras.layers.Resizing(3, 4)(x)[0, :, :, 1]
    out = keras.layers.Resizing(3, 4)(IMAGE)
    assert out.dtype == np.float32 and out.shape == (1, 3, 4, 2)
    np.testing.assert_allclose(
        values(out)[0, :, :, 1],
        [
            [22.580400466918945, 36.230499267578125, 53.475101470947266, 73.50409698486328],
            [162.33140563964844, 191.75709533691406, 222.8123016357422, 255.41319274902344],
            [389.0827941894531, 427.8565979003906, 467.8848876953125, 509.12811279296875],
        ],
        rtol=1e-5,
    )
    # keras.layers.Resizing(3, 4, interpolation="nearest", crop_to_aspect_ratio=True)(x)[0,:,:,0]
    nearest = keras.layers.Resizing(3, 4, interpolation="nearest", crop_to_aspect_ratio=True)
    np.testing.assert_allclose(
        values(nearest(IMAGE))[0, :, :, 0],
        [
            [0.0, 8.0, 14.696938514709473, 31.62277603149414],
            [148.1620635986328, 181.0193328857422, 198.2523651123047, 234.24774169921875],
            [419.06561279296875, 464.75799560546875, 488.1885070800781, 536.1865234375],
        ],
        rtol=1e-5,
    )
    # keras.layers.Resizing(3, 4)(u): uint8 in, uint8 out
    out = keras.layers.Resizing(3, 4)(UINT8)
    assert out.dtype == np.uint8
    assert values(out)[0, :, :, 0].tolist() == [
        [19, 31, 43, 56],
        [101, 113, 125, 137],
        [182, 195, 207, 219],
    ]
    config = keras.layers.Resizing(3, 4, name="r").get_config()
    assert {k: config[k] for k in ("height", "width", "interpolation", "data_format")} == {
        "height": 3,
        "width": 4,
        "interpolation": "bilinear",
        "data_format": "channels_last",
    }
    with pytest.raises(ValueError, match="interpolation"):
        keras.layers.Resizing(3, 4, interpolation="area")


def test_center_crop_matches_keras():
    # keras.layers.CenterCrop(3, 3)(x)[0, :, :, 0]
    out = keras.layers.CenterCrop(3, 3)(IMAGE)
    np.testing.assert_allclose(
        values(out)[0, :, :, 0],
        [
            [76.3675308227539, 89.44271850585938, 103.18914794921875],
            [181.0193328857422, 198.2523651123047, 216.0],
            [311.9871826171875, 332.55377197265625, 353.55340576171875],
        ],
        rtol=1e-6,
    )
    # keras.layers.CenterCrop(4, 3)(x[:, :3, :5]): smaller than the window, so resized
    small = keras.layers.CenterCrop(4, 3)(IMAGE[:, :3, :5])
    assert small.shape == (1, 4, 3, 2)
    np.testing.assert_allclose(
        values(small)[0, :, :, 0],
        [
            [2.828399896621704, 5.4141998291015625, 8.0],
            [41.060699462890625, 45.895198822021484, 50.729698181152344],
            [101.6187973022461, 108.61540222167969, 115.61199951171875],
            [164.31680297851562, 172.66799926757812, 181.01930236816406],
        ],
        rtol=1e-5,
    )
    # keras.layers.CenterCrop(2, 2)(u) -> float32 [[63, 70], [112, 119]]
    out = keras.layers.CenterCrop(2, 2)(UINT8)
    assert out.dtype == np.float32 and values(out)[0, :, :, 0].tolist() == [[63, 70], [112, 119]]
    first = keras.layers.CenterCrop(2, 3, data_format="channels_first")
    assert first(np.zeros((1, 2, 5, 7), "float32")).shape == (1, 2, 2, 3)
    with pytest.raises(ValueError, match="rank 3"):
        keras.layers.CenterCrop(2, 2)(np.zeros((4, 4), "float32"))


def test_image_layers_gradients():
    x = np.random.default_rng(2).normal(size=(1, 4, 5, 2))
    resize = keras.layers.Resizing(3, 2, dtype="float64")
    assert cr.gradcheck(lambda t: resize(t), x) < 1e-6
    crop = keras.layers.CenterCrop(2, 3, dtype="float64")
    assert cr.gradcheck(lambda t: crop(t), x) < 1e-6


def test_lookup_and_encoding_in_a_functional_model():
    inputs = keras.Input((3,))
    counts = CategoryEncoding(num_tokens=5, output_mode="count")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(1)(counts))
    model.compile(optimizer="sgd", loss="mse")
    x = np.random.default_rng(0).integers(0, 5, (16, 3))
    assert np.isfinite(model.fit(x, np.ones((16, 1)), epochs=2, verbose=0).history["loss"]).all()
    ids = keras.Input((2,))
    lookup = keras.Model(ids, IntegerLookup(vocabulary=[3, 5, 7])(ids))
    assert np.asarray(lookup.predict(np.array([[3, 9], [7, 5]]), verbose=0)).tolist() == [
        [1, 0],
        [3, 2],
    ]


def test_adapted_layers_survive_save_and_load(tmp_path):
    norm = Normalization()
    norm.adapt(R)
    bins = Discretization(num_bins=3)
    bins.adapt(R)
    model = keras.Sequential([keras.Input((3,)), norm, Rescaling(2.0), bins])
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert loaded.layers[0].count.numpy() == 50
    assert loaded.layers[2].bin_boundaries == bins.bin_boundaries
    assert values(loaded(R[:8])).tolist() == values(model(R[:8])).tolist()
