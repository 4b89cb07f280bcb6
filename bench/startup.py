"""Start-up time of the installed command line: `amendwatch --version` and `amendwatch --help`.

    .venv/bin/python bench/startup.py [--runs 30] [--cli .venv/bin/amendwatch] [--json]

Runs each command ``--runs`` times (after two warm-up runs, so the files are in the page
cache) as a fresh process, the way a shell runs it, and prints the median, best and worst wall
times in milliseconds. The target (docs/benchmarks.md, "Start-up"): both medians under 150 ms.
Where the time goes: ``python -X importtime -c "import amendwatch.cli"``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = (("--version",), ("--help",))
TARGET_MS = 150.0


def timed_run(command: list[str]) -> float:
    """Wall time of one run of ``command`` in milliseconds (its output discarded)."""
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return (time.perf_counter() - started) * 1000


def measure(cli: Path, args: tuple[str, ...], runs: int) -> dict[str, float]:
    command = [str(cli), *args]
    for _ in range(2):
        timed_run(command)
    times = [timed_run(command) for _ in range(runs)]
    return {
        "median_ms": round(statistics.median(times), 1),
        "best_ms": round(min(times), 1),
        "worst_ms": round(max(times), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=30, help="Runs of each command.")
    parser.add_argument("--cli", type=Path, default=ROOT / ".venv" / "bin" / "amendwatch")
    parser.add_argument("--json", action="store_true", help="Print JSON instead of a table.")
    args = parser.parse_args()
    if not args.cli.exists():
        sys.exit(f"{args.cli} not found: run `make demo` (or pip install -e .) first")
    results = {" ".join(command): measure(args.cli, command, args.runs) for command in COMMANDS}
    if args.json:
        print(json.dumps({"runs": args.runs, "results": results}, indent=2))
        return
    print(f"{args.runs} runs each of {args.cli}")
    for name, figures in results.items():
        verdict = "ok" if figures["median_ms"] < TARGET_MS else f"over {TARGET_MS:.0f} ms"
        print(
            f"amendwatch {name:<10} median {figures['median_ms']:6.1f} ms"
            f"  (best {figures['best_ms']:.1f}, worst {figures['worst_ms']:.1f})  {verdict}"
        )


if __name__ == "__main__":
    main()
