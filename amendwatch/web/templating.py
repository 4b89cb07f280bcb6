"""The Jinja2 environment of the web pages: autoescaped, with the report templates' macros
(redlines, evidence) and helpers available beside the application's own templates."""

from __future__ import annotations

import hashlib
import re
from base64 import b64encode
from collections.abc import Iterable

from jinja2 import ChoiceLoader, Environment, PackageLoader, StrictUndefined

from amendwatch.bounds import format_time
from reports.digest import chapter_heading, safe_href
from reports.importance import GROUP_LABELS
from reports.redline import flag_spans
from reports.timefmt import iso, when

_STYLE = re.compile(r"<style>(.*?)</style>", re.DOTALL)


def paragraphs(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n\s*\n|\n", text) if p.strip()]


def environment() -> Environment:
    env = Environment(
        loader=ChoiceLoader(
            [PackageLoader("amendwatch.web", "templates"), PackageLoader("reports", "templates")]
        ),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=StrictUndefined,
    )
    env.globals.update(
        safe_href=safe_href,
        heading=chapter_heading,
        flag_spans=flag_spans,
        group_labels=GROUP_LABELS,
        paragraphs=paragraphs,
    )
    env.filters["when"] = when
    env.filters["iso"] = iso
    env.filters["short"] = format_time
    return env


def report_css(env: Environment) -> str:
    """The report templates' stylesheet, served as a file (no inline style on our pages)."""
    return env.get_template("_style.css.j2").render()


def style_hashes(page: str) -> Iterable[str]:
    """CSP source expressions (``'sha256-…'``) for each ``<style>`` element of a standalone
    report page, so that it can be shown with its own styles and still no inline script."""
    for found in _STYLE.finditer(page):
        digest = hashlib.sha256(found.group(1).encode("utf-8")).digest()
        yield f"'sha256-{b64encode(digest).decode()}'"
