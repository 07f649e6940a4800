"""Each DVC stage's code deps are exactly the project files its command imports.

The imports are read with ``ast``, transitively, including the lazy ones inside
functions (they run when the command runs) and excluding ``if TYPE_CHECKING:``
blocks (they never run). A package ``__init__.py`` counts when it holds code beyond a
docstring: an edit to a docstring cannot change an output. An edit to any counted
file must make ``dvc status`` report the stage, so a missing dep is a stale output
and a superfluous one a needless re-run.
"""

from __future__ import annotations

import ast
import shlex
from functools import cache
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
PROJECT_PACKAGES = ("src", "tools")


def _module_file(dotted: str) -> Path | None:
    """Return the file that ``import dotted`` executes last, if it is a project file."""
    base = ROOT.joinpath(*dotted.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imported_names(tree: ast.AST, package: str) -> set[str]:
    """Return the dotted modules a file's reachable import statements name."""
    names: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, node.module] if node.module else parts)
            else:
                base = node.module or ""
            names.add(base)
            # `from pkg import mod` imports the submodule pkg.mod when there is one.
            names.update(f"{base}.{alias.name}" for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return {name for name in names if name.split(".")[0] in PROJECT_PACKAGES}


def _package_chain(dotted: str) -> list[str]:
    """Return ``a``, ``a.b``, ``a.b.c``: importing a module executes every parent package."""
    parts = dotted.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


def _has_code(path: Path) -> bool:
    body = ast.parse(path.read_text()).body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    return bool(body)


@cache
def _imports_of(path: Path) -> frozenset[Path]:
    """Return ``path`` and every project file it imports, transitively."""
    relative = path.relative_to(ROOT).with_suffix("")
    parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
    package = ".".join(relative.parts[:-1])
    if relative.name == "__init__":
        package = ".".join(parts)
    found = {path}
    tree = ast.parse(path.read_text(), filename=str(path))
    for name in _imported_names(tree, package):
        for dotted in _package_chain(name):
            target = _module_file(dotted)
            if target is not None and target not in found:
                found |= _imports_of(target)
    return frozenset(found)


def command_entry(cmd: str) -> Path:
    """Return the project file a stage's ``python -m mod`` or ``python file.py`` runs."""
    words = shlex.split(cmd)
    assert words[0] == "python", f"{cmd!r}: stages run `python -m ...` or `python file.py`"
    if words[1] == "-m":
        entry = _module_file(words[2]) or _module_file(f"{words[2]}.__main__")
        assert entry is not None, f"{cmd!r}: module {words[2]} not found"
        for dotted in _package_chain(words[2]):  # parents run before the module
            init = _module_file(dotted)
            assert init is not None
        return entry
    return ROOT / words[1]


def code_imported_by(cmd: str) -> set[str]:
    """Return the repo-relative project files ``cmd`` imports (counted ``__init__`` only)."""
    entry = command_entry(cmd)
    files = set(_imports_of(entry))
    words = shlex.split(cmd)
    if words[1] == "-m":
        for dotted in _package_chain(words[2])[:-1]:
            init = _module_file(dotted)
            if init is not None:
                files |= _imports_of(init)
    return {
        path.relative_to(ROOT).as_posix()
        for path in files
        if path.name != "__init__.py" or _has_code(path)
    }


STAGES = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]


def _code_deps(stage: dict) -> set[str]:
    return {
        dep
        for dep in stage.get("deps", [])
        if dep.endswith(".py") and dep.split("/")[0] in PROJECT_PACKAGES
    }


@pytest.mark.parametrize("name", sorted(STAGES))
def test_stage_code_deps_are_exactly_its_imports(name: str) -> None:
    stage = STAGES[name].get("do", STAGES[name])  # a foreach stage's body is under `do:`
    imported = code_imported_by(stage["cmd"])
    declared = _code_deps(stage)
    missing, superfluous = sorted(imported - declared), sorted(declared - imported)
    assert not missing and not superfluous, (
        f"dvc.yaml stage {name}: add {missing} to deps; remove {superfluous}"
    )


def test_the_import_reader_follows_lazy_imports_and_skips_type_checking(tmp_path: Path) -> None:
    tree = ast.parse(
        "from typing import TYPE_CHECKING\n"
        "import src.config\n"
        "if TYPE_CHECKING:\n    from src.tracking import tracking_uri\n"
        "def f():\n    from src.iris import dataset\n"
        "if __name__ == '__main__':\n    from src.cli import run_main\n"
    )
    assert _imported_names(tree, "src.data") == {
        "src.config",
        "src.iris",
        "src.iris.dataset",
        "src.cli",
        "src.cli.run_main",
    }


def test_the_prepare_stage_reaches_the_shared_reader() -> None:
    files = code_imported_by("python -m src.data.prepare")
    assert {"src/data/prepare.py", "src/iris/dataset.py", "src/config.py"} <= files
    assert "src/tracking.py" not in files
