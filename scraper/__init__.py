"""Scraper stage: fetch, discover, extract, sections and the publisher's Amendments page."""

import hashlib
from collections.abc import Iterable
from pathlib import Path


def source_digest(names: Iterable[str]) -> str:
    """SHA-256 of these modules' source (files of this package, in this order): what a kept
    derivation (a fingerprint, a parsed listing) was made by, so that a change to the code
    makes it be derived again."""
    folder = Path(__file__).parent
    return hashlib.sha256(b"".join((folder / name).read_bytes() for name in names)).hexdigest()
