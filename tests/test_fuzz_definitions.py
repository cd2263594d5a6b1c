"""Fuzz run: 10,000 random definitions load, plan and render without an internal error.

tests/fuzz/fuzz_definitions.py generates the cases from one seed, so every run checks the same
cases; `python -m tests.fuzz.fuzz_definitions --only INDEX --show` repeats one of them. On a
2-core virtual machine the run took 180 seconds of CPU time while the machine was otherwise
nearly idle, and 225 seconds while other test runs kept both cores busy.
"""

from __future__ import annotations

from pathlib import Path

from fuzz.fuzz_definitions import format_failures, run_fuzz

CASES = 10_000
SEED = 0
# Lower bounds that keep the fuzz meaningful: enough cases must get through validation to the
# compiler, and enough must be rejected, or the generator stopped producing what it should.
MIN_ACCEPTED = 1_000
MIN_REJECTED = 5_000
MIN_STATEMENTS = 4_000


def test_fuzz_definitions(tmp_path: Path):
    report = run_fuzz(CASES, SEED, tmp_path)
    print(report.summary())

    assert report.failures == [], format_failures(report)
    assert report.generated == CASES
    assert report.accepted >= MIN_ACCEPTED
    assert report.rejected >= MIN_REJECTED
    assert report.statements >= MIN_STATEMENTS
