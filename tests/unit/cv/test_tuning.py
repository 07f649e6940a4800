"""The Optuna study's parts: search space from cv.grid, pruning callback, storage, objective."""

from __future__ import annotations

import fcntl
from pathlib import Path
from typing import Any

import optuna
import pytest
from optuna.trial import TrialState

from src.config import CvGridParams, CvParams, CvTrainParams, CvTuneParams
from src.cv.tuning import (
    PRUNING_KEY,
    STUDY_TAG,
    SUMMARY_ATTR,
    TRIAL_TAG,
    complete_summaries,
    make_objective,
    open_study,
    pruning_callback,
    search_space,
    settings_fingerprint,
    study_path,
    suggest_params,
    trainer_callback,
    trials_left,
)
from src.errors import ConfigError

BASE = CvTrainParams(epochs=40, imgsz=160, lr0=0.002)


class FakeTrainer:
    """What the callback reads of an ultralytics trainer: epoch (0-based), metrics, stop."""

    def __init__(self, epochs: int) -> None:
        self.epochs, self.epoch, self.stop, self.metrics = epochs, 0, False, {}

    def run(self, values: list[float], callbacks: list[Any]) -> int:
        """Run ultralytics' loop: per epoch the callbacks, then once more after the loop."""
        for epoch, value in enumerate(values):
            self.epoch, self.metrics = epoch, {PRUNING_KEY: value}
            self.stop |= epoch + 1 >= self.epochs
            for callback in callbacks:
                callback(self)
            if self.stop:
                break
        ran = self.epoch + 1
        self.epoch += 1  # final validation of best.pt, as ultralytics' final_eval does
        self.metrics = {PRUNING_KEY: 0.99}
        for callback in callbacks:
            callback(self)
        return ran


class FakeTrial:
    """Records reports; says prune from ``prune_from`` (1-based epoch) on."""

    def __init__(self, prune_from: int | None = None) -> None:
        self.reports: list[tuple[int, float]] = []
        self.prune_from = prune_from

    def report(self, value: float, step: int) -> None:
        self.reports.append((step, value))

    def should_prune(self) -> bool:
        return self.prune_from is not None and self.reports[-1][0] >= self.prune_from


# --------------------------------------------------------------------------- search space
def test_space_spans_the_grid_ranges() -> None:
    space = search_space(CvGridParams(epochs=[20, 40, 30], imgsz=[160], lr0=[0.004, 0.001]))
    assert space.lr0 == (0.001, 0.004)
    assert space.epochs == (20, 40)
    assert space.categories == {"imgsz": (160,)}
    assert "lr0 log[0.001, 0.004]" in space.describe()
    assert space.searched_axes() == ("epochs", "lr0")


def test_other_grid_axes_become_categories() -> None:
    space = search_space(CvGridParams(epochs=[5], imgsz=[64, 96], lr0=[0.01], batch=[4, 8]))
    assert space.categories == {"imgsz": (64, 96), "batch": (4, 8)}
    assert space.searched_axes() == ("imgsz", "batch")  # one-value epochs and lr0 are fixed


def test_suggestions_stay_in_the_grid_ranges_with_lr0_on_a_log_scale() -> None:
    space = search_space(CvGridParams(epochs=[20, 40], imgsz=[64, 96], lr0=[0.001, 0.004]))
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=0), direction="maximize")
    seen = []
    for _ in range(12):
        trial = study.ask()
        params = suggest_params(trial, space, BASE, "test")
        seen.append(params)
        assert 0.001 <= params.lr0 <= 0.004
        assert 20 <= params.epochs <= 40
        assert params.imgsz in (64, 96)
        assert params.batch == BASE.batch and params.optimizer == BASE.optimizer
        study.tell(trial, params.lr0)
    distribution = study.trials[0].distributions["lr0"]
    assert isinstance(distribution, optuna.distributions.FloatDistribution)
    assert distribution.log and (distribution.low, distribution.high) == (0.001, 0.004)
    assert len({p.lr0 for p in seen}) == len(seen)  # continuous, not the grid's two values


def test_a_one_value_axis_is_fixed_not_searched() -> None:
    space = search_space(CvGridParams(epochs=[3], imgsz=[64], lr0=[0.01]))
    trial = optuna.trial.FixedTrial({})
    params = suggest_params(trial, space, BASE, "test")
    assert (params.epochs, params.imgsz, params.lr0) == (3, 64, 0.01)


# --------------------------------------------------------------------------- pruning
def test_callback_reports_each_epoch_and_stops_when_told_to_prune() -> None:
    trial = FakeTrial(prune_from=3)
    callback, state = pruning_callback(trial)
    ran = FakeTrainer(epochs=10).run([0.1, 0.2, 0.3, 0.4, 0.5], [callback])
    assert ran == 3
    assert trial.reports == [(1, 0.1), (2, 0.2), (3, 0.3)]  # not the best.pt validation
    assert state.pruned_at_epoch == 3 and state.reported == {1: 0.1, 2: 0.2, 3: 0.3}


def test_callback_lets_an_unpruned_training_end_by_itself() -> None:
    trial = FakeTrial(prune_from=None)
    callback, state = pruning_callback(trial)
    ran = FakeTrainer(epochs=3).run([0.1, float("nan"), 0.3], [callback])
    assert ran == 3
    assert trial.reports == [(1, 0.1), (2, 0.0), (3, 0.3)]
    assert state.pruned_at_epoch is None and state.finished


