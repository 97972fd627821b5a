"""Wall time of `hks validate` on the realistic example, each run a separate process.

Target (issue "Foundation"): under 0.5 s on a 2-core machine. Also times `hks --help`,
which must stay fast because it imports nothing heavy.

    python bench/validate_time.py [CONFIG_DIR] [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed(args: list[str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "compiler", *args], cwd=ROOT, capture_output=True, check=False)
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config_dir", nargs="?", default="examples/acme")
    parser.add_argument("--runs", type=int, default=10)
    options = parser.parse_args()
    for label, args in (("hks --help", ["--help"]), (f"hks validate {options.config_dir}", ["validate", options.config_dir])):
        times = timed(args, options.runs)
        print(f"{label:40s} median {statistics.median(times):.3f} s  min {min(times):.3f} s  max {max(times):.3f} s  ({options.runs} runs)")


if __name__ == "__main__":
    main()
