"""The callbacks ``fit`` adds itself: the history of the logs and the progress bar."""

from ..progress import Progbar, print_msg
from .callback import Callback, pythonify_logs, reads_logs_lazily


class History(Callback):
    """Records each epoch's logs: ``history.history['loss']`` is the list of epoch losses."""

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
        self.model.history = self


class ProgbarLogger(Callback):
    """Prints ``Epoch i/n`` and the progress line of each epoch (``verbose`` 1 or 2)."""

    def __init__(self, verbose=1):
        super().__init__()
        self.verbose = verbose
        self.bar = None
        self.seen = 0  # batches of the current (or last) epoch

    def on_epoch_begin(self, epoch, logs=None):
        epochs = self.params.get("epochs", 1)
        if epochs > 1:
            print_msg(f"Epoch {epoch + 1}/{epochs}")
        # Without a step count (a generator), an epoch is taken to be as long as the last one.
        self.bar = Progbar(self.params.get("steps") or self.seen, verbose=self.verbose)
        self.seen = 0

    @reads_logs_lazily
    def on_train_batch_end(self, batch, logs=None):
        self.seen = batch + 1
        self.bar.update(self.seen, lambda: pythonify_logs(logs() if callable(logs) else logs))

    def on_epoch_end(self, epoch, logs=None):
        # An epoch stopped early (stop_training, Ctrl-C) ends the bar where it stopped, 1230/1875.
        self.bar.target = self.bar.target or self.seen
        self.bar.update(self.seen, logs or {}, finalize=True)
