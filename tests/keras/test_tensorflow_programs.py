"""TensorFlow programs run on chainrule with ``import tensorflow as tf`` changed to
``import chainrule as tf``: the official beginner quickstart, and a custom training loop in the
style of the guide "Writing a training loop from scratch" (a GradientTape per batch)."""

import numpy as np
import pytest


@pytest.mark.slow
def test_tensorflow_beginner_quickstart_reaches_its_accuracy(capsys):
    # tensorflow.org/tutorials/quickstart/beginner, cell by cell. Changed: the import, a seed
    # (for a reproducible test), and the values kept for the assertions below.
    import chainrule as tf

    print("TensorFlow version:", tf.__version__)
    tf.keras.utils.set_random_seed(0)

    mnist = tf.keras.datasets.mnist

    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    x_train, x_test = x_train / 255.0, x_test / 255.0

    model = tf.keras.models.Sequential(
        [
            tf.keras.layers.Flatten(input_shape=(28, 28)),
            tf.keras.layers.Dense(128, activation="relu"),
            tf.keras.layers.Dropout(0.2),
            tf.keras.layers.Dense(10),
        ]
    )

    predictions = model(x_train[:1]).numpy()
    probabilities = tf.nn.softmax(predictions).numpy()

    loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    initial_loss = loss_fn(y_train[:1], predictions).numpy()

    model.compile(optimizer="adam", loss=loss_fn, metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=5)
    test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=2)

    probability_model = tf.keras.Sequential([model, tf.keras.layers.Softmax()])
    first_five = probability_model(x_test[:5])

    out = capsys.readouterr().out
    assert "TensorFlow version: " in out and "Epoch 5/5" in out and "1875/1875" in out
    assert predictions.shape == (1, 10) and predictions.dtype == np.float32
    np.testing.assert_allclose(probabilities.sum(), 1.0, rtol=1e-6)
    assert initial_loss == pytest.approx(-np.log(probabilities[0, y_train[0]]), rel=1e-5)
    assert 1.5 < initial_loss < 3.5  # near -log(1/10) for an untrained model
    assert test_accuracy >= 0.97, (test_loss, test_accuracy)
    np.testing.assert_allclose(first_five.numpy().sum(axis=1), np.ones(5), rtol=1e-5)
    assert (first_five.numpy().argmax(axis=1) == y_test[:5]).mean() >= 0.8


@pytest.mark.slow
def test_custom_training_loop_with_gradient_tape_on_mnist(capsys):
    import chainrule as tf
    from chainrule import keras

    tf.keras.utils.set_random_seed(0)

    def get_model():
        inputs = keras.Input(shape=(784,), name="digits")
        x1 = keras.layers.Dense(64, activation="relu")(inputs)
        x2 = keras.layers.Dense(64, activation="relu")(x1)
        outputs = keras.layers.Dense(10, name="predictions")(x2)
        return keras.Model(inputs=inputs, outputs=outputs)

    model = get_model()
    optimizer = keras.optimizers.SGD(learning_rate=0.1)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    train_acc_metric = keras.metrics.SparseCategoricalAccuracy()
    train_loss_metric = keras.metrics.Mean()
    test_acc_metric = keras.metrics.SparseCategoricalAccuracy()

    batch_size = 32
    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    x_train = np.reshape(x_train, (-1, 784)).astype("float32") / 255.0
    x_test = np.reshape(x_test, (-1, 784)).astype("float32") / 255.0

    def batches(x, y, shuffle_seed=None):
        order = (
            np.arange(len(x))
            if shuffle_seed is None
            else np.random.default_rng(shuffle_seed).permutation(len(x))
        )
        for start in range(0, len(x), batch_size):
            index = order[start : start + batch_size]
            yield x[index], y[index]

    @tf.function
    def train_step(x, y):
        with tf.GradientTape() as tape:
            logits = model(x, training=True)  # 1. forward
            loss_value = loss_fn(y, logits)  # 2. loss
        grads = tape.gradient(loss_value, model.trainable_weights)  # 3. backward
        optimizer.apply(grads, model.trainable_weights)  # 4. update
        train_acc_metric.update_state(y, logits)
        train_loss_metric.update_state(loss_value)
        return loss_value

    @tf.function
    def test_step(x, y):
        test_acc_metric.update_state(y, model(x, training=False))

    epochs = 2
    history = []
    for epoch in range(epochs):
        for step, (x_batch, y_batch) in enumerate(batches(x_train, y_train, shuffle_seed=epoch)):
            loss_value = train_step(x_batch, y_batch)
            if step % 500 == 0:
                print(f"Training loss (for 1 batch) at step {step}: {float(loss_value):.4f}")
        for x_batch, y_batch in batches(x_test, y_test):
            test_step(x_batch, y_batch)
        history.append(
            (
                float(train_loss_metric.result()),
                float(train_acc_metric.result()),
                float(test_acc_metric.result()),
            )
        )
        print(
            f"epoch {epoch + 1}: loss {history[-1][0]:.4f} - accuracy {history[-1][1]:.4f}"
            f" - test accuracy {history[-1][2]:.4f}"
        )
        for metric in (train_loss_metric, train_acc_metric, test_acc_metric):
            metric.reset_state()

    assert "Training loss (for 1 batch) at step 1500" in capsys.readouterr().out
    assert history[1][0] < history[0][0] and history[1][1] > history[0][1]
    assert history[-1][2] >= 0.93, history
