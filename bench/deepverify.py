"""How long ``verify`` and ``verify --deep`` take on a year of a large manual, run as a user
runs them: the installed CLI, on a database built by bench/dbsize.py with every capture
extracted (so re-extraction must agree).

    .venv/bin/python bench/deepverify.py                       # 10,000 chapters x 52 weeks
    .venv/bin/python bench/deepverify.py --chapters 500 --weeks 8   # a quick look
    .venv/bin/python bench/deepverify.py --db year.db --reuse   # re-measure an existing build

Prints JSON: the build's tables, file size, and each command's wall time and exit code.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def timed(command: list[str]) -> dict[str, object]:
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    tail = (done.stdout + done.stderr).strip().splitlines()[-3:]
    return {"seconds": round(seconds, 1), "exit": done.returncode, "output": tail}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=Path, default=Path("/tmp/amendwatch-deep.db"))
    parser.add_argument("--chapters", type=int, default=10_000)
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--reuse", action="store_true", help="measure an existing --db")
    parser.add_argument("--exe", default=shutil.which("amendwatch") or "amendwatch")
    args = parser.parse_args()
    figures: dict[str, object] = {"chapters": args.chapters, "weeks": args.weeks}
    if not args.reuse:
        args.db.unlink(missing_ok=True)
        build = [sys.executable, str(HERE / "dbsize.py"), "--db", str(args.db), "--extract",
                 "--chapters", str(args.chapters), "--weeks", str(args.weeks)]  # fmt: skip
        start = time.perf_counter()
        done = subprocess.run(build, capture_output=True, text=True, check=True)
        figures["build_seconds"] = round(time.perf_counter() - start, 1)
        figures["build"] = json.loads(done.stdout)
    figures["db_mb"] = round(args.db.stat().st_size / 1e6, 1)
    for name, extra in (("verify", []), ("verify_deep", ["--deep"])):
        figures[name] = timed([args.exe, "--db", str(args.db), "verify", *extra])
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
