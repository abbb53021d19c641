"""Parameter documentation shared by both estimators, written once.

The estimators' docstrings are templates; :func:`fill_doc` substitutes these
entries, so a shared parameter's meaning and default live in one place.
"""

SHARED = {
    "penalty": """\
penalty : {'l2', 'l1', 'elasticnet'} or None, default='l2'
    The regulariser added to the mean loss. ``'l2'`` adds
    ``(alpha / 2) * ||w||_2**2``, ``'l1'`` adds ``alpha * ||w||_1``,
    ``'elasticnet'`` adds ``alpha * (l1_ratio * ||w||_1 + (1 - l1_ratio) / 2 *
    ||w||_2**2)``, exactly as :class:`~sklearn.linear_model.ElasticNet`. The
    L1 part is applied as a proximal (soft-thresholding) step, so
    coefficients become exactly zero. The intercept is never penalised.""",
    "alpha": """\
alpha : float, default=1e-4
    Regularisation strength (SGD's default). Also sets ``learning_rate='optimal'``.""",
    "l1_ratio": """\
l1_ratio : float or None, default=0.15
    The L1 share of ``alpha`` for ``penalty='elasticnet'`` (SGD's default).
    None only for the other penalties, which do not use it.""",
    "l1_step": """\
l1_step : {'proximal', 'cumulative'}, default='proximal'
    How the L1 part of the penalty acts. ``'proximal'``: after each update,
    soft-thresholding by the step times the L1 strength, the exact proximal
    step (every solver). ``'cumulative'``: scikit-learn SGD's cumulative
    penalty (Tsuruoka, Tsujii & Ananiadou 2009), which clips each
    coefficient at zero once its share of the penalty so far would flip it
    (``solver='online'``, plain ``'sgd'`` steps; on sparse rows only the
    row's features, as SGD).""",
    "fit_intercept": """\
fit_intercept : bool, default=True
    Whether to learn an intercept. If False the data is assumed centred.""",
    "intercept_scaling": """\
intercept_scaling : float, default=1.0
    The intercept is learned as the weight of a constant synthetic feature
    of this value (as in :class:`~sklearn.linear_model.LogisticRegression`),
    and ``intercept_`` is that weight times ``intercept_scaling``. The
    objective and its minimiser do not change (the intercept is never
    penalised), only the path to it: plain and momentum steps move the
    intercept ``intercept_scaling**2`` times as fast. Below 1 it calms the
    intercept's noise on sparse data, where the intercept takes a step on
    every row and each feature only on the rows where it is non-zero
    (scikit-learn's SGD damps sparse intercept steps by 0.01, which is
    ``intercept_scaling=0.1``). Above 1 it matches an intercept to features
    of a large scale. Ignored with ``fit_intercept=False``.""",
    "solver": """\
solver : {'auto', 'lbfgs', 'accelerated', 'batch', 'saga', 'sdca', 'online', 'minibatch', 'perturbation'}, default='auto'
    How often, and how, the parameters move. ``'auto'`` (the default)
    reads what was asked: ``'online'`` (SGD's solver) when SGD's step
    parameters are set (``average``, a ``learning_rate`` other than
    ``'constant'``, a numeric ``eta0``, ``power_t``, ``momentum``, an
    ``optimizer``, ``l1_step='cumulative'``; ``'batch'`` for Rprop) and for
    the perceptron; ``'sdca'`` for the hinge and epsilon-insensitive losses
    with an L2 part; ``'lbfgs'`` for the other losses without an L1 part;
    with one, ``'saga'`` for sparse data with more samples than SAGA's
    condition number (the largest row's curvature over the L2 strength:
    tf-idf rows of unit norm from about 5000 samples at ``alpha=1e-4``),
    where it lands 20 times faster, and ``'accelerated'`` otherwise (and in
    ``partial_fit`` and on dask arrays). ``solver_`` says which.
    ``'lbfgs'``: one update per epoch with the exact gradient, in the
    direction of limited-memory quasi-Newton (L-BFGS, Nocedal 1980) whose
    metric starts from the data's curvature bound (the weighted Gram
    matrix, or its diagonal on data with more than 128 columns or more
    columns than rows), so that the features' scales do not matter, is
    rebuilt from the log-loss's curvature at the iterate when the bound
    proves loose, and a step found by a line search on the kept
    predictions (no pass over the data per trial); it needs a
    differentiable loss and no L1 part. ``'sdca'``:
    stochastic dual coordinate ascent (Shalev-Shwartz & Zhang 2013), one
    sample's dual variable at a time, solved exactly, so there is no step
    size and the non-smooth losses converge; it needs an L2 part in the
    penalty, fits the one-vs-rest losses (not the multinomial log-loss), and
    its duals are per call (``partial_fit`` fits each chunk on its own). ``'accelerated'``: one update per epoch with the exact gradient, Nesterov's
    momentum reset whenever it points uphill (adaptive restart,
    O'Donoghue & Candès 2015) and a step found by backtracking on the actual
    curvature (FISTA, Beck & Teboulle 2009, with the L1 part as a proximal
    step); it lands on the exact minimiser without tuning, also on
    ill-conditioned data, and stops when it is there (see ``tol``).
    ``'batch'``: the textbook full-batch gradient descent, one update per
    epoch with the step ``eta0`` and any ``optimizer``, ``momentum`` and
    ``learning_rate``. ``'saga'``: one update per sample with SAGA's
    variance-reduced gradient (Defazio et al. 2014: the sample's gradient, minus its last one, plus the
    mean of all the last ones), which converges to the exact minimiser at a
    constant step; each epoch is one pass, so it suits many samples (more
    than the problem's condition number), and sparse rows cost O(non-zeros).
    ``'online'``: one update per sample, in a fresh random
    order each epoch when ``shuffle=True`` (stochastic gradient descent).
    ``'minibatch'``: one update per consecutive block of ``batch_size``
    samples of that order, with the block's weighted mean gradient.
    ``'online'`` equals ``'minibatch'`` with ``batch_size=1``, and
    ``'minibatch'`` with ``batch_size >= n_samples`` equals ``'batch'``.
    ``'perturbation'`` is the naive baseline that uses no gradient: each
    epoch tries one random change of the parameters and keeps it if the
    objective improved (a (1+1) evolution strategy, step adapted by the 1/5
    success rule; ``eta0`` sets the first step). One trial costs about one
    batch iteration, so ``max_iter`` compares fairly with ``'batch'``.""",
    "batch_size": """\
batch_size : int, default=32
    Samples per update of ``solver='minibatch'`` (MLP's default).""",
    "optimizer": """\
optimizer : {'sgd', 'adagrad', 'rmsprop', 'adam', 'rprop'}, default='sgd'
    The update rule. ``'sgd'`` steps ``-eta * g``, with ``momentum`` and
    ``nesterov``. ``'adagrad'``, ``'rmsprop'`` and ``'adam'`` divide each
    parameter's step by the root of its own squared-gradient history.
    ``'rprop'`` moves each parameter by the *sign* of its gradient, with a
    step it learns per parameter (iRprop-, ``solver='batch'`` only).""",
    "learning_rate": """\
learning_rate : str, :class:`skgd.schedules.Schedule` or callable, default='constant'
    How the step size ``eta`` evolves; ``t`` counts updates from 0.

    - ``'constant'``: ``eta = eta0``.
    - ``'invscaling'``: ``eta = eta0 / (t + 1) ** power_t`` (SGD's definition).
    - ``'optimal'``: ``eta = 1 / (alpha * (t0 + t))``, SGD's heuristic
      (needs ``alpha > 0``).
    - ``'adaptive'``: ``eta0`` until ``n_iter_no_change`` epochs in a row fail
      to improve by ``tol``, then divided by 5; stops below 1e-6 (SGD's).
    - ``'exponential'``: ``eta = eta0 * gamma ** epoch``.
    - ``'step'``: ``eta0`` times ``gamma`` every ``step_size`` epochs.
    - ``'cosine'``: cosine annealing from ``eta0`` to 0 over ``max_iter`` epochs.
    - ``'pa1'``, ``'pa2'``: the passive-aggressive rules (Crammer et al.
      2006), as SGD's: each online step is
      ``min(eta0, loss / ||x||**2)`` (PA-I) or
      ``loss / (||x||**2 + 1 / (2 eta0))`` (PA-II) along the loss's slope;
      ``eta0`` is the aggressiveness ``C`` (``solver='online'``, loss
      ``'hinge'`` or ``'epsilon_insensitive'``).
    - a :class:`~skgd.schedules.Schedule` object, or a callable ``f(t) -> eta``.""",
    "eta0": """\
eta0 : float or 'auto', default='auto'
    The initial learning rate. ``solver='lbfgs'`` takes none (its line
    search finds each step; ``eta0_`` is 1). For ``'accelerated'``, only the first
    step tried: backtracking then finds the step, and ``'auto'`` starts from
    the inverse of the trace of the weighted Gram matrix of ``[X, 1]`` (times
    the loss's curvature bound), which one pass computes. For ``'saga'``,
    ``'auto'`` is ``1 / (2 L + min(2 n mu, L))``, ``L`` the largest
    sample's curvature and ``mu`` the L2 strength (Defazio et al.; as
    scikit-learn's SAGA). Otherwise
    ``'auto'`` takes ``1 / L``: for ``solver='batch'``, ``L`` is the Lipschitz constant of the full gradient
    (the loss's curvature bound times the largest eigenvalue of the weighted
    Gram matrix of ``[X, 1]``, plus the L2 strength), the largest step with
    guaranteed descent; for ``'online'`` and ``'minibatch'``, ``L`` bounds
    one sample's curvature (largest weighted squared row norm), as
    scikit-learn's SAG solver does (times ``1 - momentum``, which keeps the
    momentum-amplified noise in check). The default, because it converges
    without tuning and never diverges, even on unscaled data (where any
    fixed number either diverges or crawls; scaling the data still makes
    every solver converge far faster). ``'adagrad'``, ``'rmsprop'``, ``'adam'`` and
    ``'rprop'`` normalise each parameter's gradient, so their steps do not
    scale with the data: ``'auto'`` gives them 0.01.""",
    "power_t": """\
power_t : float, default=0.25
    The exponent of ``learning_rate='invscaling'`` (SGD's default).""",
    "gamma": """\
gamma : float, default=0.9
    Decay factor of ``learning_rate='exponential'`` and ``'step'``.""",
    "step_size": """\
step_size : int, default=10
    Epochs between two decays of ``learning_rate='step'``.""",
    "warmup": """\
warmup : int, default=0
    Epochs of linear warm-up of the learning rate (0: none).""",
    "momentum": """\
momentum : float, default=0.0
    Heavy-ball momentum ``mu`` of ``optimizer='sgd'``: the velocity
    ``v <- mu * v - eta * g`` is added to the parameters. 0 (plain steps)
    by default so that the default step ``1/L`` is the textbook one.""",
    "nesterov": """\
nesterov : bool, default=False
    Use Nesterov's look-ahead momentum: ``theta <- theta + mu * v - eta * g``
    after the velocity update (Sutskever et al. 2013). No effect without
    momentum.""",
    "beta_1": """\
beta_1 : float, default=0.9
    Decay of Adam's first-moment estimate (MLP's name and default).""",
    "beta_2": """\
beta_2 : float, default=0.999
    Decay of Adam's second-moment estimate (MLP's name and default).""",
    "rho": """\
rho : float, default=0.9
    Decay of RMSProp's average of squared gradients.""",
    "max_iter": """\
max_iter : int, default=1000
    The most epochs (passes over the data) in one ``fit`` (SGD's default).""",
    "tol": """\
tol : float, 'auto' or None, default='auto'
    When to stop; None runs all ``max_iter`` epochs.

    - ``'lbfgs'``, ``'accelerated'``, ``'batch'``, ``'saga'`` and ``'sdca'`` stop on a
      certificate: once the duality gap, an upper bound on the objective's
      distance from its minimum, is at most ``tol`` times the objective
      (``dual_gap_``). ``'auto'`` is 1e-6, so a fit that returns without a
      warning is within a relative 1e-6 of the optimum, proven. Without a
      penalty, and for the perceptron, there is no useful certificate: they
      stop once the optimality residual ``r`` (the norm of the objective's
      gradient; with an L1 part, of its smallest subgradient) is at most
      ``tol`` times its value at all-zero parameters.
    - ``'online'``, ``'minibatch'`` and ``'perturbation'`` keep
      scikit-learn SGD's rule: stop when ``n_iter_no_change`` epochs in a
      row fail to lower the objective by ``tol``. ``'auto'`` is 1e-4.
    - With ``early_stopping`` or ``learning_rate='adaptive'``, every solver
      uses SGD's rule (on the validation score, or to divide the rate).

    A fit that ends at ``max_iter`` first warns (ConvergenceWarning) with the
    certified gap (or residual) it reached.""",
    "n_iter_no_change": """\
n_iter_no_change : int, default=5
    Epochs without improvement before SGD's rule stops (SGD's default; the
    certificate of the solvers that land on the optimum needs none). With
    ``momentum``, divided by ``1 - momentum``: momentum's objective
    oscillates on that time scale, so a few epochs without a new best
    are no sign of convergence.""",
    "early_stopping": """\
early_stopping : bool, default=False
    Hold out ``validation_fraction`` of the training data, stop when its
    score stops improving, and keep the coefficients of the best epoch (as
    :class:`~sklearn.neural_network.MLPRegressor` does; see
    ``restore_best``). ``fit`` only: ``partial_fit`` raises, as SGD's does,
    and takes ``validation_data`` instead.""",
    "restore_best": """\
restore_best : bool, default=True
    With ``early_stopping``, end ``fit`` at the coefficients of the epoch
    with the best validation score (MLP's choice). ``False`` keeps the last
    epoch's, as scikit-learn's SGD does.""",
    "validation_fraction": """\
validation_fraction : float, default=0.1
    The held-out share for ``early_stopping``.""",
    "epsilon": """\
epsilon : float, default=0.1
    Width of the ``'huber'`` and epsilon-insensitive losses (SGD's default):
    the Huber loss is quadratic within ``epsilon`` of the target, the
    insensitive losses ignore errors smaller than ``epsilon``.""",
    "shuffle": """\
shuffle : bool or 'blocks', default=True
    Visit the samples in a fresh random order each epoch (online and
    mini-batch solvers). ``'blocks'``: cut the rows into blocks of
    ``batch_size`` consecutive rows and visit the blocks in a fresh random
    order, each one as a mini-batch; reading contiguous rows makes a
    mini-batch epoch of dense data about 1.6x as fast. The cuts move by a
    random offset each epoch, but neighbouring rows mostly share a batch, so
    use it on rows already in random order (shuffle them once beforehand if
    they are sorted, by class or by time). The same as ``True`` for the
    online solver.""",
    "random_state": """\
random_state : int, RandomState instance or None, default=None
    Seeds the shuffling and the validation split. The same integer gives a
    bit-identical fit.""",
    "warm_start": """\
warm_start : bool or 'resume', default=False
    ``True``: start ``fit`` from the previous ``coef_`` and ``intercept_``,
    as if passed as ``coef_init`` and ``intercept_init``; the schedule's
    update count and the optimizer's state start afresh (scikit-learn SGD's
    meaning). ``'resume'``: continue exactly where the previous ``fit``
    stopped, keeping the iterate, the update count, the average and the
    optimizer's state (velocities, moments), so that ``fit`` twice is one
    longer ``fit`` (without shuffling).""",
    "average": """\
average : bool or int, default=False
    Averaged SGD (Polyak & Juditsky 1992), as scikit-learn's SGD defines
    it: from update ``average`` on (``True``: from the first), ``coef_`` is
    the running mean of the iterates instead of the last one, which cancels
    much of the stochastic solvers' noise without a decaying rate.""",
    "divergence_recovery": """\
divergence_recovery : int, default=0
    How many times a diverging epoch (objective non-finite, or 1e6 times its
    start) is undone and retried with the learning rate halved before the
    divergence error is raised; each halving is recorded in
    ``history_['lr_halvings']``. 0, the default, raises at once: a learning
    rate that needs rescuing is better fixed by the user.""",
    "divergence_check": """\
divergence_check : bool, default=True
    Raise (or, with ``divergence_recovery``, retry) when an epoch's
    training objective is non-finite or grows a million times its start.
    ``False`` trains on as scikit-learn's SGD does, however large the
    objective grows: only coefficients that overflow to inf or NaN raise,
    with SGD's floating-point under-/overflow error.""",
    "record_coef": """\
record_coef : bool, default=False
    Also record the coefficients and intercepts after every epoch in
    ``history_['coef']`` and ``history_['intercept']`` (the optimisation
    path, for plots).""",
    "epoch_loss": """\
epoch_loss : {'exact', 'running'}, default='exact'
    The training objective the online and minibatch solvers record in
    ``loss_curve_`` and ``history_['loss']``, and stop on with ``tol``.
    ``'exact'``: the objective at the epoch's end, which costs one more pass
    over the data (a gather of the coefficients per non-zero, no update).
    ``'running'``: the mean of the losses met during the epoch, each before
    its update, plus the penalty at the epoch's end, as scikit-learn's SGD
    and MLP estimators record it: free, but it lags behind the parameters
    and carries the updates' noise. The path of training is the same
    either way (with ``tol=None``, the same coefficients). The batch solver
    always has the exact objective. On dask arrays, ``'running'`` also saves
    the cluster a pass per epoch: the blocks report the losses their local
    epochs met.""",
    "verbose": """\
verbose : int, default=0
    Print one line per epoch (objective, coefficient norm, rate, time).""",
}

