"""Render time and peak memory for 1, 100 and 1,000 generated workspaces (separate processes).

Target (issue "Render"): 1,000 workspaces under 10 s and 500 MB, cost growing linearly.

    python bench/render_scale.py [--sizes 1,100,1000]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROVIDERS = [("openai", "gpt-4o"), ("anthropic", "claude-3-5-sonnet-20241022"), ("ollama", "llama3:8b")]


def generate(folder: Path, count: int) -> None:
    (folder / "workspaces").mkdir(parents=True)
    (folder / "org.yaml").write_text(
        "organization: bench\nllm_config:\n  provider: ollama\n  model: llama3:8b\n"
        "self_hosted:\n  gpu: {memory_gib: 48}\n  context_length: 8192\n",
        encoding="utf-8",
    )
    for index in range(count):
        provider, model = PROVIDERS[index % len(PROVIDERS)]
        (folder / "workspaces" / f"team-{index:05d}.yaml").write_text(
            f"members:\n  groups: [team-{index}]\nllm_override:\n  provider: {provider}\n  model: {model}\n"
            f"  temperature: 0.{index % 10}\n  rate_limit:\n    rpm: {100 + index}\n",
            encoding="utf-8",
        )


def run(count: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "config"
        generate(config, count)
        started = time.perf_counter()
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        subprocess.run(
            [sys.executable, "-m", "compiler", "render", str(config), "-o", str(Path(tmp) / "out")],
            cwd=ROOT, check=True, capture_output=True,
        )
        elapsed = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        return elapsed, max(peak, before) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,100,1000")
    sizes = [int(s) for s in parser.parse_args().sizes.split(",")]
    base = None
    for count in sizes:
        elapsed, peak_mb = run(count)
        per = elapsed / count
        base = base or elapsed
        print(f"{count:6d} workspaces  {elapsed:7.2f} s  {per * 1000:8.2f} ms/workspace  peak RSS {peak_mb:7.1f} MB")


if __name__ == "__main__":
    main()
