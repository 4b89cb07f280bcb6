"""The two page templates of the quality benchmark's loopback site.

Template "a" (a council-style CMS): ``<main>`` holds a breadcrumb, an in-content tool bar (print,
share and email links with a per-render token), "This chapter was last updated: DD/MM/YYYY", then
``<article>`` with the h1 and the chapter, a related-chapters aside (order shuffled on every
render) and "Back to top"; a cookie notice and a "Page generated at" footer with a CSRF token.

Template "b" (an older table-layout CMS): no ``<main>``; a cookie banner with a random consent id
at the top of the body, a shuffled left-hand menu, ``<div id="content" class="page-body">`` with
the h1, "Last reviewed on 3 March 2024", the chapter with anchor ids and pilcrow links on its
headings, page tools with a share token, and a footer with a request-verification token.

Class names are the kind real sites use, deliberately not the obvious ones ("crumbs",
"page-actions", "chapter-meta", "see-also", "cc-banner"): the product must recognise furniture
by its structure and text, not by a list of names. Markdown headings become h2..h6 (level + 1):
the document title is the page's h1.
"""

from __future__ import annotations

import random
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from html import escape

from markdown_it.token import Token
from quality_corpus import Doc, Version
from quality_truth import markdown_parser

_MD = markdown_parser()


@dataclass(frozen=True)
class Template:
    name: str
    manual_title: str
    contents_path: str  # the contents page, from the site root
    chapter_path: Callable[[Doc], str]
    chapter: Callable[[Doc, Version, list[Doc], str], str]  # (doc, version, all, content html)
    contents: Callable[[list[Doc], int], str]  # (docs, week)
    anchors: bool  # headings carry ids and pilcrow links


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"


def content_html(markdown: str, anchors: bool) -> str:
    """The chapter body: Markdown headings one level down (h2..h6), with anchors if asked."""
    tokens = _MD.parse(markdown)
    seen: dict[str, int] = {}
    for index, token in enumerate(tokens):
        if token.type not in ("heading_open", "heading_close"):
            continue
        token.tag = f"h{min(int(token.tag[1]) + 1, 6)}"
        if anchors and token.type == "heading_open":
            inline = tokens[index + 1]
            base = _slug(inline.content)
            seen[base] = seen.get(base, 0) + 1
            anchor = base if seen[base] == 1 else f"{base}-{seen[base]}"
            token.attrSet("id", anchor)
            link = Token("html_inline", "", 0)
            link.content = f' <a class="headerlink" href="#{anchor}" title="Link here">¶</a>'
            inline.children = [*(inline.children or []), link]
    return str(_MD.renderer.render(tokens, _MD.options, {}))


def _long_date(iso: str) -> str:
    day = date.fromisoformat(iso)
    return f"{day.day} {day:%B %Y}"


def _short_date(iso: str) -> str:
    return f"{date.fromisoformat(iso):%d/%m/%Y}"


def _generated() -> str:
    return time.strftime("%d %B %Y %H:%M:%S", time.gmtime()) + f".{time.time_ns() % 10**6:06d}"


def _related(doc: Doc, docs: list[Doc], href: Callable[[Doc], str]) -> str:
    others = [d for d in docs if d.id != doc.id]
    picked = random.sample(others, min(5, len(others)))
    return "".join(f'<li><a href="{href(d)}">{escape(d.chapter_title)}</a></li>' for d in picked)


# -- template a ---------------------------------------------------------------------------------
A_TITLE = "Procedures Manual (A)"


def _a_href(doc: Doc) -> str:
    return f"/a/chapters/{doc.slug}.html"


