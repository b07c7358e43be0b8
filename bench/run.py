"""The one benchmark table: runs every benchmark under ``bench/`` and prints one table in which
every figure stands beside its bare reference measured in the same run, as a ratio.

A benchmark takes part by defining ``figures(quick: bool) -> list[Figure]`` at the top level of
``bench/<name>.py`` (``figures.py`` defines :class:`Figure`); the runner finds them by reading
the files (nothing is listed here, and nothing is imported to find them). Each runs in its own
process (``run.py --one PATH``), so that peak memory is its own and a benchmark that fails or
hangs is reported without stopping the others. The table is written as JSON to
``bench/results/<UTC time>.json`` with the machine's description (CPU model, cores, RAM, load
average, Python, git commit), and compared with the last results file of the same kind (full
or ``--quick``) when there is one.

Run: ``.venv/bin/python bench/run.py [--quick] [--only NAME ...]`` (``make bench``,
``make bench-quick``).
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


def discover(directory: Path) -> list[Path]:
    """The files of ``directory`` that define ``figures`` at the top level, by name."""
    found = []
    for path in sorted(directory.glob("*.py")):
        try:
            tree = ast.parse(path.read_text(), str(path))
        except (SyntaxError, UnicodeDecodeError, OSError):
            continue
        if any(
            isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == "figures"
            for node in tree.body
        ):
            found.append(path)
    return found


def run_one(path: Path, quick: bool, timeout: float) -> dict:
    """One benchmark in its own process: its figures, or what went wrong."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "figures.json"
        command = [sys.executable, str(Path(__file__).resolve()), "--one", str(path)]
        command += ["--out", str(out)] + (["--quick"] if quick else [])
        start = time.perf_counter()
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=timeout, cwd=HERE.parent
            )
        except subprocess.TimeoutExpired:
            return _failed(path, f"no answer within {timeout:g} s", time.perf_counter() - start)
        seconds = time.perf_counter() - start
        if done.returncode != 0 or not out.exists():
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            why = f"exit status {done.returncode}: " + " / ".join(tail)
            return _failed(path, why, seconds)
        return {"ok": True, "seconds": round(seconds, 2), "figures": json.loads(out.read_text())}


def _failed(path: Path, error: str, seconds: float) -> dict:
    return {"ok": False, "seconds": round(seconds, 2), "error": error, "figures": []}


def child(path: Path, out: Path, quick: bool) -> None:
    """In the benchmark's own process: import it and write its figures as JSON. The bench
    directories go last on the import path, so that a benchmark named like a library
    (``ocpp.py``) does not hide it, while ``from figures import Figure`` still works."""
    dirs = {str(path.parent), str(HERE)}
    sys.path[:] = [p for p in sys.path if str(Path(p or ".").resolve()) not in dirs]
    sys.path += sorted(dirs)
    spec = importlib.util.spec_from_file_location(f"bench_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    figures = module.figures(quick)
    out.write_text(json.dumps([_as_dict(f) for f in figures]))


def _as_dict(figure) -> dict:
    d = figure.as_dict()
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in d.items()}


def machine() -> dict:
    """What the figures were measured on."""
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "ram_gb": round(_meminfo_kb("MemTotal") / 2**20, 1),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "platform": platform.platform(),
        "commit": _git("rev-parse", "HEAD"),
        "dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _meminfo_kb(field: str) -> int:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _git(*args: str) -> str:
    try:
        done = subprocess.run(["git", *args], capture_output=True, text=True, cwd=HERE, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def table(results: dict) -> str:
    """The figures of every benchmark as one text table, failures at the end."""
    header = ("figure", "value", "reference", "ratio", "target")
    lines = []
    for name, run in results["benchmarks"].items():
        for f in run["figures"]:
            lines.append(
                (
                    f"{name}: {f['name']}",
                    f"{_num(f['value'])} {f['unit']}",
                    f"{f['reference']}: {_num(f['reference_value'])} {f['unit']}",
                    _ratio(f["ratio"]),
                    f["target"],
                )
            )
    widths = [max(len(row[i]) for row in [header, *lines]) for i in range(len(header))]
    text = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in [header, tuple("-" * w for w in widths), *lines]
    ]
    for name, run in results["benchmarks"].items():
        if not run["ok"]:
            text.append(f"FAILED {name} (after {run['seconds']:g} s): {run['error']}")
    return "\n".join(text)


