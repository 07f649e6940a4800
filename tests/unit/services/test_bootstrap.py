"""What the bootstrap refuses before it touches ZenML."""

from __future__ import annotations

import re

import pytest

from src.errors import ConfigError
from src.services.bootstrap import require_separate_zenml_state


def test_bootstrap_refuses_the_embedded_zenml_state(monkeypatch: pytest.MonkeyPatch) -> None:
    from src.runtime_env import PROJECT_ROOT

    monkeypatch.setenv("ZENML_CONFIG_PATH", str(PROJECT_ROOT / ".zenml-state"))
    with pytest.raises(ConfigError, match=re.escape("ZENML_CONFIG_PATH=./.zenml-server-state")):
        require_separate_zenml_state()