def _a_header() -> str:
    nav = "".join(
        f'<li><a href="/a/{path}">{label}</a></li>'
        for path, label in (
            ("index.html", "Home"),
            ("contents.html", "Contents"),
            ("amendments.html", "Amendments"),
            ("contact.html", "Contact us"),
        )
    )
    return (
        '<a class="skip-link" href="#main">Skip to main content</a>'
        f'<header class="site-header"><div class="logo"><a href="/a/index.html">{A_TITLE}</a>'
        f'</div><nav class="site-nav" aria-label="Site"><ul>{nav}</ul></nav>'
        '<form class="site-search" action="/a/search" method="get"><label for="q">Search</label>'
        '<input id="q" type="search" name="q"><button>Search</button></form></header>'
    )


def _a_footer() -> str:
    token = secrets.token_hex(16)
    return (
        '<div class="cc-window" role="dialog"><p>We use cookies to improve this site. '
        f'<a href="/a/contact.html">Find out more</a></p><button data-id="{secrets.token_hex(6)}">'
        'OK</button></div><footer class="site-footer"><form method="post" action="/a/feedback">'
        f'<input type="hidden" name="csrf" value="{token}"><p>Was this page useful?</p>'
        '<button name="useful" value="yes">Yes</button><button name="useful" value="no">No'
        f'</button></form><p class="generated">Page generated at {_generated()} (request '
        f"{secrets.token_hex(4)})</p><p>&copy; Procedures Manuals Ltd</p></footer>"
    )


def _a_page(title: str, body: str) -> str:
    return (
        f'<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8"><title>{title} - '
        f'{A_TITLE}</title><meta name="csrf-token" content="{secrets.token_hex(16)}">'
        f'<link rel="stylesheet" href="/a/assets/site.css?v={secrets.token_hex(3)}"></head>'
        f'<body class="chapter-page">{_a_header()}{body}{_a_footer()}</body></html>'
    )


def a_chapter(doc: Doc, version: Version, docs: list[Doc], content: str) -> str:
    title, token = escape(doc.chapter_title), secrets.token_urlsafe(9)
    crumb = f"<li>{escape(doc.publisher)}</li>" if doc.publisher else ""
    body = (
        '<main id="main"><nav class="crumbs" aria-label="You are here"><ol>'
        '<li><a href="/a/index.html">Home</a></li><li><a href="/a/contents.html">Contents</a>'
        f'</li>{crumb}<li aria-current="page">{title}</li></ol></nav>'
        '<div class="page-actions"><ul><li><a href="?print=1">Print</a></li>'
        f'<li><a href="/a/share?page={doc.slug}&amp;t={token}">Share</a></li>'
        f'<li><a href="mailto:?subject={title}&amp;body=%2Fa%2Fchapters%2F{doc.slug}.html%3Fref'
        f'%3D{token}">Email this page</a></li></ul></div>'
        f'<p class="chapter-meta">This chapter was last updated: {_short_date(version.date)}</p>'
        f'<article class="chapter"><h1>{title}</h1>\n{content}\n</article>'
        '<aside class="see-also"><h2>Related chapters</h2><ul>'
        f"{_related(doc, docs, _a_href)}</ul></aside>"
        '<p class="top-link"><a href="#main">Back to top</a></p></main>'
    )
    return _a_page(title, body)


def a_contents(docs: list[Doc], week: int) -> str:
    groups: dict[str, list[Doc]] = {}
    for doc in docs:
        groups.setdefault(doc.publisher or "General", []).append(doc)
    lists = "".join(
        f'<h2>{escape(publisher)}</h2><ul class="chapter-list">'
        + "".join(
            f'<li><a href="chapters/{d.slug}.html">{escape(d.chapter_title)}</a> '
            f'<span class="updated">(updated {_short_date(d.version_at(week).date)})</span></li>'
            for d in members
        )
        + "</ul>"
        for publisher, members in groups.items()
    )
    token = secrets.token_urlsafe(9)
    body = (
        '<main id="main"><h1>Contents</h1><div class="page-actions"><ul>'
        '<li><a href="contents.html?print=1">Print</a></li>'
        f'<li><a href="contents.html?share={token}">Share</a></li></ul></div>'
        '<form class="search" action="/a/search" method="get"><label>Search the manual '
        f'<input name="q"></label><input type="hidden" name="t" value="{token}">'
        f"<button>Go</button></form><p>This manual has {len(docs)} chapters.</p>"
        f'<div class="contents">{lists}</div></main>'
    )
    return _a_page("Contents", body)