SHARED_ATTRIBUTES = {
    "solver_": """\
solver_ : str
    The solver of the last fit: ``solver``, or what ``'auto'`` chose.""",
    "dual_gap_": """\
dual_gap_ : float
    The duality gap at the returned parameters: ``P(coef_) - D(alpha)`` for
    a dual-feasible ``alpha``, an upper bound on how far the training
    objective is above its minimum (scikit-learn's name, from ElasticNet).
    Set by the solvers that stop on it (``'lbfgs'``, ``'accelerated'``,
    ``'batch'``, ``'saga'``, ``'sdca'``) where the objective has a certificate (a penalty,
    and not the perceptron); ``history_['dual_gap']`` has every gap they
    computed (NaN at the other epochs).""",
    "n_iter_": """\
n_iter_ : int
    Epochs run by the last ``fit`` (cumulated over ``partial_fit`` calls).""",
    "t_": """\
t_ : int
    Updates made so far, plus one (SGD's convention): across ``partial_fit``
    calls and ``warm_start='resume'``; ``fit`` and ``warm_start=True``
    restart the count.""",
    "eta0_": """\
eta0_ : float
    The initial learning rate in effect (``eta0``, or the automatic step).""",
    "loss_curve_": """\
loss_curve_ : list of float
    The training objective after each epoch; ``partial_fit`` extends the
    same list, as MLPRegressor's.""",
    "history_": """\
history_ : mapping of str to ndarray
    Per-epoch records of equal length, as read-only arrays in a mapping
    (``dict(history_)`` makes a dict of them): ``'loss'`` (training objective),
    ``'learning_rate'`` (of the epoch's last update; the accepted step for
    ``'accelerated'``, the line search's step along the quasi-Newton
    direction for ``'lbfgs'``), ``'grad_norm'`` (norm of the gradient of the
    objective's smooth part after the epoch: with an L1 penalty it need not
    reach 0; for ``'accelerated'``, the norm of the gradient mapping at the
    extrapolated point, computed on the way; NaN for the online and
    minibatch solvers, which never form the full gradient), ``'coef_norm'``,
    ``'lr_halvings'`` (divergence recoveries so far), ``'time'`` (seconds
    since the fit began), for the solvers that stop on a certificate
    ``'dual_gap'`` (NaN where none was computed) and, with validation data,
    ``'val_score'``; with
    ``record_coef``, ``'coef'`` and ``'intercept'`` stacked per epoch.
    ``partial_fit`` appends, at the cost of its own epochs only (a record
    that only some calls make is NaN elsewhere; the ``'coef'`` path is kept
    while every call records it). With ``average``, the records describe
    the optimizer's last iterate, not the averaged ``coef_``.""",
    "validation_scores_": """\
validation_scores_ : list of float
    The validation score after each epoch (with ``early_stopping``, or
    ``partial_fit`` with ``validation_data``).""",
    "best_validation_score_": """\
best_validation_score_ : float
    The best of ``validation_scores_``.""",
    "n_features_in_": """\
n_features_in_ : int
    Number of features seen during ``fit``.""",
    "feature_names_in_": """\
feature_names_in_ : ndarray of shape (`n_features_in_`,)
    Names of the features seen during ``fit``, when they are all strings.""",
}


def _indent(text, spaces=4):
    pad = " " * spaces
    return "\n".join(pad + line if line else line for line in text.splitlines())


def fill_doc(cls):
    """Substitute ``{name}`` entries of ``cls.__doc__`` with the shared texts."""
    entries = {**SHARED, **SHARED_ATTRIBUTES}
    cls.__doc__ = cls.__doc__.format(
        **{key: _indent(value).lstrip() for key, value in entries.items()}
    )
    return cls
