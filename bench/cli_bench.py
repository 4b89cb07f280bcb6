"""What a user runs, measured: the installed ``amendwatch`` CLI with its defaults, against a
real nginx on loopback, with urlwatch on the same site in the same run (issue 18).

    .venv/bin/python bench/cli_bench.py                   # 1,000 chapters, 3 runs each
    .venv/bin/python bench/cli_bench.py --chapters 200    # a quick look (make bench-quick)

Measures, each as min and median of ``--runs`` runs, in chapters per second of wall time of
the whole command (process start, imports, database, fetch, analysis, commit):

- cold: a fresh database (a dynamic site: nothing to reuse);
- 304: a static site that answers If-None-Match;
- dynamic, first run after the baseline, and steady (the third run and later);
- 5 % of the chapters changed, and the run after that change;
- startup: ``amendwatch --version`` and ``--help``.

urlwatch (bench/.venv, ``css: main`` + ``html2text``) runs on the same dynamic pages: its
first cycle after its own baseline and its steady cycles, and the ratios. Peak RSS of each
command is read with ``os.wait4``. Figures go into docs/benchmarks.md between the
``cli-bench`` markers (``--doc /dev/null`` leaves it alone).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from nginxsite import Nginx, SiteFiles, nginx_available  # noqa: E402
from sitegen import Site  # noqa: E402
from urlw import Urlwatch, available  # noqa: E402

TARGETS = {  # chapters/s (seconds for startup), from issue 18
    "cold": ">= 60", "304": ">= 1,000", "dynamic-first": ">= 400, >= 2x urlwatch",
    "dynamic-steady": ">= 600, >= 3x urlwatch", "changed-5%": "(none)",
    "after-change": "(none)", "--version": "< 0.15 s", "--help": "< 0.15 s",
}  # fmt: skip
START, END = "<!-- cli-bench:start -->", "<!-- cli-bench:end -->"


def run_measured(command: list[str]) -> tuple[float, float, str]:
    """(seconds, peak RSS in MB of the process tree it waited for, output)."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - start
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
    if proc.returncode not in (0, 3):
        raise RuntimeError(f"{' '.join(command)} exited {proc.returncode}: {text[-500:]}")
    return seconds, usage.ru_maxrss / 1024, text


class Bench:
    def __init__(self, exe: str, work: Path, chapters: int) -> None:
        self.exe, self.work, self.chapters = exe, work, chapters
        self.figures: dict[str, list[float]] = {}
        self.rss: dict[str, float] = {}

    def add(self, db: Path, url: str) -> None:
        done = subprocess.run([self.exe, "--db", str(db), "manual", "add", "bench", url],
                              capture_output=True, text=True, check=False)  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"manual add failed: {done.stdout}{done.stderr}")

    def snapshot(self, db: Path, label: str | None) -> float:
        seconds, rss, text = run_measured([self.exe, "--db", str(db), "snapshot", "--quiet"])
        rate = self.chapters / seconds
        last = text.strip().splitlines()[-1][:90] if text.strip() else ""
        print(f"  {label or 'baseline'}: {seconds:.1f} s ({rate:.0f}/s, {rss:.0f} MB) {last}")
        if label is not None:
            self.figures.setdefault(label, []).append(rate)
            self.rss[label] = max(self.rss.get(label, 0.0), rss)
        return rate

    def startup(self, runs: int) -> None:
        for flag in ("--version", "--help"):
            times = [run_measured([self.exe, flag])[0] for _ in range(max(5, runs * 3))]
            self.figures[flag] = times
            print(f"  {flag}: median {statistics.median(times):.3f} s", flush=True)


def amendwatch_runs(bench: Bench, files: SiteFiles, base: str, runs: int) -> None:
    dynamic, static = f"{base}/dynamic/contents.html", f"{base}/static/contents.html"
    dbs = [bench.work / f"dynamic{i}.db" for i in range(runs)]
    print("cold runs, then the first run after each baseline (dynamic pages)", flush=True)
    for db in dbs:
        bench.add(db, dynamic)
        bench.snapshot(db, "cold")
        bench.snapshot(db, "dynamic-first")
    print("steady runs (dynamic pages)", flush=True)
    for _ in range(runs):
        bench.snapshot(dbs[0], "dynamic-steady")
    print("304 path (static pages)", flush=True)
    bench.add(bench.work / "static.db", static)
    bench.snapshot(bench.work / "static.db", None)
    for _ in range(runs):
        bench.snapshot(bench.work / "static.db", "304")
    print("5 % changed, then the run after (dynamic pages)", flush=True)
    for _ in range(runs):
        files.advance(0.05)
        bench.snapshot(dbs[0], "changed-5%")
        bench.snapshot(dbs[0], "after-change")


