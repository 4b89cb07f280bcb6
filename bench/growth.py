"""How a run's cost grows with the manual: the installed CLI on nginx (bench/nginxsite.py) at
several sizes: the cold first run and the next run (the 304 path), wall time, peak RSS of the
process tree, and the database file's size after both.

    .venv/bin/python bench/growth.py                          # 1,000, 10,000 and 50,000
    .venv/bin/python bench/growth.py --sizes 1000 10000       # skip the long one

Prints one JSON object per size as it finishes.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from cli_bench import run_measured  # noqa: E402
from nginxsite import Nginx, SiteFiles, nginx_available  # noqa: E402
from sitegen import Site  # noqa: E402


def measure(exe: str, size: int, work: Path) -> dict[str, object]:
    root = work / f"site-{size}"
    SiteFiles(Site(size, seed=1), root)
    server = Nginx(root, work / f"nginx-{size}")
    db = work / f"growth-{size}.db"
    try:
        run_measured([exe, "--db", str(db), "manual", "add", "bench",
                      f"{server.base}/static/contents.html"])  # fmt: skip
        figures: dict[str, object] = {"chapters": size}
        for label in ("cold", "304"):
            seconds, rss, _ = run_measured([exe, "--db", str(db), "snapshot", "--quiet"])
            figures[label] = {"seconds": round(seconds, 1), "per_s": round(size / seconds),
                              "peak_rss_mb": round(rss)}  # fmt: skip
        figures["db_mb"] = round(db.stat().st_size / 1e6, 1)
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 50_000])
    parser.add_argument("--exe", default=shutil.which("amendwatch", path=str(ROOT / ".venv/bin"))
                        or "amendwatch")  # fmt: skip
    args = parser.parse_args()
    why = nginx_available()
    if why is not None:
        sys.exit(why)
    work = Path(tempfile.mkdtemp(prefix="amendwatch-growth-"))
    try:
        for size in args.sizes:
            print(json.dumps(measure(args.exe, size, work)), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