def test_trainer_callback_reaches_new_models_only_inside_the_block() -> None:
    from ultralytics.utils.callbacks.base import get_default_callbacks

    callback, _ = pruning_callback(FakeTrial())
    with trainer_callback("on_fit_epoch_end", callback):
        assert callback in get_default_callbacks()["on_fit_epoch_end"]
    assert callback not in get_default_callbacks()["on_fit_epoch_end"]


# --------------------------------------------------------------------------- storage
TUNE = CvTuneParams(study_name="unit", n_trials=3, startup_trials=1, warmup_epochs=0)


def test_a_study_resumes_from_its_file_and_fails_interrupted_trials(tmp_path: Path) -> None:
    with open_study(TUNE, "fp", folder=tmp_path) as first:
        assert not first.resumed
        first.study.tell(first.study.ask(), 0.5)
        first.study.ask()  # left RUNNING: its process "dies" here
    assert study_path("unit", tmp_path).is_file()
    with open_study(TUNE, "fp", folder=tmp_path) as second:
        assert second.resumed and second.failed_stale == [1]
        states = [t.state for t in second.study.trials]
        assert states == [TrialState.COMPLETE, TrialState.FAIL]
        assert trials_left(second.study, 3) == 2  # the failed trial does not count


def test_a_study_with_other_settings_is_not_resumed(tmp_path: Path) -> None:
    with open_study(TUNE, "fp-one", folder=tmp_path):
        pass
    refused = pytest.raises(ConfigError, match=r"unit\.db: study 'unit' was created with other")
    with refused, open_study(TUNE, "fp-two", folder=tmp_path):
        pass


def test_a_study_runs_in_one_process_at_a_time(tmp_path: Path) -> None:
    lock = study_path("unit", tmp_path).with_suffix(".lock")
    with open(lock, "a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        refused = pytest.raises(ConfigError, match="being run by another process")
        with refused, open_study(TUNE, "fp", folder=tmp_path):
            pass
    assert not study_path("unit", tmp_path).exists()  # nothing created while refused


def test_fingerprint_follows_the_space_and_the_base_params() -> None:
    cv = CvParams()
    space = search_space(cv.grid)
    other_grid = search_space(CvGridParams(epochs=[20, 40], lr0=[0.001, 0.01]))
    other_train = cv.model_copy(update={"train": BASE.model_copy(update={"batch": 8})})
    no_plots = cv.model_copy(update={"train": cv.train.model_copy(update={"plots": False})})
    assert settings_fingerprint(cv, space) == settings_fingerprint(CvParams(), space)
    assert settings_fingerprint(cv, space) != settings_fingerprint(cv, other_grid)
    assert settings_fingerprint(cv, space) != settings_fingerprint(other_train, space)
    assert settings_fingerprint(cv, space) == settings_fingerprint(no_plots, space)


# --------------------------------------------------------------------------- objective
def _fake_pipeline(curves: dict[int, list[float]]) -> Any:
    """A run_trial that 'trains' through the callbacks ultralytics would give a new model."""
    from ultralytics.utils.callbacks.base import get_default_callbacks

    calls: list[dict[str, Any]] = []

    def run_trial(params: CvTrainParams, name: str, tags: dict[str, str]) -> dict[str, Any]:
        curve = curves[int(tags[TRIAL_TAG])][: params.epochs]
        trainer = FakeTrainer(params.epochs)
        ran = trainer.run(curve, get_default_callbacks()["on_fit_epoch_end"])
        calls.append({"name": name, "tags": tags, "ran": ran})
        return {
            "config_name": name,
            "run_name": name,
            "mlflow_run_id": f"run{tags[TRIAL_TAG]}",
            "metrics": {"map50_95": max(curve[:ran]), "epochs_completed": float(ran)},
            "test_metrics": {},
            "train_seconds": float(ran),
            "params": params.model_dump(),
        }

    return run_trial, calls


def test_objective_runs_one_pipeline_per_trial_and_prunes_a_weak_one(tmp_path: Path) -> None:
    space = search_space(CvGridParams(epochs=[4, 5], imgsz=[64], lr0=[0.001, 0.004]))
    strong, weak = [0.2, 0.4, 0.6, 0.8, 0.9], [0.0, 0.05, 0.1, 0.1, 0.1]
    run_trial, calls = _fake_pipeline({0: strong, 1: weak})
    tune = TUNE.model_copy(update={"warmup_epochs": 2})
    with open_study(tune, "fp", folder=tmp_path) as opened:
        objective = make_objective(space, BASE, run_trial, study_name="unit", metric="map50_95")
        opened.study.optimize(objective, n_trials=2)
        trials = opened.study.trials
        assert [t.state for t in trials] == [TrialState.COMPLETE, TrialState.PRUNED]
        assert trials[1].user_attrs["pruned_at_epoch"] == 2  # the warm-up's last epoch
        assert list(trials[1].intermediate_values) == [1, 2]
        assert calls[1]["ran"] == 2
        assert calls[0]["tags"] == {STUDY_TAG: "unit", TRIAL_TAG: "0"}
        assert calls[0]["name"].startswith("t0_yolo_e")
        assert trials[0].value == (0.9 if trials[0].params["epochs"] == 5 else 0.8)
        best = complete_summaries(opened.study)
        assert [s["trial"] for s in best] == [0]  # a pruned trial never wins
        assert SUMMARY_ATTR in trials[1].user_attrs  # but its run is on record
    from ultralytics.utils.callbacks.base import default_callbacks

    assert not any("pruning" in repr(c) for c in default_callbacks["on_fit_epoch_end"])
