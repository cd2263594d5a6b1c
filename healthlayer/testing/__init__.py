"""Fixture tests: small source tables and expected rows in YAML, run on an in-memory DuckDB."""

from healthlayer.testing.report import print_results, results_json
from healthlayer.testing.runner import (
    FixtureResult,
    FixtureRun,
    check_expected_columns,
    load,
    run_tests,
    select_tests,
)

__all__ = ["FixtureResult", "FixtureRun", "check_expected_columns", "load", "print_results", "results_json",
           "run_tests", "select_tests"]
