"""Shared fixtures. Tests never touch the developer's MLflow store, ZenML state or $HOME.

Tests under ``tests/integration/`` are marked ``integration`` automatically;
``make test-fast`` deselects them. Every test stands alone: git's and DVC's global
configuration live in a folder of the session, MLflow's process-wide state (tracking
URI, active run, experiment) is reset after each test, and each MLflow store is a copy
of one migrated once per session.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from src.config import clear_config_cache
from src.runtime_env import apply_runtime_defaults

ROOT = Path(__file__).resolve().parent.parent
_SESSION_HOME: Path | None = None


def pytest_configure(config: pytest.Config) -> None:
    """Apply the project's environment as an entry point would, minus a developer's .env."""
    global _SESSION_HOME
    # A developer's .env may select the server stack; tests choose their stores themselves.
    os.environ["MLOPS_DOTENV"] = os.devnull
    apply_runtime_defaults()
    _SESSION_HOME = Path(tempfile.mkdtemp(prefix="mlops-tests-config-"))
    gitconfig = _SESSION_HOME / "gitconfig"
    gitconfig.write_text(
        "[user]\n\tname = mlops-reference tests\n\temail = tests@localhost\n"
        "[init]\n\tdefaultBranch = main\n"
    )
    # Test repos (git init, dvc init, dvc exp run) see this configuration, never the user's.
    os.environ["GIT_CONFIG_GLOBAL"] = str(gitconfig)
    os.environ["GIT_CONFIG_NOSYSTEM"] = "1"
    for variable, folder in (
        ("DVC_GLOBAL_CONFIG_DIR", "dvc-global"),
        ("DVC_SYSTEM_CONFIG_DIR", "dvc-system"),
        ("DVC_SITE_CACHE_DIR", "dvc-site-cache"),
    ):
        os.environ[variable] = str(_SESSION_HOME / folder)


def pytest_unconfigure(config: pytest.Config) -> None:
    if _SESSION_HOME is not None:
        shutil.rmtree(_SESSION_HOME, ignore_errors=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "integration" in Path(str(item.fspath)).parts:
            item.add_marker(pytest.mark.integration)
    # Longest work first, so no worker is left alone with it at the end: the server stack's
    # tests, the other integration tests, then the unit tests. A stable sort: the shuffled
    # order (pytest-randomly runs before this hook) is kept inside each part.
    items.sort(key=lambda item: _run_rank(item.nodeid))


#: The test folder whose tests share the server stack (one session fixture starts it).
STACK_TESTS = "tests/integration/services/"


def _run_rank(nodeid: str) -> int:
    """Return 0 for the server-stack tests, 1 for other integration tests, 2 for unit tests."""
    if nodeid.startswith(STACK_TESTS):
        return 0
    return 1 if nodeid.startswith("tests/integration/") else 2


def work_unit(nodeid: str) -> str:
    """Return the unit of work ``nodeid`` belongs to under ``make test`` (pytest-xdist).

    A unit runs on one worker: a test module (its module-scoped fixtures are built once),
    and every server-stack test together (they share the stack ``stack`` starts once).
    """
    path = nodeid.split("::", 1)[0]
    return STACK_TESTS if path.startswith(STACK_TESTS) else path


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Hand out :func:`work_unit` units, in collection order (``make test``: ``-n auto``).

    xdist's own ``--dist loadgroup`` cannot do this here: it renames ``item._nodeid``,
    which pytest 9 no longer reads (``Node.nodeid`` comes from ``_id``), so its groups are
    silently ignored (pytest-xdist 3.8).
    """
    from xdist.scheduler import LoadScopeScheduling

    class WorkUnitScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return work_unit(nodeid)

    return WorkUnitScheduling(config, log)


@pytest.fixture(autouse=True)
def _fresh_config_cache() -> Iterator[None]:
    clear_config_cache()
    yield
    clear_config_cache()


#: Environment variables MLflow itself sets in the process.
_MLFLOW_PROCESS_VARIABLES = (
    "MLFLOW_TRACKING_URI",
    "MLFLOW_REGISTRY_URI",
    "MLFLOW_EXPERIMENT_ID",
    "MLFLOW_EXPERIMENT_NAME",
    "MLFLOW_RUN_ID",
)


@pytest.fixture(autouse=True)
def _reset_mlflow_state() -> Iterator[None]:
    """Leave MLflow's process-wide state as the test found it, whatever the test did."""
    saved = {name: os.environ.get(name) for name in _MLFLOW_PROCESS_VARIABLES}
    yield
    if "mlflow" in sys.modules:
        import mlflow
        import mlflow.tracking.fluent

        while mlflow.active_run() is not None:
            mlflow.end_run()
        mlflow.set_tracking_uri(None)  # type: ignore[arg-type]  # None means "unset"
        mlflow.set_registry_uri(None)  # type: ignore[arg-type]
        mlflow.tracking.fluent._active_experiment_id = None
    for name, value in saved.items():  # mlflow.set_tracking_uri / set_experiment write them
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    if "src.tracking" in sys.modules:
        sys.modules["src.tracking"]._experiment_ids.clear()


@pytest.fixture(scope="session")
def migrated_mlflow_db(pytestconfig: pytest.Config) -> Path:
    """Return an empty MLflow SQLite store, migrated once per MLflow version (seconds).

    Kept in pytest's cache folder, keyed by the installed MLflow version, so only the first
    session after a clone or an upgrade pays the migrations. Tests only ever copy it.
    """
    from importlib.metadata import version

    cache = pytestconfig.cache
    assert cache is not None
    folder = cache.mkdir(f"mlflow-template-{version('mlflow')}")
    db = folder / "mlflow.db"
    if not db.is_file():
        from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

        building = folder / f"building-{os.getpid()}"
        building.mkdir(exist_ok=True)
        store = SqlAlchemyStore(f"sqlite:///{building / 'mlflow.db'}", building.as_uri())
        store.engine.dispose()
        os.replace(building / "mlflow.db", db)  # atomic: a parallel session sees all or none
        shutil.rmtree(building, ignore_errors=True)
    return db


@pytest.fixture
def new_mlflow_db(migrated_mlflow_db: Path) -> Callable[[Path], str]:
    """Return a function that copies the migrated store into a folder and gives its URI."""

    def copy_into(folder: Path) -> str:
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(migrated_mlflow_db, folder / "mlflow.db")
        return f"sqlite:///{folder / 'mlflow.db'}"

    return copy_into


@pytest.fixture
def mlflow_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, new_mlflow_db: Callable[[Path], str]
) -> str:
    """Point MLflow at a fresh (already migrated) SQLite store in ``tmp_path``; return its URI."""
    uri = new_mlflow_db(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    return uri


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Drop tracking/stack variables a developer's shell or .env may carry."""
    for key in list(os.environ):
        if key.startswith(("MLFLOW_TRACKING", "ZENML_STORE", "AWS_", "S3_", "DVC_REMOTE")):
            monkeypatch.delenv(key, raising=False)
