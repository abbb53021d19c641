"""scikit-learn's callback API (``sklearn.callback``), one task per epoch.

``GDRegressor(...).set_callbacks(ProgressBar())`` shows a live bar,
``ScoringMonitor`` scores the model after every epoch, and callbacks set on
a Pipeline or a search propagate as the API intends. A fit is the root
task; each epoch is a subtask whose end hook receives the model as it stands
after that epoch (``fitted_estimator``) and may ask training to stop.

Where the installed scikit-learn has no callback API, the estimators work
the same without ``set_callbacks``.
"""

try:
    from sklearn.callback import CallbackSupportMixin
except ImportError:  # scikit-learn without the callback API

    class CallbackSupportMixin:
        """Stand-in: no callbacks to call."""

        def _init_callback_context(self, task_name="fit", max_subtasks=0, **kwargs):
            return None


class EpochCallbacks:
    """Calls the estimator's callbacks around every epoch of one fit.

    Parameters
    ----------
    estimator : BaseGD
        The estimator being fitted.
    max_epochs : int
        The most epochs this fit can run.
    X, y : array-like
        The training data, for callbacks that score it.
    metadata : dict or None
        Training metadata (``sample_weight``) passed to the hooks.
    reconstruct : callable
        ``reconstruct(state) -> dict`` of the fitted attributes the model has
        at ``state``.
    """

    def __init__(self, estimator, max_epochs, X, y, metadata, reconstruct):
        self.estimator = estimator
        self.data = {"X": X, "y": y, "metadata": metadata}
        self.reconstruct = reconstruct
        self.context = estimator._init_callback_context(max_subtasks=max_epochs)
        self.active = self.context is not None and hasattr(estimator, "_skl_callbacks")
        self.epoch_context = None
        if self.context is not None:
            self.context.call_on_fit_task_begin(estimator=estimator, **self.data)

    def _attributes(self, state):
        # Evaluated only if a hook asks for the fitted estimator.
        return lambda: self.reconstruct(state)

    def begin_epoch(self, state):
        if not self.active:
            return
        self.epoch_context = self.context.subcontext(task_name="epoch")
        self.epoch_context.call_on_fit_task_begin(
            estimator=self.estimator, reconstruction_attributes=self._attributes(state),
            **self.data,
        )  # fmt: skip

    def end_epoch(self, state):
        """Returns True if a callback asks training to stop."""
        if not self.active:
            return False
        return self.epoch_context.call_on_fit_task_end(
            estimator=self.estimator, reconstruction_attributes=self._attributes(state),
            **self.data,
        )  # fmt: skip

    def end_fit(self):
        if self.context is not None:
            self.context.call_on_fit_task_end(
                estimator=self.estimator, reconstruction_attributes={}, **self.data
            )
