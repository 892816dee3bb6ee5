"""The article's program, imports changed, trains MNIST to Keras's accuracy."""

import pytest


@pytest.mark.slow
def test_article_program_reaches_keras_accuracy_after_10_epochs():
    import chainrule as tf
    from chainrule.keras.layers import Dense
    from chainrule.keras.models import Sequential

    (x_train, y_train), (x_test, y_test) = tf.keras.datasets.mnist.load_data()
    X_train, X_test = x_train.reshape(-1, 784) / 255.0, x_test.reshape(-1, 784) / 255.0
    y_train = tf.keras.utils.to_categorical(y_train, 10)
    y_test = tf.keras.utils.to_categorical(y_test, 10)
    tf.keras.utils.set_random_seed(0)

    model = Sequential(
        [Dense(10, activation="relu", input_shape=(784,)), Dense(10, activation="softmax")]
    )
    model.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(X_train, y_train, epochs=10, verbose=0)

    assert len(history.history["loss"]) == 10
    assert history.history["loss"][-1] < history.history["loss"][0]
    loss, accuracy = model.evaluate(X_test, y_test, verbose=0)
    assert accuracy >= 0.91, accuracy
