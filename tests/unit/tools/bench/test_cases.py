"""tools/bench/cases.py: which cases a command line selects."""

from __future__ import annotations

import pytest

from tools.bench import cases


def test_selection_defaults_to_b1_to_b6() -> None:
    assert [b.id for b in cases.select(None, everything=False)] == [f"B{i}" for i in range(1, 7)]
    assert [b.id for b in cases.select(None, everything=True)][-1] == "B7"
    assert [b.id for b in cases.select("b6, B1", everything=False)] == ["B6", "B1"]
    with pytest.raises(SystemExit, match="unknown id"):
        cases.select("B9", everything=False)
