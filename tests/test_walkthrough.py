"""The first hour of a new user: the documented sequence, run from an empty folder through the
real `hks` entry point, one process per command as a shell runs them.

The sequence is read from docs/commands.md ("From an empty folder"), so the test and the page
cannot drift; the guide's own blocks (seed/llm-integration.md) are run as written too, and
where they leave a step out, the failing command must say what that step is.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import rsa

from tests import conftest
from tests.conftest import ROOT
from tests.test_seed_commands import COMMERCIAL, SELF_HOSTED
from tests.tools.test_secret import certificate

OPENAI_KEY = "sk-proj-WALKthroughValue0123456789abcdef"
MASTER_KEY = "walkthrough-master-key-0123456789"


def walkthrough() -> list[str]:
    text = (ROOT / "docs" / "commands.md").read_text()
    block = re.search(r"<!-- walkthrough:start -->\n```sh\n(.*?)```\n<!-- walkthrough:end -->", text, re.S)
    assert block, "docs/commands.md lost its walkthrough block"
    lines = [line.split("#")[0].strip() if " #" in line else line.strip() for line in block.group(1).splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def hks_command() -> list[str]:
    """The installed console script when there is one (the real entry point), else the module."""
    script = Path(sys.executable).parent / "hks"
    return conftest.hks_command(script if script.is_file() else None)


def run(line: str, root: Path) -> subprocess.CompletedProcess[str]:
    if line == "kubeseal --fetch-cert > sealed-secrets.pem":  # the cluster's certificate, made here
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        (root / "sealed-secrets.pem").write_bytes(certificate(key))
        return subprocess.CompletedProcess(line, 0, "", "")
    args = shlex.split(line.replace("sk-...", OPENAI_KEY))
    assert args[0] == "hks", line
    value = MASTER_KEY if "llm-gateway-master-key" in line else OPENAI_KEY
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("HKS_WORKSPACE", None)
    return subprocess.run(
        [*hks_command(), *args[1:]], cwd=root, env=env, input=value + "\n", capture_output=True, text=True, timeout=180
    )


def test_the_documented_sequence_works_in_an_empty_folder(tmp_path: Path) -> None:
    root = tmp_path / "llm-config"
    root.mkdir()
    output = []
    for line in walkthrough():
        result = run(line, root)
        output.append(result.stdout + result.stderr)
        assert result.returncode == 0, f"$ {line}\n{result.stdout}{result.stderr}"
        assert "Traceback" not in output[-1]
    assert walkthrough()[-2:] == ["hks validate", "hks render"]
    assert (root / "rendered" / "kustomization.yaml").is_file()
    workspace = (root / "workspaces" / "production.yaml").read_text()
    assert "provider: openai" in workspace and "model: gpt-5.4-mini\n" in workspace
    assert sorted(p.name for p in (root / "secrets").iterdir()) == ["llm-gateway-master-key.yaml", "openai-api-key.yaml"]
    everything = "".join(output) + "".join(p.read_text() for p in root.rglob("*") if p.is_file())
    assert OPENAI_KEY not in everything and MASTER_KEY not in everything
    # every step that leaves something to do says it
    joined = "\n".join(output)
    assert "next: store the gateway's admin key: hks secret create llm-gateway-master-key" in joined


def test_the_guide_blocks_as_written_lead_to_the_missing_steps(tmp_path: Path) -> None:
    """In an empty folder the guide's own lines run in order; the two that need a step the
    guide does not give fail with that step, in one line each."""
    root = tmp_path / "llm-config"
    root.mkdir()
    results = {}
    for block in (SELF_HOSTED, COMMERCIAL):
        for line in block.splitlines():
            if line.strip() and not line.startswith("#"):
                results[line] = run(line, root)
    codes = {line: r.returncode for line, r in results.items()}
    secret = "hks secret create openai-api-key --from-literal=key=sk-..."
    workspace = "hks workspace set-llm --model gpt-4 --max-tokens 8192"
    assert codes == {**{line: 0 for line in codes if line not in (secret, workspace)}, secret: 1, workspace: 2}
    assert "hks secret backend sealed-secrets --cert sealed-secrets.pem" in results[secret].stderr
    assert "hks workspace create NAME" in results[workspace].stderr
    assert not (root / "workspaces").exists() and not (root / "secrets").exists()
