"""Shared fixtures. Tests never touch the developer's MLflow store, ZenML state or $HOME.

Tests under ``tests/integration/`` are marked ``integration`` automatically;
``make test-fast`` deselects them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# A developer's .env may select the server stack; tests choose their stores themselves.
# Set before `src` is imported, since importing it applies .env.
os.environ.setdefault("MLOPS_DOTENV", os.devnull)

from src.config import clear_config_cache

ROOT = Path(__file__).resolve().parent.parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "integration" in Path(str(item.fspath)).parts:
            item.add_marker(pytest.mark.integration)


@pytest.fixture(autouse=True)
def _fresh_config_cache() -> Iterator[None]:
    clear_config_cache()
    yield
    clear_config_cache()


@pytest.fixture
def mlflow_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point MLflow at a fresh SQLite store in ``tmp_path``; return its URI."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    import src.tracking

    src.tracking._experiment_ids.clear()
    return uri


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Drop tracking/stack variables a developer's shell or .env may carry."""
    for key in list(os.environ):
        if key.startswith(("MLFLOW_TRACKING", "ZENML_STORE", "AWS_", "S3_", "DVC_REMOTE")):
            monkeypatch.delenv(key, raising=False)
