"""Drive urlwatch (from bench/.venv) on the synthetic site, like for like with amendwatch:
a ``css: main`` filter on the chapter body, then ``html2text``, so it compares text too."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

VENV = Path(__file__).resolve().parent / ".venv"
URLWATCH = VENV / "bin" / "urlwatch"


def available() -> str | None:
    """None when urlwatch can run, else why not."""
    if not URLWATCH.exists():
        return f"urlwatch is not installed in {VENV} (make bench installs it from PyPI)"
    return None


class Urlwatch:
    def __init__(self, workdir: Path, base: str, chapters: int) -> None:
        self.dir = workdir
        self.dir.mkdir(parents=True, exist_ok=True)
        jobs = [
            f"name: ch{n}\nurl: {base}/ch/{n:05d}.html\nfilter:\n  - css: main\n  - html2text\n"
            for n in range(1, chapters + 1)
        ]
        (self.dir / "urls.yaml").write_text("---\n".join(jobs))

    def cycle(self) -> tuple[float, str]:
        """One check cycle of every job: (seconds, the report it printed)."""
        start = time.perf_counter()
        done = subprocess.run(
            [
                str(URLWATCH),
                "--urls",
                str(self.dir / "urls.yaml"),
                "--cache",
                str(self.dir / "cache.db"),
                "--config",
                str(self.dir / "urlwatch.yaml"),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        elapsed = time.perf_counter() - start
        return elapsed, done.stdout + done.stderr


def report_for(report: str, chapter: int) -> str:
    """The part of a urlwatch text report about one chapter's job."""
    marker = f"CHANGED: ch{chapter} ("
    if marker not in report:
        return ""
    rest = report.split(marker, 1)[1]
    end = rest.find("\nCHANGED: ")
    return marker + (rest if end < 0 else rest[:end])
