"""Writing reports/bench.md and reports/bench.json from the results, merged with earlier ones."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from tools.bench.harness import ROOT, Result, machine_info

REPORTS_DIR = ROOT / "reports"
#: Where the time goes when a case misses its target (hand-written findings, by case id).
NOTES_PATH = Path(__file__).with_name("NOTES.md")


def seconds_text(value: float | None) -> str:
    """Return ``value`` as ``1.23 s`` (a dash for none)."""
    return "–" if value is None else f"{value:.2f} s"


def value_text(result: Result) -> str:
    """Return the result's value as the table shows it: a ratio, a count or a unit (dash)."""
    if result.value is None:
        return "–"
    if result.unit == "count":
        return f"{result.value:.0f}"
    if result.unit != "ratio":
        return f"{result.value:.2f} {result.unit}"
    # Three decimals: a ratio of 1.304 must not print as 1.30 beside a target it misses.
    return f"{result.value:.3f}"


def load_notes(path: Path = NOTES_PATH) -> dict[str, str]:
    """Return the findings per case id: each ``## <id>`` section of the notes file, unwrapped.

    A section's lines are joined with spaces; blank lines keep its paragraphs apart.
    """
    _, *sections = re.split(r"^## +(\S+)[ \t]*$", path.read_text(), flags=re.MULTILINE)
    notes = {}
    for case_id, body in zip(sections[::2], sections[1::2], strict=True):
        paragraphs = (" ".join(p.split()) for p in re.split(r"\n\s*\n", body))
        notes[case_id] = "\n\n".join(p for p in paragraphs if p)
    return notes


def render_markdown(
    results: Sequence[Result],
    machine: dict[str, Any],
    argv: str,
    baseline: dict[str, Any] | None = None,
    notes: Mapping[str, str] | None = None,
) -> str:
    """Return bench.md: the table, before/after, machine and versions, then each id's details.

    ``baseline`` is ``{"label": ..., "results": {id: {"value": ..., "a": ..., "b": ...}}}``;
    ``notes`` (see ``load_notes``) says, per id, where the time goes when its target is missed.
    """
    notes = notes or {}
    lines = [
        "# Benchmarks",
        "",
        f"Written by `{argv}`; each id below names the command, time and machine load it was "
        "measured under. Every figure is the median of the runs listed there (all samples in "
        "bench.json), taken after a warm-up, the two sides alternated.",
        "",
        "| id | what | A | B | A median | B median | value | target | result |",
        "|---|---|---|---|---:|---:|---:|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.id} | {r.what} | {r.a_label} | {r.b_label} | {seconds_text(r.a_median)} "
            f"| {seconds_text(r.b_median)} | {value_text(r)} | {r.target} | **{r.status}** |"
        )
    if baseline:
        lines += [
            "",
            f"## Before / after ({baseline['label']})",
            "",
            "| id | before: A / B medians | before | after: A / B medians | after | target |",
            "|---|---:|---:|---:|---:|---|",
        ]
        for r in results:
            old_r = baseline["results"].get(r.id)
            if old_r is None:
                continue
            was = Result(id=r.id, what="", target=r.target, unit=r.unit, **old_r)
            before = f"{seconds_text(was.a_median)} / {seconds_text(was.b_median)}"
            after = f"{seconds_text(r.a_median)} / {seconds_text(r.b_median)}"
            lines.append(
                f"| {r.id} | {before} | {value_text(was)} "
                f"| {after} | {value_text(r)} | {r.target} |"
            )
    versions = ", ".join(f"{k} {v}" for k, v in machine["versions"].items())
    lines += [
        "",
        "## Machine",
        "",
        f"- CPU: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gib']} GiB memory",
        f"- Load average (1, 5, 15 min) when the report was written: "
        f"{', '.join(map(str, machine['load_average']))}",
        f"- {machine['os']}, Python {machine['python']}",
        f"- {versions}",
        "",
        "## Per id",
    ]
    for r in results:
        runs = f"{len(r.a)} + {len(r.b)} runs" if r.a or r.b else "no runs"
        lines += [
            "",
            f"### {r.id}: {r.what}",
            "",
            f"- {r.status}; value {value_text(r)} (target {r.target}); {runs}; measured "
            f"{r.measured_at or '–'}, load {r.load_before} → {r.load_after}"
            + (f", by `{r.command}`" if r.command else ""),
        ]
        if r.a:
            lines.append(f"- {r.a_label}: " + ", ".join(f"{x:.2f}" for x in r.a) + " s")
        if r.b:
            lines.append(f"- {r.b_label}: " + ", ".join(f"{x:.2f}" for x in r.b) + " s")
        for key, value in r.details.items():
            if key.endswith("_bytes"):
                value = f"{value / 1024**3:.2f} GiB"
            lines.append(f"- {key}: {value}")
        lines += [f"- {note}" for note in r.notes]
        if r.status == "fail" and r.id in notes:
            lines += [
                "",
                f"Where the time goes, and what meeting the target ({r.target}) would take: "
                + notes[r.id],
            ]
        if r.profile:
            lines += ["", r.profile]
    return "\n".join(lines) + "\n"


def load_previous(path: Path) -> dict[str, Result]:
    """Return the results stored in a previous bench.json, by id (empty if none or unreadable)."""
    try:
        data = json.loads(path.read_text())
        fields = set(Result.__dataclass_fields__)
        return {
            r["id"]: Result(**{k: v for k, v in r.items() if k in fields})
            for r in data.get("results", [])
        }
    except (OSError, ValueError, TypeError, KeyError):
        return {}


def read_baseline(path: Path, label: str) -> dict[str, Any]:
    """Return the samples of another bench.json (a "before") keyed by id, with ``label``."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise SystemExit(f"error: --baseline {path}: {exc}") from None
    keep = ("a", "b", "value", "status")
    return {
        "label": label,
        "results": {r["id"]: {k: r[k] for k in keep if k in r} for r in data.get("results", [])},
    }


def write_reports(
    results: Sequence[Result],
    out_dir: Path,
    argv: str,
    merge: bool = True,
    machine: dict[str, Any] | None = None,
    baseline: dict[str, Any] | None = None,
    notes: Mapping[str, str] | None = None,
) -> tuple[Path, Path]:
    """Write bench.md and bench.json (merged with earlier results by id); return their paths.

    An earlier bench.json's baseline (before/after table) is kept unless ``baseline`` is given;
    ``notes`` defaults to the notes file, read now.
    """
    from src.io_utils import atomic_write_json, atomic_write_text

    json_path, md_path = out_dir / "bench.json", out_dir / "bench.md"
    merged = load_previous(json_path) if merge else {}
    if merge and baseline is None:
        with contextlib.suppress(OSError, ValueError):
            baseline = json.loads(json_path.read_text()).get("baseline")
    merged.update({r.id: r for r in results})
    ordered = [merged[key] for key in sorted(merged, key=lambda k: int(k[1:]))]
    machine = machine or machine_info()
    rows: list[dict[str, Any]] = []
    for r in ordered:
        row = asdict(r)
        row["medians"] = {"a": r.a_median, "b": r.b_median}
        rows.append(row)
    payload = {
        "generated_at": dt.datetime.now().isoformat(timespec="seconds"),
        "command": argv,
        "machine": machine,
        "results": rows,
        "baseline": baseline,
    }
    atomic_write_json(json_path, payload)
    notes = load_notes() if notes is None else notes
    atomic_write_text(md_path, render_markdown(ordered, machine, argv, baseline, notes))
    return md_path, json_path
