"""The order of the gallery: from the basic step to the practical tools."""

ORDER = [
    "plot_trial_and_error.py",
    "plot_solvers.py",
    "plot_learning_rate.py",
    "plot_momentum_paths.py",
    "plot_optimizers.py",
    "plot_schedules.py",
    "plot_averaging.py",
    "plot_closed_form.py",
    "plot_convergence.py",
    "plot_default_vs_lbfgs.py",
    "plot_watching_training.py",
    "plot_decision_boundaries.py",
    "plot_grid_search.py",
    "plot_sparse_text.py",
    "plot_out_of_core.py",
    "plot_dask_training.py",
]


class ExampleOrder:
    """sphinx-gallery sort key: the examples of ``ORDER`` first, in that order,
    then any other example by file name."""

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __call__(self, filename):
        if filename in ORDER:
            return (0, ORDER.index(filename), filename)
        return (1, 0, filename)

    def __repr__(self):
        return f"<{self.__class__.__name__}>"
