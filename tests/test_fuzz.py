"""The bounded fuzz run of CI: the whole validate pipeline, bytes in, diagnostics out.

HKS_FUZZ_SECONDS sets the budget (default 4 s, about four hundred inputs: enough to catch a crash that
the seeds come near, short enough for the suite's 3 minutes); bench/fuzz_validate.py runs the long
campaign (30 minutes by default) with the same target.
A finding is printed with the input that caused it; fix it and add a regression test beside the
module at fault (tests/load/test_load.py and tests/model/test_schema.py hold the ones found so far).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests import fuzzing


def test_the_seeds_are_every_example() -> None:
    names = {seed.name for seed in fuzzing.seeds()}
    assert {"acme", "seed", "broken/alias-bomb", "broken/missing-org"} <= names


def test_the_harness_reports_a_crash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import compiler.pipeline as pipeline

    def boom(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("planted")

    monkeypatch.setattr(pipeline, "compile_config", boom)
    seed = next(s for s in fuzzing.seeds() if s.name == "seed")
    code, finding, _ = fuzzing.run_one(seed.files, tmp_path)
    assert finding is not None and finding.kind == "exception" and "planted" in finding.detail


def test_the_harness_reports_a_hang(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    import compiler.pipeline as pipeline

    monkeypatch.setattr(fuzzing, "TIME_LIMIT", 0.2)
    monkeypatch.setattr(pipeline, "compile_config", lambda *a, **k: time.sleep(5))
    seed = next(s for s in fuzzing.seeds() if s.name == "seed")
    _, finding, elapsed = fuzzing.run_one(seed.files, tmp_path)
    assert finding is not None and finding.kind == "timeout" and elapsed < 2


def test_bounded_fuzz_run_finds_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    seconds = float(os.environ.get("HKS_FUZZ_SECONDS", "4"))
    report = _in_a_fresh_process(seconds, int(os.environ.get("HKS_FUZZ_SEED", "0")))
    with capsys.disabled():
        print(
            f"\nfuzz: {report.executions} executions in {seconds:.0f} s, exit codes {dict(sorted(report.outcomes.items()))}, "
            f"slowest {report.slowest:.2f} s, peak RSS {report.peak_mb:.0f} MB, {len(report.findings)} findings"
        )
    assert report.executions >= 10 * seconds  # about 100 a second on a quiet machine; a busy one runs fewer
    problems = [f"{f.kind}: {f.detail[-1500:]}\ninput: {f.files!r:.3000}" for f in report.findings[:3]]
    assert not report.findings, "\n\n".join(problems)


def _in_a_fresh_process(seconds: float, seed: int) -> fuzzing.Campaign:
    """The campaign in a process of its own: its peak memory is then the campaign's, not the
    high-water mark of whatever tests ran before it in the same pytest worker."""
    import concurrent.futures
    import multiprocessing

    with concurrent.futures.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(fuzzing.campaign, seconds, seed).result()
