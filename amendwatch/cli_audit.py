"""Audit and evidence commands (history exports, WARC, evidence packs, browse)."""

from __future__ import annotations

import click


def register(group: click.Group) -> None:
    """Add this module's commands to the top-level ``amendwatch`` group."""
