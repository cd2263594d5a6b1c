"""The package type-checks cleanly with mypy, so annotations stay true as the code changes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]


def test_mypy_clean():
    completed = subprocess.run(
        [sys.executable, "-m", "mypy", "healthlayer", "--ignore-missing-imports", "--no-error-summary"],
        cwd=REPOSITORY, capture_output=True, text=True, timeout=300)

    assert completed.returncode == 0, completed.stdout + completed.stderr
