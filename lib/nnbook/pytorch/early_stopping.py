"""Early stopping: the number of epochs chosen on a validation set.

The lecture's algorithm: split the data into a training and a validation set, train on the
training set, monitor the error on the validation set at each epoch, stop when it stops
decreasing, and return the weights of the epoch with the lowest validation error.
:class:`EarlyStopping` holds steps 3-5; :func:`nnbook.pytorch.train.fit` calls its
:meth:`~EarlyStopping.update` after every epoch and :meth:`~EarlyStopping.restore_best` at
the end.
"""

from __future__ import annotations

from torch import nn

from .._util import one_of, positive_int

#: What early stopping can monitor on the validation set.
MONITORS = ("loss", "error")


class EarlyStopping:
    """Stop training once the validation ``monitor`` has not decreased for ``patience`` epochs.

    ``monitor="loss"`` watches the validation loss R-hat, ``monitor="error"`` the validation
    error (the fraction misclassified, or the MSE for regression). Validation curves are noisy,
    so "stops decreasing" means: no new lowest value in ``patience`` epochs in a row. Pass it
    to :func:`nnbook.pytorch.train.fit` as ``fit(..., early_stopping=EarlyStopping(10))``.

    After training: ``best_epoch`` (1 for the first epoch) and ``best_value`` are those of the
    lowest validation value, ``epochs`` is the number of epochs seen, and ``best_weights`` a
    copy of the model's ``state_dict()`` at ``best_epoch``.
    """

    def __init__(self, patience: int, monitor: str = "loss") -> None:
        self.patience = positive_int(patience, "patience")
        self.monitor = one_of(monitor, "monitor", MONITORS)
        self.reset()

    def reset(self) -> None:
        """Forget everything seen so far (``fit`` calls this before its first epoch)."""
        self.epochs = 0
        self.best_epoch: int | None = None
        self.best_value: float | None = None
        self.best_weights: dict | None = None
        self.epochs_without_improvement = 0

    def update(self, model: nn.Module, val_loss: float, val_error: float) -> bool:
        """Call after each epoch with the validation loss and error; True means: stop now.

        Step 3 monitors the validation value; a new lowest value makes this epoch the best
        one and keeps a copy of its weights (for step 5). Step 4 stops when the value has not
        decreased for ``patience`` epochs in a row.
        """
        self.epochs += 1
        value = val_loss if self.monitor == "loss" else val_error  # step 3: monitor it
        if self.best_value is None or value < self.best_value:  # the lowest so far
            self.best_epoch, self.best_value = self.epochs, value
            self.best_weights = {k: v.detach().clone() for k, v in model.state_dict().items()}
            self.epochs_without_improvement = 0
        else:
            self.epochs_without_improvement += 1
        return self.epochs_without_improvement >= self.patience  # step 4: stop

    def restore_best(self, model: nn.Module) -> bool:
        """Step 5: copy the weights of ``best_epoch`` back into ``model``.

        Returns True when that changed the model, i.e. training went on past the best epoch.
        """
        if self.best_weights is None or self.best_epoch == self.epochs:
            return False
        model.load_state_dict(self.best_weights)
        return True

    def __repr__(self) -> str:
        return f"EarlyStopping(patience={self.patience}, monitor={self.monitor!r})"


__all__ = ["EarlyStopping", "MONITORS"]
