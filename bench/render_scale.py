"""Validate and render time and peak memory for 1 to 10,000 generated workspaces (separate processes).

Targets: 1,000 workspaces under 10 s and 500 MB (issue "Render"); 10,000 (issue "Hardening", the
workspace limit is 20,000) within linear growth: the last column is the time per workspace
relative to the 1,000 run, which stays near 1.0 when growth is linear.

    python bench/render_scale.py [--sizes 1,100,1000,10000]
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
PROVIDERS = [("openai", "gpt-5.4-mini"), ("anthropic", "claude-sonnet-4-6"), ("ollama", "llama3:8b")]


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


def timed(args: list[str]) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "compiler", *args], cwd=ROOT, check=True, capture_output=True)
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return elapsed, max(peak, before) / 1024  # RUSAGE_CHILDREN keeps the largest child so far


def run(count: int) -> dict[str, tuple[float, float]]:
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "config"
        generate(config, count)
        return {
            "validate": timed(["validate", str(config)]),
            "render": timed(["render", str(config), "-o", str(Path(tmp) / "out")]),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,100,1000,10000")
    sizes = [int(s) for s in parser.parse_args().sizes.split(",")]
    reference: dict[str, float] = {}
    for count in sizes:
        for stage, (elapsed, peak_mb) in run(count).items():
            per = elapsed / count
            if count >= 1000:
                reference.setdefault(stage, per)
            ratio = f"{per / reference[stage]:5.2f}x" if stage in reference else "    -"
            print(
                f"{stage:8s} {count:6d} workspaces  {elapsed:7.2f} s  {per * 1000:8.2f} ms/workspace  "
                f"peak RSS {peak_mb:7.1f} MB  per-workspace vs 1,000: {ratio}",
                flush=True,
            )


if __name__ == "__main__":
    main()
