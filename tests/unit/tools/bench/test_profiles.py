"""tools/bench/profiles.py: reading `python -X importtime` output."""

from __future__ import annotations

from tools.bench import profiles


def test_top_imports_reads_importtime_output() -> None:
    output = "\n".join(
        [
            "import time: self [us] | cumulative | imported package",
            "import time:       100 |        200 |   numpy.core",
            "import time:       300 |    1500000 | numpy",
            "import time:        50 |     250000 | yaml",
        ]
    )
    assert profiles.top_imports(output, 5) == [(1.5, "numpy"), (0.25, "yaml")]


def test_profile_parts_name_functions_the_project_still_has() -> None:
    parts = [*profiles.B1_PARTS.values(), *profiles.B4_PARTS.values(), *profiles.B8_PARTS.values()]
    for file_part, name in parts:
        if file_part.startswith("src/"):
            source = (profiles.ROOT / file_part).read_text()
            assert f"def {name}(" in source, f"{file_part} has no function {name}"
