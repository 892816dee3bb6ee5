"""The article's program, as written, for any module with the Keras 3 API.

    model = Sequential([Dense(10, activation='relu', input_shape=(784,)),
                        Dense(10, activation='softmax')])
    model.compile(optimizer='sgd', loss='categorical_crossentropy', metrics=['accuracy'])
    model.fit(X_train, y_train, epochs=10)

``tensorflow.keras`` and ``chainrule.keras`` both run it unchanged; the wide workload only swaps
in its layer sizes, 'adam' and ``batch_size=128``. ``fit`` keeps its default ``verbose='auto'``,
so the progress bar is drawn as it is for a user (``run.py`` gives it a terminal).
"""

from common import CLASSES, PIXELS, EpochClock


def build_model(keras, config, seed):
    """The workload's Sequential model, compiled, with every random source seeded by ``seed``."""
    keras.utils.set_random_seed(seed)
    Dense, Sequential = keras.layers.Dense, keras.models.Sequential
    hidden = config["hidden"]
    layers = [Dense(hidden[0], activation="relu", input_shape=(PIXELS,))]
    layers += [Dense(units, activation="relu") for units in hidden[1:]]
    layers += [Dense(CLASSES, activation="softmax")]
    model = Sequential(layers)
    model.compile(
        optimizer=config["optimizer"], loss="categorical_crossentropy", metrics=["accuracy"]
    )
    return model


def train_and_test(keras, config, data, seed):
    """Fit the workload's model with ``keras``; return (EpochClock, test accuracy, last logs)."""
    model = build_model(keras, config, seed)
    clock = EpochClock()

    class EpochTimer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            clock.start()

        def on_epoch_end(self, epoch, logs=None):
            clock.stop()

    history = model.fit(
        data["x_train"],
        data["y_train"],
        epochs=config["epochs"],
        batch_size=config["batch_size"],
        callbacks=[EpochTimer()],
    )
    _, accuracy = model.evaluate(data["x_test"], data["y_test"], verbose=0)
    logs = {"loss": history.history["loss"][-1], "accuracy": history.history["accuracy"][-1]}
    return clock, accuracy, logs
