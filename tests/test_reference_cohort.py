"""The committed reference cohort is exactly what its build script makes (no hand edits)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from itb.cli import REFERENCE_COHORT

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "build_reference_cohort.py"


def test_build_script_reproduces_the_committed_files(tmp_path: Path) -> None:
    run = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path)], capture_output=True,
                         text=True, check=False)
    assert run.returncode == 0, run.stderr
    assert "OK: all targets verified" in run.stdout
    built = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    committed = {p.name: p.read_bytes() for p in REFERENCE_COHORT.iterdir()
                 if p.name != "README.md"}
    assert built == committed


def test_the_cohort_says_it_is_synthetic() -> None:
    assert "synthetic" in (REFERENCE_COHORT / "README.md").read_text(encoding="utf-8").lower()
    assert "SYNTHETIC" in (REFERENCE_COHORT / "dataset.toml").read_text(encoding="utf-8")
