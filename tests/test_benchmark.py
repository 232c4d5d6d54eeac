"""Smoke test of the benchmark runner on a tiny corpus: it runs and reports; no timing asserts."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent
NUMBER = r"\d[\d,]*(?:\.\d+)?"


def test_benchmark_runs_every_cssblog_scenario(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "run.py"),
            *("--posts", "20", "--comments", "2", "--runs", "1"),
            *("--engines", "cssblog", "--workdir", str(tmp_path)),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for scenario in ("cold build", "no-op rebuild", "edit one post", "approve comment"):
        row = (
            rf"^\| cssblog [^|]* \| {scenario} \| ({NUMBER}) \| {NUMBER}\u2013{NUMBER} "
            rf"\| ({NUMBER}) \| ({NUMBER}) \|$"
        )
        match = re.search(row, result.stdout, re.M)
        assert match, f"no row for {scenario!r} in:\n{result.stdout}"
        median, pages_per_second, peak = (float(g.replace(",", "")) for g in match.groups())
        assert median > 0 and pages_per_second > 0 and peak > 0
    floor = re.search(
        rf"^Floor: Python-Markdown [^ ]+ alone .* converted the corpus's 20 post bodies in "
        rf"({NUMBER}) s on one core .*, so ({NUMBER}) s on (\d+) cores\.$",
        result.stdout,
        re.M,
    )
    assert floor, result.stdout
    one_core, spread, cores = (float(g) for g in floor.groups())
    assert 0 <= spread <= one_core and one_core > 0 and cores >= 1
    assert re.search(rf"^cssblog's cold build took {NUMBER} \u00d7 that", result.stdout, re.M)
    assert (tmp_path / "corpus" / "content" / "posts" / "post-00010.md").is_file()
    assert "Machine:" in result.stdout