def _ratio(x: float | None) -> str:
    """A ratio; one within 0.1 % of 1 as ``1 + d`` (so that a gap of 5e-15 still shows)."""
    if x is not None and x != 1 and abs(x - 1) < 1e-3:
        return f"1 {'+' if x > 1 else '-'} {abs(x - 1):.1e}"
    return _num(x)


def _num(x: float | None) -> str:
    """Three significant digits, thousands separated."""
    if x is None:
        return "-"
    if x == 0 or not math.isfinite(x):
        return f"{x:g}"
    if abs(x) < 1e-3:
        return f"{x:.2e}"
    digits = max(0, 2 - math.floor(math.log10(abs(x))))
    return f"{x:,.{digits}f}"


def previous(directory: Path, quick: bool) -> tuple[Path, dict] | None:
    """The last results file of the same kind (quick or full) in ``directory``."""
    found = []
    for path in directory.glob("*.json"):
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and data.get("quick") == quick:
            found.append((str(data.get("started", "")), path.name, path, data))
    if not found:
        return None
    *_, path, data = max(found, key=lambda item: item[:2])
    return path, data


def changes(old: dict, new: dict) -> str:
    """Each figure of ``new`` that ``old`` has too: its value and ratio then and now."""
    before = {
        (name, f["name"]): f for name, run in old["benchmarks"].items() for f in run["figures"]
    }
    lines = []
    for name, run in new["benchmarks"].items():
        for f in run["figures"]:
            then = before.get((name, f["name"]))
            if then is None:
                lines.append(f"{name}: {f['name']}: new")
                continue
            text = f"{name}: {f['name']}: {_change(then['value'], f['value'])} {f['unit']}"
            if f["ratio"] is not None and then["ratio"] is not None:
                text += f", ratio {_change(then['ratio'], f['ratio'])}"
            lines.append(text)
    return "\n".join(lines)


def _change(then: float, now: float) -> str:
    if then:
        return f"{_num(then)} -> {_num(now)} ({(now - then) / abs(then):+.0%})"
    return f"{_num(then)} -> {_num(now)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the small sizes (bench-quick)")
    parser.add_argument("--only", nargs="*", default=[], help="benchmark names, e.g. optimize")
    parser.add_argument("--bench-dir", type=Path, default=HERE, help="where benchmarks live")
    parser.add_argument("--results", type=Path, default=RESULTS, help="where JSON goes")
    parser.add_argument("--timeout", type=float, default=None, help="seconds a benchmark")
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        return child(args.one, args.out, args.quick)

    timeout = args.timeout or (300.0 if args.quick else 3600.0)
    paths = [p for p in discover(args.bench_dir) if not args.only or p.stem in args.only]
    started = datetime.now(UTC)
    results = {"started": started.isoformat(), "quick": args.quick}
    results["machine"] = machine()
    results["benchmarks"] = {}
    for path in paths:
        print(f"running {path.stem} ...", file=sys.stderr, flush=True)
        results["benchmarks"][path.stem] = run_one(path, args.quick, timeout)
    results["machine"]["load_average_after"] = [round(x, 2) for x in os.getloadavg()]

    print(table(results))
    last = previous(args.results, args.quick)
    args.results.mkdir(parents=True, exist_ok=True)
    stamp = started.strftime("%Y-%m-%dT%H-%M-%SZ")
    out, count = args.results / f"{stamp}.json", 1
    while out.exists():
        count += 1
        out = args.results / f"{stamp}-{count}.json"
    out.write_text(json.dumps(results, indent=1) + "\n")
    m = results["machine"]
    print(
        f"\n{m['cpu']}, {m['cores']} cores, {m['ram_gb']} GB, load average "
        f"{m['load_average'][0]} -> {m['load_average_after'][0]}, Python {m['python']}, "
        f"commit {m['commit'][:10]}{' (dirty)' if m['dirty'] else ''}; written to {out}"
    )
    if last is not None:
        print(f"\nchange against {last[0].name}:\n{changes(last[1], results)}")
    if not all(run["ok"] for run in results["benchmarks"].values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
