"""The corpus of the quality benchmark (``../shared/devcorpus``): documents, their published
versions, and the weekly schedule on which the loopback site serves them."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

_SEPARATOR = re.compile(r"\s+[—–-]\s+")
RUNS_PER_VERSION = 2  # each version is served on two weekly runs: published, then re-rendered


@dataclass(frozen=True)
class Version:
    n: int
    date: str  # ISO date of publication (the page's "last updated" stamp)
    path: Path

    @cached_property
    def markdown(self) -> str:
        return self.path.read_text(encoding="utf-8")


@dataclass(frozen=True)
class Doc:
    id: str
    title: str  # as the manifest gives it
    versions: tuple[Version, ...]

    @property
    def slug(self) -> str:
        return re.sub(r"[^a-z0-9]+", "-", self.id.lower()).strip("-")

    @property
    def publisher(self) -> str:
        """ "LinkedIn" of "LinkedIn — Privacy Policy" ("" when the title has no such prefix)."""
        parts = _SEPARATOR.split(self.title, maxsplit=1)
        return parts[0] if len(parts) == 2 else ""

    @property
    def chapter_title(self) -> str:
        """The title listed on the contents page, under its publisher: "Privacy Policy"."""
        parts = _SEPARATOR.split(self.title, maxsplit=1)
        return parts[-1]

    def index_at(self, week: int) -> int:
        """The index of the version served at ``week`` (the last one once they run out)."""
        return min(week // RUNS_PER_VERSION, len(self.versions) - 1)

    def version_at(self, week: int) -> Version:
        return self.versions[self.index_at(week)]


def load_corpus(root: Path, limit: int | None = None) -> list[Doc]:
    """The manifest's documents (the first ``limit``), versions oldest first."""
    manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    docs = []
    for entry in manifest["documents"][:limit]:
        versions = tuple(
            Version(int(v["n"]), str(v["date"])[:10], root / v["file"])
            for v in sorted(entry["versions"], key=lambda v: int(v["n"]))
        )
        docs.append(Doc(str(entry["id"]), str(entry["title"]), versions))
    return docs


def weeks_for(docs: list[Doc]) -> int:
    """Weekly runs needed for every version to be published and re-rendered once."""
    return RUNS_PER_VERSION * max(len(d.versions) for d in docs)
