"""Objects over Kubernetes' size limits are split (compiler/render/objectsize.py): the pieces stay
under the limit, and the Deployment's own script, run with /bin/sh, puts them back together
byte for byte; split rule groups lose no rule and promtool reads them."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from compiler.render import objectsize
from compiler.builtin.resources import data_dir
from tests.conftest import ROOT

SCRIPT = data_dir("templates") / "gateway" / "assemble-config.sh"
texts = st.text(st.characters(codec="utf-8"), max_size=400) | st.sampled_from(['"' * 300, "\n" * 300, "é" * 300, ""])
names = st.sampled_from(["config.yaml", "workspaces.json", "hks_workspace_auth.py"])


def assemble(datas: list[dict[str, str]], tmp: Path) -> dict[str, str]:
    parts, out = tmp / "parts", tmp / "out"
    shutil.rmtree(tmp, ignore_errors=True)
    parts.mkdir(parents=True)
    out.mkdir()
    for data in datas:
        for key, text in data.items():
            (parts / key).write_bytes(text.encode())
    subprocess.run(["/bin/sh", "-c", SCRIPT.read_text(), "assemble-config", str(parts), str(out)], check=True)
    return {p.name: p.read_bytes().decode() for p in out.iterdir()}


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(names, texts, min_size=1), st.integers(min_value=60, max_value=600))
def test_every_part_fits_and_the_pieces_join_back(files: dict[str, str], limit: int) -> None:
    datas = objectsize.parts(files, limit)
    assert all(objectsize.fits(data, limit) for data in datas)
    joined = {name: "".join(d[k] for d in datas for k in sorted(d) if k.rpartition(".part-")[0] == name) for name in files}
    assert joined == files


@settings(max_examples=25, deadline=None)
@given(files=st.dictionaries(names, texts, min_size=1), limit=st.integers(min_value=60, max_value=600))
def test_the_deployments_script_puts_the_files_back_together(files: dict[str, str], limit: int, tmp_path_factory: pytest.TempPathFactory) -> None:
    assert assemble(objectsize.parts(files, limit), tmp_path_factory.mktemp("assemble")) == files


def test_999_pieces_keep_their_order_and_a_thousandth_is_refused(tmp_path: Path) -> None:
    text = "".join(f"{i:09d}" for i in range(9_990))  # 99,900 characters, no escapes
    limit = 100 + objectsize.size({"config.yaml.part-001": ""})  # 100 characters a piece
    datas = objectsize.parts({"config.yaml": text}, limit)
    assert 900 < sum(len(d) for d in datas) <= 999
    assert assemble(datas, tmp_path / "a") == {"config.yaml": text}
    with pytest.raises(ValueError, match="at most 999"):
        objectsize.parts({"config.yaml": text * 2}, limit)


def test_split_rule_groups_keep_every_rule_in_order_and_fit() -> None:
    groups = [
        {"name": "spend.rules", "interval": "1m", "rules": [{"record": "r", "expr": f"vector({i})", "labels": {"w": f"w{i}"}} for i in range(400)]},
        {"name": "alerts", "rules": [{"alert": f"A{i}", "expr": "up == 0"} for i in range(3)]},
    ]
    objects = objectsize.rule_objects(groups, 2_000)
    assert len(objects) > 1
    assert all(len(json.dumps(o).encode()) <= 2_000 for o in objects)
    flat = [g for o in objects for g in o]
    assert [r for g in flat for r in g["rules"]] == [r for g in groups for r in g["rules"]]
    names = [g["name"] for g in flat]
    assert len(set(names)) == len(names) and names[0] == "spend.rules" and names[1] == "spend.rules-2"
    assert all(g.get("interval") == "1m" for g in flat if g["name"].startswith("spend.rules"))


@pytest.mark.promtool
def test_thousands_of_workspaces_render_objects_kubernetes_accepts(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    import compare  # the bench's realistic workspaces

    # 2,000 already splits the gateway config into 16 ConfigMaps and the rules into 4 objects; each
    # part is filled to the same limit at any count, and 10,000 (what the docs promise, rendered by
    # `bench/compare.py --large`) needs about 80 of the 999 parts a config may have.
    compare.generate(tmp_path / "config", 2_000)
    out = tmp_path / "rendered"
    result = subprocess.run(["hks", "render", str(tmp_path / "config"), "-o", str(out)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    # every platform object, and any other file large enough to matter (a workspace's are a few kB)
    checked = [p for p in out.rglob("*.yaml") if p.name != "kustomization.yaml" and (p.parts[-3] == "platform" or p.stat().st_size > 100_000)]
    documents = {p: yaml.load(p.read_text(), Loader=yaml.CSafeLoader) for p in checked}
    for path, document in documents.items():
        assert len(json.dumps(document).encode()) < 262_144, path  # client-side apply's annotation copy
    configmaps = [d for d in documents.values() if d["kind"] == "ConfigMap" and d["metadata"]["name"].startswith("llm-gateway-config")]
    assert len(configmaps) > 1
    rules = [d for d in documents.values() if d["kind"] == "PrometheusRule"]
    assert len(rules) > 1
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump({"groups": [g for r in rules for g in r["spec"]["groups"]]}))
    checked = subprocess.run(["promtool", "check", "rules", str(tmp_path / "rules.yaml")], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
