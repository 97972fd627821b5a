"""hks against its rivals, side by side in one run, as ratios (issue "Twice as fast as a plain
schema check"): `hks validate` against check-jsonschema on the same files, and `hks render`
against the floor of any renderer (parsing the inputs with libyaml and writing the same
documents with PyYAML's C dumper). Every figure is the median of separate processes.

    pip install -e '.[bench]' && python bench/compare.py [--runs 5] [--large]

Targets: validate ≤ 0.8× check-jsonschema on the realistic organisation and ≤ 0.5× on 1,000
workspaces; render of 1,000 workspaces ≤ 2 s or within 2× the floor; with --large, 10,000
workspaces ≤ 20 s and ≤ 300 MB, and hks's user CPU per workspace flat from 1,000 (its wall time
adds file creation, which this machine's disk makes vary two- to threefold).
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "acme"
MODELS = [("openai", "gpt-5.4-mini"), ("anthropic", "claude-haiku-4-5"), ("ollama", "llama3:8b")]

# Parses the inputs with libyaml and writes the rendered documents with PyYAML's C dumper, at
# the paths hks writes them (a folder per workspace): what any renderer of these files must at
# least do. argv: config folder, rendered folder, scratch, and "flat" to write every file into
# scratch itself (the floor this bench used first). On this machine's disk, 6,000 files in
# 1,000 folders cost 2 to 20 times as much system time as the same files in one folder (0.25 s
# against 4.8 s, 2.1 s against 5.5 s), so the flat floor measured a cheaper output than hks's.
FLOOR = """\
import os, sys, yaml
from pathlib import Path
config, rendered, scratch = map(Path, sys.argv[1:4])
flat = sys.argv[4:] == ["flat"]
paths = sorted(rendered.rglob("*.yaml"))
docs = [list(yaml.load_all(p.read_text(), Loader=yaml.CSafeLoader)) for p in paths]
import time
started = time.perf_counter()
for p in sorted(config.rglob("*.yaml")):
    yaml.load(p.read_text(), Loader=yaml.CSafeLoader)
made = {scratch}
for index, (path, documents) in enumerate(zip(paths, docs)):
    target = scratch / (f"{index}.yaml" if flat else path.relative_to(rendered))
    if target.parent not in made:
        os.makedirs(target.parent, exist_ok=True)
        made.add(target.parent)
    target.write_text(yaml.dump_all(documents, Dumper=yaml.CDumper, sort_keys=False))
