"""The performance harness: `make bench` (or .venv/bin/python bench/run.py [--chapters N]).

Serves the synthetic site (bench/sitegen.py) from bench/server.py on 127.0.0.1, runs
amendwatch's real snapshot (bench/snap.py, one process per run) and urlwatch on it, simulates
a year of weekly rounds for the database size (bench/dbsize.py), prints every figure with
its target and writes them into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from report import Figures, write_doc  # noqa: E402
from urlw import Urlwatch, available, report_for  # noqa: E402


class SiteServer:
    def __init__(self, chapters: int, cache: Path) -> None:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                str(HERE / "server.py"),
                "--chapters",
                str(chapters),
                "--cache",
                str(cache),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        self.base = f"http://127.0.0.1:{int(line.split()[1])}"

    def advance(self, rate: float) -> list[list[Any]]:
        with urllib.request.urlopen(f"{self.base}/_admin/advance?rate={rate}") as answer:
            result: list[list[Any]] = json.load(answer)
            return result

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait()


def snapshot(db: Path, url: str, args: argparse.Namespace, repeat: int = 1) -> dict[str, Any]:
    """One snapshot in a new process (``repeat`` > 1: the last of that many in one process,
    as a long-running scheduler runs them)."""
    command = [sys.executable, str(HERE / "snap.py"), "--db", str(db), "--url", url]
    command += ["--repeat", str(repeat)]
    if args.per_host:
        command += ["--per-host", str(args.per_host), "--batch", str(args.batch)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["rate"] = result["chapters"] / result["elapsed"]
    result["rss_mb"] = max(result["maxrss_kb"], result["children_maxrss_kb"]) / 1024
    print(
        f"    {result['chapters']} chapters in {result['elapsed']:.1f} s "
        f"({result['rate']:.0f}/s) {result['counts']}",
        flush=True,
    )
    return result


def amendwatch_runs(server: SiteServer, work: Path, args: argparse.Namespace, fig: Figures) -> None:
    static, dynamic = f"{server.base}/static/contents.html", f"{server.base}/dynamic/contents.html"
    print("amendwatch: cold first runs", flush=True)
    cold = [
        snapshot(work / "static.db", static, args),
        snapshot(work / "dynamic.db", dynamic, args),
        *(snapshot(work / f"cold{i}.db", dynamic, args) for i in range(args.runs - 2)),
    ]
    fig.add_runs("cold", cold)
    print("amendwatch: unchanged, 304 path", flush=True)
    fig.add_runs("304", [snapshot(work / "static.db", static, args) for _ in range(args.runs)])
    print("amendwatch: unchanged, dynamic path, first run (guards computed)", flush=True)
    fig.add_runs("dynamic-first", [snapshot(work / "dynamic.db", dynamic, args)])
    print("amendwatch: unchanged, dynamic path", flush=True)
    fig.add_runs(
        "dynamic", [snapshot(work / "dynamic.db", dynamic, args) for _ in range(args.runs)]
    )
    print("amendwatch: unchanged, dynamic path, second run in one process (scheduler)", flush=True)
    warm = [snapshot(work / "dynamic.db", dynamic, args, repeat=2) for _ in range(args.runs)]
    fig.add_runs("dynamic-warm", warm)


def changed_runs(
    server: SiteServer, work: Path, args: argparse.Namespace, fig: Figures, uw: Urlwatch | None
) -> None:
    dynamic = f"{server.base}/dynamic/contents.html"
    print("amendwatch: 5 % changed (dynamic path)", flush=True)
    runs = []
    for index in range(args.runs):
        edits = server.advance(0.05)
        result = snapshot(work / "dynamic.db", dynamic, args)
        result["edits"] = edits
        runs.append(result)
        if index == 0 and uw is not None:
            elapsed, report = uw.cycle()
            fig.compare_edit(work / "dynamic.db", edits, report_for, report)
            print(f"    urlwatch: the same cycle in {elapsed:.1f} s", flush=True)
    print("amendwatch: every chapter changed (end to end rate of changed chapters)", flush=True)
    every = []
    for _ in range(args.runs):
        server.advance(1.0)
        every.append(snapshot(work / "dynamic.db", dynamic, args))
    fig.add_changed(runs, every)


def urlwatch_runs(base: str, work: Path, args: argparse.Namespace, fig: Figures) -> Urlwatch | None:
    why = available()
    if why is not None:
        fig.notes.append(f"urlwatch not run: {why}")
        return None
    result = None
    for path in ("static", "dynamic"):
        print(f"urlwatch: {path} path (first cycle fills its cache)", flush=True)
        uw = Urlwatch(work / f"urlwatch-{path}", f"{base}/{path}", args.chapters)
        uw.cycle()
        times = [uw.cycle()[0] for _ in range(args.runs)]
        for seconds in times:
            print(f"    {args.chapters} jobs in {seconds:.1f} s ({args.chapters / seconds:.0f}/s)")
        fig.add_urlwatch(path, [args.chapters / t for t in times])
        result = uw
    return result


def machine() -> dict[str, str]:
    model = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        found = re.search(r"model name\s*:\s*(.+)", cpuinfo.read_text())
        model = found.group(1).strip() if found else model
    return {
        "nproc": str(os.cpu_count()),
        "cpu": model,
        "python": platform.python_version(),
        "os": platform.platform(),
    }


def memory_runs(work: Path, args: argparse.Namespace, fig: Figures) -> None:
    """Peak memory at a larger N: a cold run, the first unchanged run and a quick-path run of
    the dynamic site (one each), on a site of ``--rss-chapters`` chapters."""
    print(f"amendwatch: peak memory at N = {args.rss_chapters}", flush=True)
    server = SiteServer(args.rss_chapters, work / "rss-cache")
    try:
        url = f"{server.base}/dynamic/contents.html"
        runs = [snapshot(work / "rss.db", url, args) for _ in range(3)]
    finally:
        server.stop()
    fig.add_memory(args.rss_chapters, runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chapters", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--per-host", type=int, default=2, help="amendwatch's default; 0: no flags at all"
    )
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument(
        "--rss-chapters", type=int, default=10_000, help="N of the peak-memory runs (0: none)"
    )
    parser.add_argument("--db-chapters", type=int, default=10_000)
    parser.add_argument("--db-weeks", type=int, default=52)
    parser.add_argument("--skip-urlwatch", action="store_true")
    parser.add_argument("--doc", type=Path, default=ROOT / "docs" / "benchmarks.md")
    args = parser.parse_args()
    args.runs = max(3, args.runs)
    fig = Figures(args, machine(), " ".join(["python", "bench/run.py", *sys.argv[1:]]))
    work = Path(tempfile.mkdtemp(prefix="amendwatch-bench-"))
    server = SiteServer(args.chapters, work / "site-cache")
    try:
        amendwatch_runs(server, work, args, fig)
        uw = None if args.skip_urlwatch else urlwatch_runs(server.base, work, args, fig)
        changed_runs(server, work, args, fig, uw)
    finally:
        server.stop()
    if args.rss_chapters:
        memory_runs(work, args, fig)
    print(f"database: {args.db_weeks} weekly rounds of {args.db_chapters} chapters", flush=True)
    start = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            str(HERE / "dbsize.py"),
            "--db",
            str(work / "year.db"),
            "--chapters",
            str(args.db_chapters),
            "--weeks",
            str(args.db_weeks),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    fig.add_dbsize(json.loads(done.stdout.strip().splitlines()[-1]), time.perf_counter() - start)
    shutil.rmtree(work, ignore_errors=True)
    text = fig.render()
    print(text)
    write_doc(args.doc, text)
    print(f"written to {args.doc}")


if __name__ == "__main__":
    main()
