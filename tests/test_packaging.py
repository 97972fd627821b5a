"""What `pip install .` and the plugin's image get: a wheel that carries the data folders and
works away from the source tree, and a Docker build context (.dockerignore) that holds what
the wheel is built from."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

from tests.conftest import EXAMPLES, ROOT


def wheel_inputs() -> set[str]:
    """The top-level files and folders pyproject.toml's wheel build reads."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    wheel = project["tool"]["hatch"]["build"]["targets"]["wheel"]
    return {"pyproject.toml", project["project"]["readme"], *wheel["packages"], *wheel["force-include"]}


def test_docker_context_holds_what_the_wheel_is_built_from() -> None:
    lines = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()]
    patterns = [line for line in lines if line and not line.startswith("#")]
    assert patterns[0] == "*", "an allow-list: everything else stays out of the image"
    allowed = {line.removeprefix("!").rstrip("/") for line in patterns if line.startswith("!")}
    assert allowed == wheel_inputs()


def test_the_wheel_works_away_from_the_source_tree(tmp_path: Path) -> None:
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(tmp_path / "wheel"), str(ROOT)],
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp_path / "wheel").glob("hks-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        archive.extractall(tmp_path / "site")
    for folder in ("schemas", "templates", "catalogue", "policies"):
        assert any(name.startswith(f"compiler/data/{folder}/") for name in names), folder
    assert "compiler/builtin/precompiled.json" in names
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}
    for args in (["validate", str(EXAMPLES / "acme")], ["render", "--stdout", str(EXAMPLES / "acme")], ["policy", "test"]):
        result = subprocess.run([sys.executable, "-m", "compiler", *args], cwd=tmp_path, env=env, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
    where = subprocess.run(
        [sys.executable, "-c", "import compiler.builtin.resources as r; print(r.data_dir('policies'))"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert where.stdout.strip() == str(tmp_path / "site" / "compiler" / "data" / "policies")