print(time.perf_counter() - started)
"""


def workspace(index: int) -> str:
    """A realistic workspace: members, overrides, limits, a budget, fallbacks."""
    provider, model = MODELS[index % len(MODELS)]
    fallback = MODELS[(index + 1) % len(MODELS)]
    return (
        f"members:\n  groups: [team-{index}]\n  users: [lead-{index}@example.com]\n"
        f"llm_override:\n  provider: {provider}\n  model: {model}\n  temperature: 0.{index % 10}\n"
        f"  max_tokens: 2048\n  rate_limit:\n    rpm: {100 + index}\n    tpm: 100000\n"
        f"  budget:\n    monthly_usd: {500 + index}\n"
        f"  fallbacks:\n    - provider: {fallback[0]}\n      model: {fallback[1]}\n"
    )


def generate(folder: Path, count: int) -> None:
    (folder / "workspaces").mkdir(parents=True)
    (folder / "org.yaml").write_text(
        "organization: bench\nllm_config:\n  provider: ollama\n  model: llama3:8b\n"
        "gateway:\n  cache:\n    redis_secret: gateway-redis\n"
        "self_hosted:\n  models: [llama3:8b]\n  gpu: {memory_gib: 48}\n",
        encoding="utf-8",
    )
    for index in range(count):
        (folder / "workspaces" / f"team-{index:05d}.yaml").write_text(workspace(index), encoding="utf-8")


def timed(command: list[str], runs: int, fresh: Path | None = None) -> tuple[float, float]:
    """Median seconds over `runs` processes, and the largest peak memory (MB) so far. `fresh`, a
    folder removed before each run, outside the time: each run writes into an empty place, as the
    floor does (replacing the last run's tree is work the floor is not asked to do)."""
    times, peak = [], 0.0
    for _ in range(runs):
        if fresh is not None and fresh.exists():
            shutil.rmtree(fresh)
        started = time.perf_counter()
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
        if result.returncode not in (0, 1) or (result.returncode == 1 and "check_jsonschema" not in command[2]):
            sys.exit(f"{' '.join(command[:4])} … failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
        times.append(time.perf_counter() - started)
        peak = max(peak, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
    return statistics.median(times), peak


def floor_seconds(config: Path, rendered: Path, scratch: Path, *layout: str) -> float:
    """One run of the floor, writing into an emptied `scratch` (`layout` "flat": one folder)."""
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir()
    command = [sys.executable, "-c", FLOOR, str(config), str(rendered), str(scratch), *layout]
    return float(subprocess.run(command, capture_output=True, text=True, check=True).stdout)


def hks(*args: str) -> list[str]:
    return [sys.executable, "-m", "compiler", *args]


def check_jsonschema(schema: str, files: list[Path]) -> list[str]:
    return [sys.executable, "-m", "check_jsonschema", "--schemafile", str(ROOT / "schemas" / schema), *map(str, files)]


def rival_seconds(config: Path, runs: int) -> float:
    """check-jsonschema takes one schema a run: the org file, then every workspace file."""
    org, _ = timed(check_jsonschema("org.schema.json", [config / "org.yaml"]), runs)
    files = sorted((config / "workspaces").glob("*.yaml"))
    spaces = timed(check_jsonschema("workspace.schema.json", files), runs)[0] if files else 0.0
    return org + spaces


def line(label: str, ours: float, theirs: float, target: float, unit: str = "") -> str:
    ratio = ours / theirs
    verdict = "ok" if ratio <= target else "OVER"
    return f"{label:44s} {ours:7.3f} s vs {theirs:7.3f} s{unit}  ratio {ratio:5.2f} (target ≤ {target:g})  {verdict}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--large", action="store_true", help="also render 10,000 workspaces (about two minutes)")
    options = parser.parse_args()
    try:
        import check_jsonschema  # noqa: F401
    except ImportError:
        sys.exit("bench/compare.py needs check-jsonschema: pip install -e '.[bench]'")
    print(line("validate examples/acme (hks / check-jsonschema)", timed(hks("validate", str(EXAMPLE)), options.runs)[0],
               rival_seconds(EXAMPLE, options.runs), 0.8))  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        per_workspace = {}
        for count in (1000, 10000) if options.large else (1000,):
            config, out, scratch = base / f"c{count}", base / f"o{count}", base / f"s{count}"
            generate(config, count)
            if count == 1000:
                print(line("validate 1,000 workspaces", timed(hks("validate", str(config)), options.runs)[0],
                           rival_seconds(config, options.runs), 0.5))  # fmt: skip
            runs = options.runs if count == 1000 else min(options.runs, 3)  # this disk varies 2-3x from one minute to the next
            used = resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
            seconds, peak = timed(hks("render", str(config), "-o", str(out)), runs, fresh=out)
            cpu = (resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime - used) / runs
            floor = statistics.median(floor_seconds(config, out, scratch) for _ in range(runs))
            flat = statistics.median(floor_seconds(config, out, scratch, "flat") for _ in range(runs))
            print(line(f"render {count:,} workspaces (hks / floor)", seconds, floor, 2.0))
            memory = f"peak {peak:.0f} MB" + (f" (target ≤ 300)  {'ok' if peak <= 300 else 'OVER'}" if count == 10000 else "")
            print(f"{'':44s} {memory}, {len(list(out.rglob('*.yaml'))):,} files; floor in one folder {flat:.3f} s")
            per_workspace[count] = (seconds / count, cpu / count)
            shutil.rmtree(out)
        if options.large:
            # Flat is a property of hks's own work (its user CPU): the wall time adds file creation,
            # which on this machine's disk varies two- to threefold from one minute to the next.
            wall, growth = (per_workspace[10000][k] / per_workspace[1000][k] for k in (0, 1))
            print(f"user CPU per workspace, 10,000 relative to 1,000: {growth:.2f} (target ≤ 1.2, flat)  {'ok' if growth <= 1.2 else 'OVER'}"
                  f"; wall time {wall:.2f}")


if __name__ == "__main__":
    main()
