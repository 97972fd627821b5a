"""hks's own YAML data (catalogue/*.yaml, the dashboards) and rendered templates, parsed fast.

libyaml, through PyYAML (which kubernetes-validate needs anyway), parses in a fraction of the
time of ruamel's pure-Python parser, which showed in every `validate` and dominated render at
thousands of workspaces. It reads YAML 1.1, which differs from 1.2 only on unquoted literals
(`yes`, `0777`, `1:20`): tests/builtin/test_datafiles.py holds every data file equal under both, and
templates quote every value they insert.
"""

from __future__ import annotations

import re
from typing import Any

from compiler.builtin.resources import data_dir

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
    from compiler.builtin import precompiled

    assert (folder, name) in DATA_FILES, f"{folder}/{name}: add it to DATA_FILES, so a test checks it"
    path = data_dir(folder) / name
    found = precompiled.lookup(path, f"{folder}/{name}")
    return parse(path.read_text("utf-8")) if found is None else found


def parse(text: str) -> Any:
    import yaml

    loader = libyaml_loader()
    if loader is None:
        from ruamel.yaml import YAML

        return YAML(typ="safe", pure=True).load(text)
    return yaml.load(text, Loader=loader)


def libyaml_loader() -> Any:
    """PyYAML's safe loader on libyaml; None when PyYAML was built without libyaml."""
    import yaml

    return getattr(yaml, "CSafeLoader", None)


def parse_rendered(text: str) -> Any:
    """A rendered template's YAML, equal to parse(text), about a third faster: libyaml composes
    the nodes and the few plain kinds templates write (strings, maps, lists, decimal integers,
    booleans, null) are built here, without PyYAML's general constructor. Anything else (a
    float, an octal, a timestamp, a merge key, an alias loop) goes to parse(). At 1,000
    workspaces render parses 6,000 such documents."""
    loader_class = libyaml_loader()
    if loader_class is None:
        return parse(text)
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
    finally:
        loader.dispose()
    try:
        return None if node is None else _plain_value(node)
    except (_NotPlain, RecursionError, TypeError):  # TypeError: a key that is a map or list
        return parse(text)


class _NotPlain(Exception):
    pass


_TAG = "tag:yaml.org,2002:"
_DECIMAL = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")  # an int Python and YAML 1.1 read alike


def _plain_value(node: Any) -> Any:
    tag = node.tag
    if tag == _TAG + "str":
        return node.value
    if tag == _TAG + "map":
        return {_plain_value(key): _plain_value(value) for key, value in node.value}
    if tag == _TAG + "seq":
        return [_plain_value(item) for item in node.value]
    if tag == _TAG + "int" and _DECIMAL.fullmatch(node.value):
        return int(node.value)
    if tag == _TAG + "bool":
        return node.value.lower() in ("yes", "true", "on")
    if tag == _TAG + "null":
        return None
    raise _NotPlain
