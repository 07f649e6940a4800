"""requirements.lock is poetry.lock's export: same packages and versions, no package index.

`make lock` runs `poetry lock` and exports requirements.lock from it; `make install` installs the
export with pip --require-hashes. These checks read the committed files only (no Poetry needed).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[3]
POETRY_LOCK = ROOT / "poetry.lock"
REQUIREMENTS_LOCK = ROOT / "requirements.lock"
PYPROJECT = ROOT / "pyproject.toml"

# What CI and the venv run on: the export must select exactly one version of each package here.
LINUX_X86_64_PY311 = {
    "python_version": "3.11",
    "python_full_version": "3.11.0",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "x86_64",
    "os_name": "posix",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "extra": "",
}
URL = re.compile(r"https?://")


def normalise(name: str) -> str:
    """PEP 503 name normalisation."""
    return re.sub(r"[-_.]+", "-", name).lower()


def poetry_packages() -> list[dict]:
    with POETRY_LOCK.open("rb") as fh:
        return tomllib.load(fh)["package"]


def requirements() -> list[Requirement]:
    """One Requirement per entry of requirements.lock (hash options dropped)."""
    joined = REQUIREMENTS_LOCK.read_text().replace("\\\n", " ")
    reqs = []
    for line in joined.splitlines():
        line = line.split("--hash", 1)[0].split(" #", 1)[0].strip()
        if line and not line.startswith(("#", "-")):  # options: test_lock_names_no_package_index
            reqs.append(Requirement(line))
    return reqs


def pinned(req: Requirement) -> Version:
    (spec,) = req.specifier
    assert spec.operator == "==", f"{req} is not pinned with =="
    return Version(spec.version)


def test_poetry_lock_has_one_entry_per_package() -> None:
    names = [normalise(p["name"]) for p in poetry_packages()]
    doubles = sorted({n for n in names if names.count(n) > 1})
    assert not doubles, f"poetry.lock locks several versions of {doubles} (pin them in pyproject)"


def test_requirements_lock_pins_poetry_lock_versions() -> None:
    locked = {normalise(p["name"]): Version(p["version"]) for p in poetry_packages()}
    exported: dict[str, list[Version]] = {}
    for req in requirements():
        exported.setdefault(normalise(req.name), []).append(pinned(req))
    assert set(exported) == set(locked), (
        f"only in requirements.lock: {sorted(set(exported) - set(locked))}; "
        f"only in poetry.lock: {sorted(set(locked) - set(exported))} (run make lock)"
    )
    differ = {
        name: ([str(v) for v in versions], str(locked[name]))
        for name, versions in exported.items()
        if versions != [locked[name]]
    }
    assert not differ, f"requirements.lock vs poetry.lock: {differ} (run make lock)"


def test_every_entry_has_a_hash() -> None:
    entries = REQUIREMENTS_LOCK.read_text().replace("\\\n", " ")
    missing = [
        line.split(" ", 1)[0]
        for line in entries.splitlines()
        if line.strip() and not line.startswith(("#", "-")) and "--hash=sha256:" not in line
    ]
    assert not missing, f"entries without a hash (pip --require-hashes refuses them): {missing}"


def test_linux_x86_64_gets_one_version_of_each_package_with_torch_cuda_deps() -> None:
    selected: dict[str, list[Version]] = {}
    for req in requirements():
        if req.marker is None or req.marker.evaluate(LINUX_X86_64_PY311):
            selected.setdefault(normalise(req.name), []).append(pinned(req))
    doubles = {name: [str(v) for v in vs] for name, vs in selected.items() if len(vs) > 1}
    assert not doubles, f"two versions selected on Linux x86_64: {doubles}"
    # torch's CUDA wheels need these on Linux x86_64 (a marker that drops one breaks torch).
    cuda = (
        "cuda-toolkit",
        "nvidia-cublas",
        "nvidia-cudnn-cu13",
        "nvidia-cuda-runtime",
        "nvidia-cuda-nvrtc",
        "nvidia-nccl-cu13",
        "nvidia-nvjitlink",
    )
    for name in ("torch", "triton", *cuda):
        assert name in selected, f"{name} is not installed on Linux x86_64"
    for name in ("pytest", "pytest-randomly", "ruff", "mypy", "moto"):
        assert name in selected, f"dev tool {name} missing: export with --extras dev"


@pytest.mark.parametrize("path", [REQUIREMENTS_LOCK, POETRY_LOCK], ids=lambda p: p.name)
def test_lock_names_no_package_index(path: Path) -> None:
    hits = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        # In poetry.lock a package's description is its authors' free text (it may hold a URL).
        if path == POETRY_LOCK and line.startswith("description = "):
            continue
        if "index-url" in line or URL.search(line) or line.startswith(("--find-links", "-f ")):
            hits.append(f"{number}: {line.strip()}")
    assert not hits, f"{path.name} names a package index or URL: {hits[:5]}"


def test_poetry_lock_packages_have_no_source() -> None:
    with_source = [p["name"] for p in poetry_packages() if "source" in p]
    with_url = [p["name"] for p in poetry_packages() if any("url" in f for f in p.get("files", []))]
    assert not with_source, f"packages locked from a named source: {with_source}"
    assert not with_url, f"packages whose files are locked by URL: {with_url}"


def test_pyproject_names_no_poetry_source() -> None:
    with PYPROJECT.open("rb") as fh:
        poetry = tomllib.load(fh).get("tool", {}).get("poetry", {})
    assert "source" not in poetry, "a tool.poetry source table would be copied into poetry.lock"
