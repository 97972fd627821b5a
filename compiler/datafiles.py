"""hks's own YAML data (catalogue/*.yaml, the dashboards) and rendered templates, parsed fast.

libyaml, through PyYAML (which kubernetes-validate needs anyway), parses in a fraction of the
time of ruamel's pure-Python parser, which showed in every `validate` and dominated render at
thousands of workspaces. It reads YAML 1.1, which differs from 1.2 only on unquoted literals
(`yes`, `0777`, `1:20`): tests/test_datafiles.py holds every data file equal under both, and
templates quote every value they insert.
"""

from __future__ import annotations

from typing import Any

from compiler.resources import data_dir

DATA_FILES = (
    ("catalogue", "models.yaml"),
    ("catalogue", "litellm-models.yaml"),
    ("catalogue", "providers.yaml"),
    ("catalogue", "images.yaml"),
    ("catalogue", "advisories.yaml"),
    ("templates", "monitoring/dashboards.yaml"),
)


def load(folder: str, name: str) -> Any:
    """A data file shipped with hks, e.g. load("catalogue", "models.yaml")."""
    assert (folder, name) in DATA_FILES, f"{folder}/{name}: add it to DATA_FILES, so a test checks it"
    return parse((data_dir(folder) / name).read_text("utf-8"))


def parse(text: str) -> Any:
    import yaml

    loader = libyaml_loader()
    if loader is None:
        from ruamel.yaml import YAML

        return YAML(typ="safe", pure=True).load(text)
    return yaml.load(text, Loader=loader)  # noqa: S506 (a safe loader)


def libyaml_loader() -> Any:
    """PyYAML's safe loader on libyaml; None when PyYAML was built without libyaml."""
    import yaml

    return getattr(yaml, "CSafeLoader", None)
