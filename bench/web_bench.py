"""The web application's page times on a large database, as a user gets them: `amendwatch web`
(installed CLI, defaults) serving the file, a logged-in browser-like client on loopback.

    .venv/bin/python bench/web_bench.py --db year.db     # a bench/deepverify.py build
    .venv/bin/python bench/web_bench.py --db aw.db --requests 50

Prints the median and p95 (ms) of the dashboard (`/`) and of chapter pages (`/chapters/ID`,
random chapters) over ``--requests`` each, after one warm-up request of each. Issue 16's
target: p95 under 150 ms on 10,000 chapters x 52 weeks.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import sqlite3
import statistics
import subprocess
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
USER, PASSWORD = "bench", "bench-password-1234"


def start_web(exe: str, db: Path) -> tuple[subprocess.Popen[str], str]:
    subprocess.run([exe, "--db", str(db), "user", "add", USER, "--role", "viewer"],
                   input=PASSWORD + "\n", capture_output=True, text=True, check=False)  # fmt: skip
    proc = subprocess.Popen([exe, "--db", str(db), "web", "--port", "0"],
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    assert proc.stderr is not None
    for line in proc.stderr:
        found = re.search(r"serving on (\S+)", line)
        if found:
            return proc, found.group(1).rstrip("/")
    raise RuntimeError("amendwatch web did not start")


def log_in(client: httpx.Client, base: str) -> None:
    page = client.get(f"{base}/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token, "no csrf_token on /login"
    answer = client.post(f"{base}/login", data={"username": USER, "password": PASSWORD,
                                                "csrf_token": token.group(1)})  # fmt: skip
    assert answer.status_code in (200, 303), answer.status_code


def timed(client: httpx.Client, url: str) -> float:
    start = time.perf_counter()
    answer = client.get(url)
    elapsed = (time.perf_counter() - start) * 1000
    assert answer.status_code == 200, (url, answer.status_code)
    return elapsed


def summary(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    return {"median_ms": round(statistics.median(ordered), 1), "p95_ms": round(p95, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--exe", default=shutil.which("amendwatch", path=str(ROOT / ".venv/bin"))
                        or "amendwatch")  # fmt: skip
    args = parser.parse_args()
    with sqlite3.connect(args.db) as conn:
        chapters = [row[0] for row in conn.execute("SELECT id FROM chapters")]
    proc, base = start_web(args.exe, args.db)
    try:
        with httpx.Client(follow_redirects=True, timeout=60) as client:
            log_in(client, base)
            rng = random.Random(5)
            one = rng.choice(chapters)
            first = {
                "/": timed(client, f"{base}/"),
                "chapter": timed(client, f"{base}/chapters/{one}"),
            }
            dash = [timed(client, f"{base}/") for _ in range(args.requests)]
            pages = [timed(client, f"{base}/chapters/{rng.choice(chapters)}")
                     for _ in range(args.requests)]  # fmt: skip
    finally:
        proc.terminate()
        proc.wait(10)
    result = {"chapters": len(chapters), "first_ms": first,
              "dashboard": summary(dash), "chapter_page": summary(pages)}  # fmt: skip
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
