"""The long fuzz campaign over `hks validate` (and `render` of what validates): bytes in,
diagnostics out. CI runs the same target for a bounded time (tests/test_fuzz.py).

    python bench/fuzz_validate.py [--seconds 1800] [--seed 0] [--out bench/fuzz-findings]

Prints executions, exit codes, the slowest run and peak memory; each distinct finding (by kind and
last traceback line) is saved as a config folder under --out, ready to reproduce with
`hks --debug validate FOLDER`. Exit 1 when anything was found.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import fuzzing  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1800)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "fuzz-findings")
    args = parser.parse_args()
    report = fuzzing.campaign(args.seconds, seed=args.seed)
    print(
        f"{report.executions} executions in {args.seconds:.0f} s (seed {args.seed}), "
        f"{report.executions / args.seconds:.1f}/s; exit codes {dict(sorted(report.outcomes.items()))}; "
        f"slowest {report.slowest:.2f} s; over {fuzzing.TIME_LIMIT:.0f} s once but not again: {report.slow_once}; "
        f"peak RSS {report.peak_mb:.0f} MB; {len(report.findings)} findings"
    )
    distinct: dict[str, fuzzing.Finding] = {}
    for finding in report.findings:
        last = finding.detail.strip().splitlines()[-1] if finding.detail.strip() else ""
        if finding.kind in ("timeout", "memory"):  # no traceback to tell them apart: keep each input
            last += f" #{len(distinct)}"
        distinct.setdefault(f"{finding.kind}: {last}", finding)
    for title, finding in sorted(distinct.items()):
        folder = args.out / hashlib.sha256(title.encode()).hexdigest()[:12]
        for name, content in finding.files.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(content)
        (folder / "FINDING.txt").write_text(finding.detail, encoding="utf-8")
        print(f"  {title}\n    saved in {folder}")
    return 1 if distinct else 0


if __name__ == "__main__":
    sys.exit(main())
