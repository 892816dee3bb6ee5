"""The reader's next network: 784-128-64-10 with Adam, BatchNormalization and Dropout, 3 epochs
on MNIST, reaching at least 96% test accuracy."""

import pytest


@pytest.mark.slow
def test_adam_batchnorm_dropout_network_reaches_96_percent_in_3_epochs(capsys):
    from chainrule import keras
    from chainrule.keras.layers import Activation, BatchNormalization, Dense, Dropout
    from chainrule.keras.models import Sequential

    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    x_train = x_train.reshape(-1, 784).astype("float32") / 255.0
    x_test = x_test.reshape(-1, 784).astype("float32") / 255.0
    keras.utils.set_random_seed(0)

    model = Sequential(
        [
            keras.Input(shape=(784,)),
            Dense(128),
            BatchNormalization(),
            Activation("relu"),
            Dropout(0.2),
            Dense(64),
            BatchNormalization(),
            Activation("relu"),
            Dropout(0.2),
            Dense(10, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train, y_train, epochs=3, batch_size=64, verbose=2)
    assert capsys.readouterr().out.count("938/938") == 3  # Keras's verbose=2 line per epoch
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)

    assert model.count_params() == (784 * 128 + 128) + 4 * 128 + (128 * 64 + 64) + 4 * 64 + (
        64 * 10 + 10
    )
    losses = history.history["loss"]
    assert losses[0] > losses[1] > losses[2]
    assert accuracy >= 0.96, f"test loss {loss:.4f}, test accuracy {accuracy:.4f}"