# -- template b ---------------------------------------------------------------------------------
B_TITLE = "Online Procedures (B)"


def _b_href(doc: Doc) -> str:
    return f"/b/procedures/{doc.slug}/"


def _b_page(title: str, menu: str, content: str) -> str:
    consent = secrets.token_hex(8)
    nav = "".join(
        f'<li><a href="/b/{path}">{label}</a></li>'
        for path, label in (("", "Home"), ("procedures/", "Procedures"), ("about.html", "About"))
    )
    return (
        f"<!DOCTYPE html><html><head><title>{title} | {B_TITLE}</title>"
        f'<script>var consentId="{consent}";</script></head><body>'
        f'<div class="cc-banner" id="cc-{consent}" data-consent-id="{consent}"><p>We use '
        'cookies to make this site work and to collect analytics. <a href="/b/cookies.html">'
        "Cookie settings</a></p><button>Accept all cookies</button><button>Reject</button></div>"
        f'<div id="wrapper"><div id="header"><a class="brand" href="/b/">{B_TITLE}</a>'
        f'<ul class="menu">{nav}</ul></div><div id="leftnav"><h3>Procedures</h3><ul>{menu}'
        f'</ul></div><div id="content" class="page-body">{content}</div>'
        f'<div id="footer"><p>Page generated {_generated()}</p><input type="hidden" '
        f'name="__RequestVerificationToken" value="{secrets.token_urlsafe(24)}"></div></div>'
        "</body></html>"
    )


def b_chapter(doc: Doc, version: Version, docs: list[Doc], content: str) -> str:
    title = escape(doc.chapter_title)
    body = (
        f'<h1 class="page-title">{title}</h1><p class="meta">Last reviewed on '
        f"{_long_date(version.date)}</p>\n{content}\n"
        '<div class="pagefoot"><a href="javascript:window.print()">Print this page</a> | '
        f'<a href="/b/procedures/{doc.slug}/?share={secrets.token_urlsafe(9)}">Share</a></div>'
    )
    return _b_page(title, _related(doc, docs, _b_href), body)


def b_contents(docs: list[Doc], week: int) -> str:
    rows = "".join(
        f'<tr><td>{escape(d.publisher)}</td><td><a href="{_b_href(d)}">'
        f"{escape(d.chapter_title)}</a></td><td>{_long_date(d.version_at(week).date)}</td></tr>"
        for d in docs
    )
    body = (
        '<h1 class="page-title">Procedures</h1><div class="pagefoot">'
        f'<a href="?share={secrets.token_urlsafe(9)}">Share</a> | '
        '<a href="javascript:window.print()">Print</a></div>'
        '<form action="/b/search" method="get"><input name="q" placeholder="Search procedures">'
        '<button>Search</button></form><table class="procedures"><thead><tr><th>Organisation'
        f"</th><th>Procedure</th><th>Last reviewed</th></tr></thead><tbody>{rows}</tbody></table>"
    )
    return _b_page("Procedures", "", body)


TEMPLATES: dict[str, Template] = {
    "a": Template("a", A_TITLE, "/a/contents.html", _a_href, a_chapter, a_contents, False),
    "b": Template("b", B_TITLE, "/b/procedures/", _b_href, b_chapter, b_contents, True),
}

# pages that the site navigation links to: small real pages, never chapters
NAV_PAGES = {
    "/a/index.html": "Home",
    "/a/amendments.html": "Amendments",
    "/a/contact.html": "Contact us",
    "/b/": "Home",
    "/b/about.html": "About",
    "/b/cookies.html": "Cookies",
}


def nav_page(title: str) -> str:
    return _b_page(escape(title), "", f"<h1>{escape(title)}</h1><p>Nothing to see here.</p>")
