"""``bench/run.py`` on fake benchmarks in a temporary directory, in real processes: it finds the
files that define ``figures`` (and only those), runs each in its own process, prints one table,
reports a failing benchmark without stopping the others, writes the JSON results with the
machine's description, and on the next run prints the change against the last one."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

RUNNER = Path(__file__).resolve().parents[1] / "bench" / "run.py"

FAKE = """
from figures import Figure

def figures(quick):
    size = "small" if quick else "full"
    return [
        Figure(f"answer, {size}", VALUE, "ms", "bare hop", 21.0, target="< 50 ms"),
        Figure("rate", 300.0, "/s", "bare loop", 1200.0, higher_is_better=True),
    ]
"""


def _write(directory: Path, value: float) -> None:
    (directory / "fake_ok.py").write_text(FAKE.replace("VALUE", repr(value)))
    (directory / "fake_fails.py").write_text(
        "def figures(quick):\n    raise RuntimeError('the fake benchmark broke')\n"
    )
    (directory / "helper.py").write_text(  # no top-level figures: not a benchmark
        "class Helper:\n    def figures(self, quick):\n        return []\n"
    )


def _run(bench: Path, results: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(RUNNER), "--quick", "--bench-dir", str(bench)]
        + ["--results", str(results)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_discovery_table_json_and_change(tmp_path):
    bench, results = tmp_path / "bench", tmp_path / "results"
    bench.mkdir()
    _write(bench, 42.0)

    first = _run(bench, results)
    assert first.returncode == 1, first.stderr  # one benchmark failed: reported, not hidden
    lines = first.stdout.splitlines()
    header = lines[0].split()
    assert header == ["figure", "value", "reference", "ratio", "target"]
    row = next(line for line in lines if "fake_ok: answer, small" in line)
    assert "42.0 ms" in row and "bare hop: 21.0 ms" in row and "2.00" in row
    assert "< 50 ms" in row
    rate = next(line for line in lines if "fake_ok: rate" in line)
    assert "300 /s" in rate and "bare loop: 1,200 /s" in rate and "0.250" in rate
    failed = next(line for line in lines if line.startswith("FAILED fake_fails"))
    assert "the fake benchmark broke" in failed
    assert "helper" not in first.stdout and "change against" not in first.stdout

    [written] = results.glob("*.json")
    data = json.loads(written.read_text())
    assert data["quick"] is True
    assert set(data["benchmarks"]) == {"fake_ok", "fake_fails"}
    ok, bad = data["benchmarks"]["fake_ok"], data["benchmarks"]["fake_fails"]
    assert ok["ok"] is True and bad["ok"] is False and bad["figures"] == []
    answer = ok["figures"][0]
    assert answer["name"] == "answer, small"
    assert (answer["value"], answer["reference_value"], answer["ratio"]) == (42.0, 21.0, 2.0)
    assert answer["unit"] == "ms" and answer["target"] == "< 50 ms"
    assert ok["figures"][1]["higher_is_better"] is True
    machine = data["machine"]
    for key in ("cpu", "cores", "ram_gb", "load_average", "python", "commit"):
        assert key in machine
    assert machine["cores"] >= 1 and machine["python"].count(".") == 2

    _write(bench, 84.0)
    second = _run(bench, results)
    assert len(list(results.glob("*.json"))) == 2
    assert f"change against {written.name}" in second.stdout
    change = next(line for line in second.stdout.splitlines() if "answer, small:" in line)
    assert "42.0 -> 84.0 (+100%)" in change and "ratio 2.00 -> 4.00 (+100%)" in change


def test_every_benchmark_of_the_project_takes_quick_alone():
    """What the runner finds in ``bench/`` is a benchmark (``figures(quick)``), not a helper
    that happens to define a ``figures`` of its own (soak_check's once did: the table showed it
    as a failed benchmark)."""
    import ast

    sys.path.insert(0, str(RUNNER.parent))
    try:
        from run import discover
    finally:
        sys.path.remove(str(RUNNER.parent))
    found = discover(RUNNER.parent)
    assert {p.stem for p in found} >= {"api", "delivery", "optimize", "soak"}
    for path in found:
        (fn,) = [
            n
            for n in ast.parse(path.read_text()).body
            if isinstance(n, ast.FunctionDef) and n.name == "figures"
        ]
        assert [a.arg for a in fn.args.args] == ["quick"], path.name
