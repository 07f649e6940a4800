"""Render DVC's plots to an HTML page that draws offline: ``python tools/render_dvc_plots.py``.

``dvc plots show`` fills ``reports/templates/dvc_plots.html`` (``plots.html_template`` in
.dvc/config), whose one script is ``vega-bundle.js``: Vega, Vega-Lite and vega-embed from
the installed vl-convert-python package, written next to the page. DVC's default page
loads them from a CDN and stays blank without internet.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

BUNDLE_NAME = "vega-bundle.js"


def render_plots(out: Path, repo: Path = ROOT) -> Path:
    """Return the page DVC wrote into ``out``, after putting the JS bundle beside it."""
    import vl_convert

    from src.errors import OutputError
    from src.io_utils import atomic_write_text

    result = subprocess.run(
        ["dvc", "plots", "show", "--out", str(out)], cwd=repo, capture_output=True, text=True
    )
    if result.returncode != 0:
        last = (result.stderr.strip() or result.stdout.strip()).splitlines()[-1:]
        raise OutputError(f"dvc plots show failed: {' '.join(last) or 'no output'}")
    page = out / "index.html"
    if "cdn.jsdelivr" in page.read_text():
        raise OutputError(f"{page}: loads Vega from a CDN; is plots.html_template set?")
    # vl-convert 1.9's stub marks `snippet` required; the runtime's default (the libraries on
    # `window`, what the page's inline script calls) is the one wanted.
    atomic_write_text(out / BUNDLE_NAME, vl_convert.javascript_bundle())  # type: ignore[call-arg]
    return page


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "plots")
    args = parser.parse_args(argv)
    page = render_plots(args.out.resolve())
    print(f"DVC plots: {page} (opens offline: file://{page})")
    return 0


if __name__ == "__main__":
    from src.cli import run_main

    run_main(main)
