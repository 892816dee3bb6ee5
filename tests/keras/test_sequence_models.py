"""Whole models of the sequence and generative layers, trained as keras-io trains them."""

import numpy as np
import pytest

import chainrule.keras as keras
from chainrule.keras import layers

POSITIVE = ["great", "wonderful", "loved", "superb", "moving", "brilliant", "fun", "best"]
NEGATIVE = ["awful", "boring", "hated", "dull", "worst", "terrible", "waste", "bad"]
FILLER = ["the", "film", "a", "plot", "actors", "it", "was", "and", "story", "this", "of"]


def corpus(n, rng):
    """Reviews of filler words with sentiment words sprinkled in; the label is which kind
    outnumbers the other."""
    texts, labels = [], []
    for _ in range(n):
        label = int(rng.integers(0, 2))
        strong = POSITIVE if label else NEGATIVE
        weak = NEGATIVE if label else POSITIVE
        words = list(rng.choice(FILLER, size=int(rng.integers(6, 18))))
        words += list(rng.choice(strong, size=3)) + list(rng.choice(weak, size=1))
        rng.shuffle(words)
        texts.append(" ".join(words).capitalize() + "!")
        labels.append(label)
    return np.array(texts), np.array(labels, dtype="float32")


@pytest.mark.slow
def test_an_imdb_style_sentiment_model_learns_a_generated_corpus():
    """TextVectorization -> Embedding(mask_zero) -> Bidirectional(LSTM) -> Dense, as keras-io's
    text classification examples build it."""
    rng = np.random.default_rng(0)
    keras.utils.set_random_seed(0)
    texts, labels = corpus(1200, rng)
    vectorize = layers.TextVectorization(max_tokens=100, output_sequence_length=24)
    vectorize.adapt(texts)
    tokens = vectorize(texts).numpy()
    model = keras.Sequential(
        [
            keras.Input((24,), dtype="int32"),
            layers.Embedding(100, 16, mask_zero=True),
            layers.Bidirectional(layers.LSTM(12)),
            layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy", metrics=["accuracy"]
    )
    model.fit(tokens[:1000], labels[:1000], epochs=4, batch_size=32, verbose=0)
    _, accuracy = model.evaluate(tokens[1000:], labels[1000:], verbose=0)
    assert accuracy > 0.9


@pytest.mark.slow
def test_a_denoising_convolutional_autoencoder_learns_mnist():
    """keras-io's MNIST denoising autoencoder: Conv2D/MaxPooling2D down, Conv2DTranspose up;
    its loss on held-out noisy digits falls well below the untrained model's."""
    (x_train, _), (x_test, _) = keras.datasets.mnist.load_data()
    rng = np.random.default_rng(0)
    keras.utils.set_random_seed(0)

    def noisy(images):
        clean = images.astype("float32")[..., None] / 255.0
        return np.clip(clean + 0.4 * rng.normal(size=clean.shape), 0, 1).astype("float32"), clean

    x_noisy, x_clean = noisy(x_train[:3000])
    t_noisy, t_clean = noisy(x_test[:500])
    inputs = keras.Input((28, 28, 1))
    h = layers.Conv2D(16, 3, activation="relu", padding="same")(inputs)
    h = layers.MaxPooling2D(2, padding="same")(h)
    h = layers.Conv2D(16, 3, activation="relu", padding="same")(h)
    h = layers.MaxPooling2D(2, padding="same")(h)
    h = layers.Conv2DTranspose(16, 3, strides=2, activation="relu", padding="same")(h)
    h = layers.Conv2DTranspose(16, 3, strides=2, activation="relu", padding="same")(h)
    outputs = layers.Conv2D(1, 3, activation="sigmoid", padding="same")(h)
    autoencoder = keras.Model(inputs, outputs)
    autoencoder.compile(optimizer="adam", loss="binary_crossentropy")
    before = autoencoder.evaluate(t_noisy, t_clean, verbose=0)
    autoencoder.fit(x_noisy, x_clean, epochs=2, batch_size=64, verbose=0)
    after = autoencoder.evaluate(t_noisy, t_clean, verbose=0)
    assert after < 0.6 * before
