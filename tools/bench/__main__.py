"""Measure what the tooling costs on this machine: ``python -m tools.bench``.

    python -m tools.bench                       # B1-B6, B8, B9, 5 runs each after a warm-up
    python -m tools.bench --only B1,B6 --repeats 3
    python -m tools.bench --only B7             # cold and warm `make install` (minutes)
    python -m tools.bench --only B9 --fast-lane-only  # `make test-fast` only
    python -m tools.bench --all                 # B1-B9

Results go to ``reports/bench.md`` (a table, the machine and versions) and
``reports/bench.json`` (every sample). Ids not run this time keep their previous
result there, each with the date and machine load it was measured under.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from tools.bench.cases import select
from tools.bench.harness import Context, load_overlay, measure
from tools.bench.report import REPORTS_DIR, read_baseline, seconds_text, value_text, write_reports


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser."""
    parser = argparse.ArgumentParser(
        prog="python -m tools.bench", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--only", help="comma-separated ids, e.g. B1,B6 (default: all but B7)")
    parser.add_argument("--all", action="store_true", help="run every id, B7 included (minutes)")
    parser.add_argument("--repeats", type=int, default=5, help="measured runs per side (5)")
    parser.add_argument("--warmup", type=int, default=1, help="discarded runs per side first (1)")
    parser.add_argument("--out-dir", type=Path, default=REPORTS_DIR, help="where reports go")
    parser.add_argument(
        "--tmp-dir", type=Path, default=None, help="scratch root (default: a temp dir)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch copies")
    parser.add_argument("--profile", action="store_true", help="add profiles even when passing")
    parser.add_argument(
        "--fresh", action="store_true", help="drop earlier results of ids not run now"
    )
    parser.add_argument(
        "--render",
        action="store_true",
        help="measure nothing: rewrite bench.md from bench.json (e.g. to add --baseline)",
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        metavar="BENCH_JSON",
        help="another bench.json (a 'before') shown in a before/after table",
    )
    parser.add_argument(
        "--baseline-label", default="before", help="what the baseline is (e.g. a commit)"
    )
    parser.add_argument(
        "--files-at",
        metavar="REV:PATH,...",
        help="use these files as of git REV in the copies (a 'before'; use another --out-dir)",
    )
    parser.add_argument(
        "--fast-lane-only",
        action="store_true",
        help="B9: measure `make test-fast` only, not the full `make test` (minutes)",
    )
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="set a variable for every measured command (what-if runs; use another --out-dir)",
    )
    return parser


def parse_env(items: Sequence[str]) -> dict[str, str]:
    """Return {KEY: VALUE} for ``--env KEY=VALUE`` items; raise SystemExit on a malformed one."""
    extra_env = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SystemExit(f"error: --env {item!r}: expected KEY=VALUE")
        extra_env[key] = value
    return extra_env


def main(argv: list[str] | None = None) -> int:
    """Run the selected benchmarks and write the reports; return 0 (1 if one errored)."""
    args = build_parser().parse_args(argv)
    if args.repeats < 1 or args.warmup < 0:
        raise SystemExit("error: --repeats must be >= 1 and --warmup >= 0")
    benches = select(args.only, args.all)
    extra_env = parse_env(args.env)
    overlay = load_overlay(args.files_at) if args.files_at else {}
    baseline = read_baseline(args.baseline, args.baseline_label) if args.baseline else None
    if args.render:
        stored = json.loads((args.out_dir / "bench.json").read_text())
        paths = write_reports(
            [], args.out_dir, stored["command"], True, stored["machine"], baseline
        )
        print(f"wrote {paths[0]}")
        return 0
    scratch = Path(tempfile.mkdtemp(prefix="mlops-bench-", dir=args.tmp_dir))
    ctx = Context(
        tmp=scratch,
        repeats=args.repeats,
        warmup=args.warmup,
        profile=args.profile,
        extra_env=extra_env,
        overlay=overlay,
        fast_lane_only=args.fast_lane_only,
    )
    command = "python -m tools.bench " + " ".join(sys.argv[1:] if argv is None else argv)
    results = []
    try:
        for bench in benches:
            print(f"{bench.id}: {bench.what} ...", flush=True)
            started = time.perf_counter()
            result = measure(bench, ctx)
            result.command = command.strip()
            results.append(result)
            print(
                f"{bench.id}: {result.status} value={value_text(result)} target {bench.target} "
                f"A={seconds_text(result.a_median)} B={seconds_text(result.b_median)} "
                f"({time.perf_counter() - started:.0f} s, load {result.load_after})",
                flush=True,
            )
            for note in result.notes:
                print(f"    {note}", flush=True)
    finally:
        if args.keep:
            print(f"scratch kept at {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    md_path, json_path = write_reports(
        results, args.out_dir, command.strip(), not args.fresh, baseline=baseline
    )
    print(f"wrote {md_path} and {json_path}")
    return 1 if any(r.status == "error" for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
