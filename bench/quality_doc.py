"""docs/quality.md: a prose header kept as it is, and a generated block (between markers) with
the command, date, machine and figures of the last run."""

from __future__ import annotations

import os
import platform
from pathlib import Path

START = "<!-- quality:start (written by bench/quality.py) -->"
END = "<!-- quality:end -->"

HEADER = """# Quality on real documents

`make quality` (`bench/quality.py`) measures whether a reported change is real and a real change
is reported, the same week, on real document histories: the Markdown versions of
`../shared/devcorpus` (or `--corpus DIR`), rendered as procedures-manual chapter pages with two
page templates, served on 127.0.0.1 one published version a week, and run through the real CLI.
See the module docstrings of `bench/quality*.py` for the exact rules; the figures of the last
full run are at the end of this page.
"""


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


def write_doc(path: Path, block: str) -> None:
    """Replace the generated block of ``path`` (the header stays); create the page if needed."""
    text = path.read_text(encoding="utf-8") if path.exists() else HEADER
    generated = f"{START}\n{block.strip()}\n{END}"
    if START in text and END in text:
        before, rest = text.split(START, 1)
        after = rest.split(END, 1)[1]
        text = before + generated + after
    else:
        text = text.rstrip() + "\n\n" + generated + "\n"
    path.write_text(text, encoding="utf-8")
