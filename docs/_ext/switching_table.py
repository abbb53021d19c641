"""``.. sgd-parameter-table::``: scikit-learn's SGD and skgd side by side.

The parameter names and defaults are read from the four estimators'
signatures when the docs are built, so the table cannot drift from the code;
only the notes are written here. A scikit-learn parameter without a note is a
build warning (an error with ``-W``): the page must say what became of it. A
new skgd parameter without a note gets the first sentence of its shared
docstring (``skgd._estimators.docstrings``), so adding one never breaks the build.
"""

import inspect

from docutils import nodes
from docutils.statemachine import StringList
from sklearn.linear_model import SGDClassifier, SGDRegressor
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from skgd import GDClassifier, GDRegressor
from skgd._estimators.docstrings import SHARED

logger = logging.getLogger(__name__)

NOTES = {
    # --- shared with scikit-learn's SGD ---
    "loss": "Same names and definitions. :class:`~skgd.GDClassifier` defaults to "
    "``'log_loss'`` (SGD: ``'hinge'``): it is smooth, so the default batch solver "
    "reaches the exact minimiser, and it gives probabilities; with more than two "
    "classes it is the multinomial (softmax) loss rather than one-vs-rest. The "
    "classifier has SGD's regression losses too (``'huber'``, "
    "``'epsilon_insensitive'``, ``'squared_epsilon_insensitive'``), on labels "
    "-1/+1.",
    "penalty": "Same. The L1 part is an exact proximal (soft-thresholding) step "
    "by default, so coefficients reach exactly zero; ``l1_step='cumulative'`` "
    "is SGD's cumulative penalty.",
    "alpha": "Same. With ``penalty='l2'`` the minimiser is "
    "``Ridge(alpha=n_samples * alpha)`` or ``LogisticRegression(C=1 / (n_samples "
    "* alpha))``.",
    "l1_ratio": "Same, ``None`` included (for the penalties that do not use it; "
    "``penalty='elasticnet'`` refuses it with SGD's message).",
    "fit_intercept": "Same; the intercept is never penalised.",
    "intercept_scaling": "New (the name of "
    ":class:`~sklearn.linear_model.LogisticRegression`'s): the intercept is the "
    "weight of a constant feature of this value. ``0.1`` gives SGD's 0.01 damping "
    "of intercept steps on sparse data; the features' scale conditions "
    "uncentred data.",
    "max_iter": "Same: the most epochs (passes over the data).",
    "tol": "Same rule, on the exact training objective (SGD: the running mean of "
    "the epoch's losses, ``epoch_loss='running'`` here); a tighter default, "
    "because full-batch descent makes steady small gains.",
    "shuffle": "Same (online and mini-batch solvers).",
    "verbose": "Same: one line per epoch.",
    "epsilon": "Same, for both estimators.",
    "random_state": "Same; an integer gives bit-identical fits.",
    "learning_rate": "Same names, the passive-aggressive ``'pa1'``/``'pa2'`` "
    "included (``solver='online'``), plus ``'exponential'``, ``'step'``, "
    "``'cosine'``, :mod:`skgd.schedules` objects and callables. The default is a "
    "constant rate (with ``eta0='auto'``).",
    "eta0": "``'auto'`` computes the largest safe step ``1/L`` from the data, "
    "so no tuning is needed for the batch solver.",
    "power_t": "Same meaning; SGDClassifier's default is 0.5. Negative values "
    "warn (FutureWarning), as in scikit-learn 1.8 and later.",
    "early_stopping": "Same split and rule, and the coefficients of the best epoch "
    "are kept (as in :class:`~sklearn.neural_network.MLPRegressor`; "
    "``restore_best=False`` keeps the last, as SGD). ``partial_fit`` refuses it, "
    "as SGD's does.",
    "validation_fraction": "Same.",
    "n_iter_no_change": "Same.",
    "class_weight": "Same; ``'balanced'`` is refused by ``partial_fit``, as by "
    "SGD. For the softmax loss each sample takes its class's weight, as in "
    ":class:`~sklearn.linear_model.LogisticRegression`.",
    "n_jobs": ":class:`~skgd.GDClassifier` only, as SGDClassifier: accepted and "
    "unused. Every class is trained in the same pass over the data, which "
    "measured faster than one thread per class (466 against 748 ms for 5 epochs "
    "of online hinge on 5 classes, 200 000 x 100); "
    ":class:`~sklearn.multiclass.OneVsRestClassifier` with ``n_jobs`` and the "
    "threading backend also works, with the same coefficients.",
    "warm_start": "Same: ``True`` starts ``fit`` from the previous coefficients, "
    "with the schedule restarted. ``'resume'`` (new) continues exactly, with the "
    "update count, the average and the optimizer's state (velocity, moments).",
    "average": "Same meaning: from update ``average`` on (``True``: the first), "
    "``coef_`` is the running mean of the iterates. Works with every solver and "
    "update rule.",
    # --- skgd only ---
    "solver": "New: how often the parameters move; ``'batch'`` (exact gradient, the "
    "default), ``'online'`` (SGD's way) or ``'minibatch'``; ``'perturbation'`` is "
    "learning by random trials, without a gradient, as a baseline. All choices: "
    "{choices}.",
    "batch_size": "New: samples per update of ``solver='minibatch'``.",
    "optimizer": "New: the update rule (momentum, adaptive rates or sign-based "
    "steps). All choices: {choices}.",
    "momentum": "New: heavy-ball momentum of ``optimizer='sgd'``.",
    "nesterov": "New: Nesterov's look-ahead momentum.",
    "beta_1": "New: Adam's first-moment decay (MLP's name).",
    "beta_2": "New: Adam's second-moment decay (MLP's name).",
    "rho": "New: RMSProp's decay.",
    "gamma": "New: decay factor of the ``'exponential'`` and ``'step'`` schedules.",
    "step_size": "New: epochs between two decays of the ``'step'`` schedule.",
    "warmup": "New: epochs of linear warm-up of the rate.",
    "divergence_recovery": "New: how many diverging epochs may be undone and "
    "retried at half the learning rate before the divergence error is raised "
    "(0: raise at once).",
    "epoch_loss": "New: the exact objective after each epoch (default), or the "
    "running mean of the losses met during it, as SGD records it (free).",
    "record_coef": "New: also record ``coef_`` and ``intercept_`` after every "
    "epoch, in ``history_['coef']`` and ``history_['intercept']``.",
}

