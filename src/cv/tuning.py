"""An Optuna study over the ``cv.grid`` ranges: search space, pruning, storage, trial records.

Plain functions the runner ``python -m src.zenml_pipelines.run_yolo_tune`` wires together:

* :func:`search_space` reads the space from ``cv.grid`` (so the grid and the study always
  search the same ranges): lr0 continuous on a log scale between the grid's smallest and
  largest lr0, epochs an integer between the grid's bounds, every other grid axis as a
  category; an axis with one value is fixed, not searched;
* :func:`suggest_params` turns a trial's suggestions into a :class:`CvTrainParams`
  validated by the same schema as every other run;
* :func:`pruning_callback` is an ultralytics ``on_fit_epoch_end`` callback: it reports each
  epoch's val mAP50-95 to the trial and, when the pruner says so, stops the training after
  that epoch (ultralytics then validates ``best.pt`` and the run ends normally, so a pruned
  trial still leaves one finished ZenML run and one finished MLflow run);
* :func:`open_study` keeps the study in ``runs/optuna/<study>.db`` (Optuna's SQLite
  storage): rerunning the same study resumes it, a trial that an interrupted process left
  ``RUNNING`` is marked ``FAIL`` (and not counted), and a lock file keeps two processes
  from running one study at once.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from src.config import (
    OPTUNA_DIR,
    CvGridParams,
    CvParams,
    CvTrainParams,
    CvTuneParams,
    with_overrides,
)
from src.errors import ConfigError
from src.io_utils import display_path

if TYPE_CHECKING:
    import optuna

#: MLflow tags (and ZenML run tags) that tie a run to its study and trial.
STUDY_TAG = "optuna_study"
TRIAL_TAG = "optuna_trial"
STATE_TAG = "optuna_state"
PRUNED_AT_TAG = "optuna_pruned_at_epoch"
#: The per-epoch value the pruner sees: ultralytics' key of val mAP50-95.
PRUNING_KEY = "metrics/mAP50-95(B)"
#: Study attribute holding the fingerprint of the settings the study was created with.
SETTINGS_ATTR = "settings_fingerprint"
#: Trial attribute holding the pipeline's summary (what selection and the report need).
SUMMARY_ATTR = "summary"
SUMMARY_KEYS = (
    "config_name",
    "run_name",
    "mlflow_run_id",
    "metrics",
    "test_metrics",
    "train_seconds",
    "params",
)


# --------------------------------------------------------------------------- search space
@dataclass(frozen=True)
class SearchSpace:
    """What a trial may choose: lr0 and epochs ranges, categories, and fixed values."""

    lr0: tuple[float, float]
    epochs: tuple[int, int]
    categories: dict[str, tuple[Any, ...]] = field(default_factory=dict)

    def describe(self) -> str:
        """Return one line naming every dimension, e.g. ``lr0 log[0.001, 0.004], ...``."""
        parts = [
            f"lr0 log[{self.lr0[0]:g}, {self.lr0[1]:g}]"
            if self.lr0[0] < self.lr0[1]
            else f"lr0 {self.lr0[0]:g}",
            f"epochs int[{self.epochs[0]}, {self.epochs[1]}]"
            if self.epochs[0] < self.epochs[1]
            else f"epochs {self.epochs[0]}",
        ]
        parts += [
            f"{key} {{{', '.join(str(v) for v in values)}}}" if len(values) > 1 else
            f"{key} {values[0]}"
            for key, values in self.categories.items()
        ]  # fmt: skip
        return ", ".join(parts)

    def searched_axes(self) -> tuple[str, ...]:
        """Return the axes with more than one possible value (they name a trial's config)."""
        axes = []
        if self.epochs[0] < self.epochs[1]:
            axes.append("epochs")
        axes += [key for key, values in self.categories.items() if len(values) > 1]
        if self.lr0[0] < self.lr0[1]:
            axes.append("lr0")
        return tuple(axes)


def search_space(grid: CvGridParams) -> SearchSpace:
    """Return the study's space over the same ranges as ``grid``."""
    categories = {
        key: tuple(values)
        for key, values in grid.model_dump().items()
        if key not in ("lr0", "epochs") and values is not None
    }
    return SearchSpace(
        lr0=(min(grid.lr0), max(grid.lr0)),
        epochs=(min(grid.epochs), max(grid.epochs)),
        categories=categories,
    )


def suggest_params(
    trial: optuna.trial.BaseTrial, space: SearchSpace, base: CvTrainParams, source: str
) -> CvTrainParams:
    """Return ``base`` with the trial's choices applied, validated by the schema."""
    low, high = space.lr0
    chosen: dict[str, Any] = {
        "lr0": trial.suggest_float("lr0", low, high, log=True) if low < high else low,
        "epochs": (
            trial.suggest_int("epochs", *space.epochs)
            if space.epochs[0] < space.epochs[1]
            else space.epochs[0]
        ),
    }
    for key, values in space.categories.items():
        chosen[key] = trial.suggest_categorical(key, list(values)) if len(values) > 1 else values[0]
    return with_overrides(base, f"{source} (trial {trial.number})", **chosen)


def config_name_for(params: CvTrainParams, space: SearchSpace, number: int) -> str:
    """Return a trial's configuration name, e.g. ``t3_yolo_e37_img160_lr0.00312``."""
    parts = [f"t{number}", "yolo", f"e{params.epochs}", f"img{params.imgsz}"]
    if "batch" in space.categories:
        parts.append(f"b{params.batch}")
    parts.append(f"lr{params.lr0:.3g}")
    return "_".join(parts)


# --------------------------------------------------------------------------- pruning
@dataclass
class PruningState:
    """What the pruning callback saw: values reported, and the epoch it stopped at."""

    reported: dict[int, float] = field(default_factory=dict)
    pruned_at_epoch: int | None = None
    finished: bool = False


def pruning_callback(trial: Any) -> tuple[Callable[[Any], None], PruningState]:
    """Return an ``on_fit_epoch_end`` callback feeding ``trial``, and the state it fills.

    Each epoch's val mAP50-95 goes to ``trial.report(value, step=epoch)`` (1-based); when
    ``trial.should_prune()`` the trainer is told to stop after this epoch. The call that
    ultralytics makes once more after the loop (validating ``best.pt``) is not an epoch and
    is ignored. A closure, not an object: ultralytics deep-copies its default callbacks,
    and a copied trial would report nowhere.
    """
    state = PruningState()

    def on_fit_epoch_end(trainer: Any) -> None:
        if state.finished:
            return
        epoch = int(trainer.epoch) + 1
        value = float((trainer.metrics or {}).get(PRUNING_KEY, 0.0))
        if not math.isfinite(value):
            value = 0.0
        trial.report(value, step=epoch)
        state.reported[epoch] = value
        if trainer.stop:  # the last epoch, or ultralytics' own early stopping
            state.finished = True
        elif trial.should_prune():
            trainer.stop = True
            state.finished = True
            state.pruned_at_epoch = epoch

    return on_fit_epoch_end, state


@contextlib.contextmanager
def trainer_callback(event: str, callback: Callable[[Any], None]) -> Iterator[None]:
    """Add ``callback`` to every ultralytics model created inside the block, then remove it.

    The training step builds its own ``YOLO`` object; ultralytics copies its module-level
    default callbacks into each new model, so this reaches the step's trainer without a
    parameter (ZenML's local orchestrator runs the steps in this process).
    """
    from ultralytics.utils.callbacks.base import default_callbacks

    default_callbacks.setdefault(event, []).append(callback)
    try:
        yield
    finally:
        with contextlib.suppress(ValueError):
            default_callbacks[event].remove(callback)


# --------------------------------------------------------------------------- objective
#: Runs one configuration (one ZenML pipeline run) and returns its summary.
RunTrial = Callable[[CvTrainParams, str, dict[str, str]], dict[str, Any]]


def make_objective(
    space: SearchSpace,
    base: CvTrainParams,
    run_trial: RunTrial,
    *,
    study_name: str,
    metric: str,
    source: str = "cv.tune",
    on_trial_end: Callable[[int, dict[str, Any], PruningState], None] | None = None,
) -> Callable[[Any], float]:
    """Return the objective: one trial = one pipeline run; its value = the final ``metric``.

    The summary is kept with the trial (so a resumed study can still pick and report its
    best); a pruned trial's run finishes, then the trial is marked PRUNED.
    """
    import optuna

    def objective(trial: Any) -> float:
        params = suggest_params(trial, space, base, source)
        name = config_name_for(params, space, trial.number)
        callback, state = pruning_callback(trial)
        tags = {STUDY_TAG: study_name, TRIAL_TAG: str(trial.number)}
        with trainer_callback("on_fit_epoch_end", callback):
            summary = run_trial(params, name, tags)
        trial.set_user_attr(SUMMARY_ATTR, compact_summary(summary))
        if state.pruned_at_epoch is not None:
            trial.set_user_attr("pruned_at_epoch", state.pruned_at_epoch)
        if on_trial_end is not None:
            on_trial_end(trial.number, summary, state)
        if state.pruned_at_epoch is not None:
            raise optuna.TrialPruned(f"pruned after epoch {state.pruned_at_epoch}")
        return float(summary["metrics"].get(metric, 0.0))

    return objective


# --------------------------------------------------------------------------- storage
def study_path(study_name: str, folder: Path = OPTUNA_DIR) -> Path:
    """Return the SQLite file of ``study_name``."""
    return folder / f"{study_name}.db"


def settings_fingerprint(cv: CvParams, space: SearchSpace) -> str:
    """Return a hash of what makes two studies comparable: space, base params, data, seed.

    ``plots`` is left out: drawing them changes no metric, so turning them off resumes a study.
    """
    settings = {
        "space": {
            "lr0": list(space.lr0),
            "epochs": list(space.epochs),
            "categories": {k: list(v) for k, v in space.categories.items()},
        },
        "train": cv.train.model_dump(exclude={"plots"}),
        "dataset": cv.dataset.model_dump(),
        "selection_metric": cv.tracking.selection_metric,
        "seed": cv.tune.seed,
    }
    text = json.dumps(settings, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass
class OpenStudy:
    """A loaded study, its storage file, and the trials an interrupted run left behind."""

    study: optuna.Study
    path: Path
    resumed: bool
    failed_stale: list[int]


@contextlib.contextmanager
def open_study(
    tune: CvTuneParams, fingerprint: str, *, folder: Path = OPTUNA_DIR, name: str | None = None
) -> Iterator[OpenStudy]:
    """Yield the study (created, or loaded to resume), holding its lock while open.

    Raises ConfigError when another process runs the same study, or when the study was
    created with other settings (a resumed study must keep searching the same problem).
    """
    import optuna
    from optuna.trial import TrialState

    name = name or tune.study_name
    path = study_path(name, folder)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock_path = path.with_suffix(".lock")
    with open(lock_path, "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ConfigError(
                f"{display_path(path)}: study '{name}' is being run by another process; "
                "wait for it or pick another --study"
            ) from None
        lock.seek(0)
        lock.truncate()
        lock.write(f"{os.getpid()}\n")
        lock.flush()
        existed = path.is_file()
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        storage = optuna.storages.RDBStorage(f"sqlite:///{path}")
        study = optuna.create_study(
            study_name=name,
            storage=storage,
            direction="maximize",
            sampler=optuna.samplers.TPESampler(
                seed=tune.seed, n_startup_trials=tune.startup_trials
            ),
            pruner=optuna.pruners.MedianPruner(
                n_startup_trials=tune.startup_trials, n_warmup_steps=tune.warmup_epochs
            ),
            load_if_exists=True,
        )
        recorded = study.user_attrs.get(SETTINGS_ATTR)
        if recorded is None:
            study.set_user_attr(SETTINGS_ATTR, fingerprint)
        elif recorded != fingerprint:
            raise ConfigError(
                f"{display_path(path)}: study '{name}' was created with other cv.grid, "
                "cv.train, cv.dataset or cv.tune.seed settings; pass --study NEW_NAME or "
                "delete the file to start over"
            )
        # We hold the lock, so a RUNNING trial belongs to a process that is gone.
        stale = [t for t in study.get_trials(deepcopy=False) if t.state == TrialState.RUNNING]
        study_id = storage.get_study_id_from_name(name)
        for trial in stale:
            trial_id = storage.get_trial_id_from_study_id_trial_number(study_id, trial.number)
            storage.set_trial_state_values(trial_id, TrialState.FAIL)
        with contextlib.suppress(OSError):
            path.chmod(0o644)
        try:
            yield OpenStudy(study, path, existed, [t.number for t in stale])
        finally:
            storage.remove_session()
            lock.seek(0)
            lock.truncate()


def counted_trials(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    """Return the trials that count toward ``n_trials``: complete and pruned ones."""
    from optuna.trial import TrialState

    return study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED))


def trials_left(study: optuna.Study, n_trials: int) -> int:
    """Return how many new trials bring the study to ``n_trials`` in all."""
    return max(0, n_trials - len(counted_trials(study)))


def compact_summary(summary: dict[str, Any]) -> dict[str, Any]:
    """Return the part of a pipeline summary kept with the trial (JSON, small)."""
    return json.loads(json.dumps({k: summary.get(k) for k in SUMMARY_KEYS}, default=str))


def complete_summaries(study: optuna.Study) -> list[dict[str, Any]]:
    """Return the summaries of the complete trials (pruned ones never win), oldest first."""
    from optuna.trial import TrialState

    return [
        {**t.user_attrs[SUMMARY_ATTR], "trial": t.number}
        for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        if SUMMARY_ATTR in t.user_attrs
    ]


def trials_table(study: optuna.Study, metric: str) -> str:
    """Return a markdown table of every trial: state, value, params, pruned epoch, time."""
    lines = [
        f"| trial | state | {metric} | epochs run | lr0 | params | seconds |",
        "|---|---|---|---|---|---|---|",
    ]
    for trial in study.get_trials(deepcopy=False):
        summary = trial.user_attrs.get(SUMMARY_ATTR, {})
        value = "-" if trial.value is None else f"{trial.value:.3f}"
        if trial.value is None and summary:
            value = f"({summary['metrics'].get(metric, 0.0):.3f})"
        run = summary.get("metrics", {}).get("epochs_completed")
        epochs = "-" if run is None else f"{int(run)}"
        if trial.user_attrs.get("pruned_at_epoch"):
            epochs += f" (pruned at {trial.user_attrs['pruned_at_epoch']})"
        others = ", ".join(f"{k}={v}" for k, v in trial.params.items() if k != "lr0") or "-"
        lr0 = trial.params.get("lr0")
        seconds = (
            f"{(trial.datetime_complete - trial.datetime_start).total_seconds():.0f}"
            if trial.datetime_complete and trial.datetime_start
            else "-"
        )
        lines.append(
            f"| {trial.number} | {trial.state.name} | {value} | {epochs} | "
            f"{'-' if lr0 is None else f'{lr0:.4g}'} | {others} | {seconds} |"
        )
    return "\n".join(lines)
