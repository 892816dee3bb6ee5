"""SwapEMAWeights: evaluate (and checkpoint) with the optimizer's moving averages of the weights."""

from .callback import Callback


class SwapEMAWeights(Callback):
    """Swaps the model's weights with the moving averages its optimizer keeps (an optimizer made
    with ``use_ema=True``) around every evaluation and prediction, so that validation scores
    the averaged weights while training goes on with the raw ones. With ``swap_on_epoch=True``
    the averages are also in the model between epochs (after ``on_epoch_end``, so that a
    checkpoint callback listed after this one saves them), and after the last epoch they stay.

    Keras 3.15.1's ``on_predict_end`` leaves the averages in the model (its check is inverted);
    here the raw weights come back, as after an evaluation.

    Raises:
        ValueError: (at the first swap) the optimizer, or every inner optimizer of a
            MultiOptimizer, keeps no moving averages.
    """

    def __init__(self, swap_on_epoch=False):
        super().__init__()
        self.swap_on_epoch = swap_on_epoch
        self._ema_weights_in_model = False

    def _optimizers(self):
        optimizer = self.model.optimizer
        optimizer = getattr(optimizer, "inner_optimizer", optimizer)
        inner = getattr(optimizer, "optimizers", None)
        if inner is None:
            return [optimizer]
        chosen = [o for o in inner if getattr(o, "use_ema", False)]
        if not chosen:
            raise ValueError(
                "SwapEMAWeights must be used when at least one inner optimizer has "
                "`use_ema=True` set. Received a MultiOptimizer with all inner optimizers having "
                "`use_ema=False`."
            )
        return chosen

    def _swap(self, into_model):
        if self._ema_weights_in_model != into_model:
            for optimizer in self._optimizers():
                optimizer.swap_moving_averages()
            self._ema_weights_in_model = into_model

    def on_epoch_begin(self, epoch, logs=None):
        if self.swap_on_epoch:
            self._swap(False)

    def on_epoch_end(self, epoch, logs=None):
        if self.swap_on_epoch:
            self._swap(True)
            if epoch == self.params["epochs"] - 1:  # the averages stay in the model
                for optimizer in self._optimizers():
                    optimizer.reset_moving_averages()

    def on_test_begin(self, logs=None):
        self._swap(True)

    def on_test_end(self, logs=None):
        self._swap(False)

    def on_predict_begin(self, logs=None):
        self._swap(True)

    def on_predict_end(self, logs=None):
        self._swap(False)