def urlwatch_runs(bench: Bench, base: str, runs: int) -> list[str]:
    why = available()
    if why is not None:
        return [f"urlwatch not run: {why}"]
    print("urlwatch on the same dynamic pages", flush=True)
    uw = Urlwatch(bench.work / "urlwatch", f"{base}/dynamic", bench.chapters)
    uw.cycle()  # its baseline
    for index in range(runs + 1):
        seconds = uw.cycle()[0]
        label = "urlwatch-first" if index == 0 else "urlwatch-steady"
        bench.figures.setdefault(label, []).append(bench.chapters / seconds)
        print(f"  {label}: {seconds:.1f} s ({bench.chapters / seconds:.0f}/s)", flush=True)
    return []


def summary(bench: Bench) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for label, values in bench.figures.items():
        out[label] = {"min": min(values), "median": statistics.median(values), "n": len(values)}
    for ours, theirs in (
        ("dynamic-first", "urlwatch-first"),
        ("dynamic-steady", "urlwatch-steady"),
    ):
        if ours in out and theirs in out:
            out[f"{ours} / urlwatch"] = out[ours]["median"] / out[theirs]["median"]
    out["peak_rss_mb"] = bench.rss
    return out


def render(result: dict[str, Any], args: argparse.Namespace, notes: list[str]) -> str:
    lines = [
        START,
        f"### The installed CLI on nginx ({args.chapters:,} chapters, min and median of"
        f" {args.runs})",
        "",
        f"`{' '.join(['python', 'bench/cli_bench.py', *sys.argv[1:]])}`,"
        f" {time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores; `amendwatch` as installed,"
        " default settings.",
        "",
        "| measure | min | median | target |",
        "|---|---|---|---|",
    ]
    for label, target in TARGETS.items():
        if label in result:
            unit = " s" if label.startswith("--") else "/s"
            fmt = "{:.3f}" if label.startswith("--") else "{:,.0f}"
            lines.append(f"| {label} | {fmt.format(result[label]['min'])}{unit} |"
                         f" {fmt.format(result[label]['median'])}{unit} | {target} |")  # fmt: skip
    for label in ("urlwatch-first", "urlwatch-steady"):
        if label in result:
            lines.append(f"| {label} | {result[label]['min']:,.0f}/s |"
                         f" {result[label]['median']:,.0f}/s | |")  # fmt: skip
    for label in ("dynamic-first / urlwatch", "dynamic-steady / urlwatch"):
        if label in result:
            lines.append(f"| {label} | | {result[label]:.2f}x | |")
    rss = ", ".join(f"{k} {v:.0f} MB" for k, v in result["peak_rss_mb"].items())
    lines += ["", f"Peak RSS per command (process tree): {rss}.", *notes, END]
    return "\n".join(lines)


def write_doc(doc: Path, text: str) -> None:
    if str(doc) == "/dev/null":
        return
    current = doc.read_text(encoding="utf-8") if doc.exists() else ""
    if START in current and END in current:
        head, rest = current.split(START, 1)
        current = head + text + rest.split(END, 1)[1]
    else:
        current = current.rstrip() + "\n\n" + text + "\n"
    doc.write_text(current, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chapters", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--exe", default=shutil.which("amendwatch", path=str(ROOT / ".venv/bin"))
                        or "amendwatch")  # fmt: skip
    parser.add_argument("--skip-urlwatch", action="store_true")
    parser.add_argument("--doc", type=Path, default=ROOT / "docs" / "benchmarks.md")
    args = parser.parse_args()
    why = nginx_available()
    if why is not None:
        sys.exit(why)
    work = Path(tempfile.mkdtemp(prefix="amendwatch-cli-bench-"))
    files = SiteFiles(Site(args.chapters, seed=1), work / "site")
    server = Nginx(work / "site", work / "nginx")
    bench = Bench(args.exe, work, args.chapters)
    try:
        print("startup", flush=True)
        bench.startup(args.runs)
        amendwatch_runs(bench, files, server.base, args.runs)
        notes = [] if args.skip_urlwatch else urlwatch_runs(bench, server.base, args.runs)
    finally:
        server.stop()
    result = summary(bench)
    text = render(result, args, notes)
    print(text)
    print(json.dumps(result, indent=1))
    write_doc(args.doc, text)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