# For scikit-learn parameters that skgd does not have.
MISSING_NOTES = {}

ESTIMATORS = {
    "sgd": (SGDRegressor, SGDClassifier),
    "skgd": (GDRegressor, GDClassifier),
}


def _defaults(classes):
    """``{name: [default per class or None]}`` in signature order."""
    table = {}
    for position, cls in enumerate(classes):
        for name, param in inspect.signature(cls).parameters.items():
            table.setdefault(name, [None] * len(classes))[position] = param
    return table


def _choices(name):
    """The string options of a parameter, from the estimator's constraints."""
    for constraint in GDRegressor._parameter_constraints.get(name, []):
        options = getattr(constraint, "options", None)
        if options:
            return ", ".join(f"``{option!r}``" for option in sorted(options))
    return "see the API reference"


def _docstring_note(name):
    """``New:`` and the first sentence of the parameter's shared docstring."""
    entry = SHARED.get(name)
    if entry is None:
        return "New: see the :ref:`API reference <api>`."
    description = " ".join(line.strip() for line in entry.splitlines()[1:])
    return "New: " + description.split(". ")[0].rstrip(".") + "."


def _cell(params, classes):
    present = [(p, c) for p, c in zip(params, classes, strict=True) if p is not None]
    if not present:
        return "—"
    values = {repr(p.default) for p, _ in present}
    if len(values) == 1 and len(present) == len(classes):
        return f"``{values.pop()}``"
    return " / ".join(f"``{p.default!r}`` ({c.__name__})" for p, c in present)


class SGDParameterTable(SphinxDirective):
    has_content = False

    def run(self):
        sgd = _defaults(ESTIMATORS["sgd"])
        gd = _defaults(ESTIMATORS["skgd"])
        names = list(sgd) + [name for name in gd if name not in sgd]
        lines = [
            ".. list-table::",
            "   :header-rows: 1",
            "   :widths: 14 20 20 46",
            "   :class: sgd-mapping",
            "",
            "   * - parameter",
            "     - SGDRegressor / SGDClassifier",
            "     - GDRegressor / GDClassifier",
            "     - notes",
        ]
        for name in names:
            if name not in gd:
                note = MISSING_NOTES.get(name)
            elif name in NOTES:
                note = NOTES[name].replace("{choices}", _choices(name))
            elif name not in sgd:
                note = _docstring_note(name)
            else:
                note = None
            if note is None:
                logger.warning(
                    "sgd-parameter-table: parameter %r has no note in %s",
                    name, __file__, location=self.get_location(),
                )  # fmt: skip
                note = ""
            lines += [
                f"   * - ``{name}``",
                f"     - {_cell(sgd.get(name, [None, None]), ESTIMATORS['sgd'])}",
                f"     - {_cell(gd.get(name, [None, None]), ESTIMATORS['skgd'])}",
                f"     - {note}",
            ]
        container = nodes.container()
        self.state.nested_parse(StringList(lines), self.content_offset, container)
        return container.children


def _always_reread(app, env, added, changed, removed):
    # The table comes from the code, not from the page's source: read the page
    # again on every build, or an incremental build would keep an old table.
    return [docname for docname in ("switching",) if docname in env.found_docs]


def setup(app):
    app.add_directive("sgd-parameter-table", SGDParameterTable)
    app.connect("env-get-outdated", _always_reread)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
