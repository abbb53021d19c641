"""``python -m skgd``: runs, covers every configuration, and is right."""

import re

import numpy as np
import pytest

from skgd._demo import TASKS, configurations, load_task, main

ROW = re.compile(
    r"^(?P<task>\S+)\s+(?P<solver>batch|online|minibatch)\s+"
    r"(?P<rule>\S+(?: [\d.]+)?)\s+"
    r"(?P<epochs>\d+)\*?\s+(?P<time>[\d.]+) ms\s+(?P<objective>\S+)\s+(?P<score>\S+)\s+"
    r"(?P<distance>\S+)$"
)


def parse(output):
    rows = []
    for line in output.splitlines():
        match = ROW.match(line)
        if match:
            rows.append(match.groupdict())
    return rows


def test_default_run_has_a_row_per_configuration_and_batch_reaches_ridge(capsys):
    assert main([]) == 0
    output = capsys.readouterr().out
    rows = parse(output)
    expected = {(task, c.solver, c.rule) for task in TASKS for c in configurations()}
    assert len(rows) == len(expected)
    assert {(r["task"], r["solver"], r["rule"]) for r in rows} == expected

    diabetes_batch = {
        r["rule"]: r for r in rows if r["task"] == "diabetes" and r["solver"] == "batch"
    }
    exact = float(re.search(r"diabetes: .*exact objective (\S+)", output).group(1))
    for rule, row in diabetes_batch.items():
        assert np.isfinite(float(row["distance"])), rule
    # Full-batch descent with the automatic step reaches the ridge objective, and
    # with momentum the ridge coefficients themselves. Plain steps of 1/L need
    # about kappa = 440 epochs per decade on diabetes, so within the demo's 300
    # epochs their distance is only checked loosely.
    for rule in ("plain", "momentum 0.9", "nesterov 0.9", "rprop"):
        assert float(diabetes_batch[rule]["objective"]) - exact < 1e-2 * exact, rule
    for rule in ("momentum 0.9", "nesterov 0.9"):
        assert float(diabetes_batch[rule]["distance"]) < 2e-2, rule
    assert float(diabetes_batch["plain"]["distance"]) < 0.5


@pytest.mark.parametrize("name", list(TASKS))
def test_numpy_objective_is_the_estimators(name):
    # The plot's objective gap relies on the two agreeing, and on the exact
    # solution being the minimum of that same objective.
    task = load_task(name)
    for config in configurations()[:2]:
        estimator = task.estimator(config, max_iter=5, tol=None, seed=0)
        estimator.fit(task.X_train, task.y_train)
        value = task.objective(estimator.coef_, estimator.intercept_)
        assert value == pytest.approx(estimator.history_["loss"][-1], rel=1e-10)
        assert value >= task.best_objective - 1e-12


def test_plot_writes_a_png(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    path = tmp_path / "curves.png"
    assert main(["--tasks", "iris", "--max-iter", "20", "--plot", str(path)]) == 0
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert str(path) in capsys.readouterr().out


def test_help_explains_the_options(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for option in ("--plot", "--max-iter", "--tol", "--tasks", "--seed", "--alpha"):
        assert option in text
