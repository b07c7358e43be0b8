"""The import rules (``[tool.importlinter]`` in pyproject.toml) hold, and breaking one of them
fails ``lint-imports``: checked on a copy of the package with a forbidden import written in."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(src: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def package_copy(tmp_path: Path) -> Path:
    """A copy of ``src/flexhub`` and the project's import rules, to break."""
    shutil.copytree(ROOT / "src" / "flexhub", tmp_path / "src" / "flexhub")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def _add_import(package: Path, module: str, statement: str) -> None:
    path = package.joinpath("src", *module.split(".")).with_suffix(".py")
    if not path.exists():
        path = path.with_suffix("") / "__init__.py"
    path.write_text(path.read_text() + f"\n\ndef _added():\n    {statement}\n")


def test_the_copy_keeps_every_rule(package_copy: Path):
    result = _lint(package_copy / "src", package_copy)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "statement", "contract"),
    [
        ("flexhub.agent", "import flexhub.store.database", "reaches the platform only over HTTP"),
        (
            "flexhub.platform.engines.compensation",
            "import flexhub.platform.coordination.events",
            "know neither API",
        ),
        (
            "flexhub.platform.flexmarket.mappers",
            "import flexhub.platform.coordination.mappers",
            "do not import each other",
        ),
        ("flexhub.wire.flexmarket.common", "import fastapi", "wire contract stands alone"),
        ("flexhub.clients.http", "import flexhub.platform.auth", "clients stand on the wire"),
        ("flexhub.store.database", "import flexhub.platform.app", "No import cycles"),
    ],
)
def test_a_broken_rule_fails(package_copy: Path, module: str, statement: str, contract: str):
    _add_import(package_copy, module, statement)
    result = _lint(package_copy / "src", package_copy)
    assert result.returncode != 0, result.stdout
    broken = result.stdout.split("Broken contracts", 1)[-1]
    assert contract in broken, result.stdout
