"""Read a manual's contents page into its ordered list of chapters, and say which of the
entries it lists are not watched, and why.

The rules (docs/extraction.md, "Discovery") work from the page's structure and text, never
from one site's markup:

- Site chrome is not the contents: header, footer, nav, aside, forms, ARIA banners and
  dialogs, breadcrumbs (by label, id or class) and cookie notices (a small block with a button
  whose text talks about cookies). When that leaves no chapter at all, nav and aside are read
  too (some sites list chapters in a nav).
- The chapter list is looked for inside the main element and after the main heading (h1)
  first, then more widely: site headers and menus above the title are not the contents.
- Each link belongs to a *container*: its nearest list (nested lists count as one) or table;
  otherwise the block reached by climbing from the link while the block holds no link to
  another page (so a run of paragraphs or of cards is one container). The contents
  structure is the set of containers holding at least one link that may be a chapter.
- Tools are never entries: links whose text is an action ("Print", "Share", "Email this
  page", "Download PDF" ...), links to the contents page itself (whatever their query), and
  links that are not web pages. A short run of tools with a stray link beside it is a tool
  bar: that link is not a chapter either.
- Chapter URLs are canonical (scraper.urlcanon): no fragment, no tracking, session, share,
  print or token parameters. Entries with the same URL are one chapter; two chapters with the
  same title and different URLs are two chapters.
- Names of site pages ("Privacy Policy", "Cookies", "Contact us" ...) are chapters when they
  sit in the contents structure in the chapters' folder (a manual of policies has such
  chapters); elsewhere they are site pages. A few names are never chapters ("Home",
  "Amendments", "Search", "Log in" ...).
- Every entry of the contents structure that is not watched is returned in
  ``Contents.skipped`` with its reason; links before the page's main heading (skip links,
  banners) are never reported.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, replace
from urllib.parse import urljoin, urlsplit

from bs4 import BeautifulSoup, NavigableString, Tag

from scraper.guard import allow_entry
from scraper.models import ChapterRef, Contents, Skipped
from scraper.sections import gone, inline_text
from scraper.text import normalise_line
from scraper.urlcanon import canonical_url, page_path, routing_query

_NUMBER_PREFIX = re.compile(r"^(\d{1,3}(?:\.\d{1,3})+|\d{1,3})\.?\s+(?=\S)")
_NUMBER_TAIL = re.compile(r"(\d{1,3}(?:\.\d{1,3})+)\.?\s*$")
_CELL_NUMBER = re.compile(r"(\d{1,3}(?:\.\d{1,3})*)\.?")
_MARKER_TAIL = re.compile(r"\s*[-–(\[]*\s*\b(updated|new|amended|revised)\b\s*[)\]]*\s*$", re.I)
_PART_TEXT = re.compile(r"^(\d{1,2}|Part\s+\w+)[.:)]?\s+\S")
#: Names that are never a chapter of a manual, wherever they are listed.
_SITE_TITLES = frozenset(
    {"home", "amendments", "amendment", "search", "login", "log in", "sign in", "logout",
     "log out", "sitemap", "site map", "print", "back to top", "top", "contents", "register",
     "what's new", "whats new", "skip to main content", "skip to content"}
)  # fmt: skip
#: Names of site pages that a manual may also have as chapters (a manual of policies).
_SITE_PAGE_TITLES = frozenset(
    {"contact", "contact us", "contacts", "cookies", "cookie policy", "cookie settings",
     "accessibility", "accessibility statement", "privacy", "privacy notice", "privacy policy",
     "terms", "help", "disclaimer"}
)  # fmt: skip
_SITE_SLUGS = re.compile(
    r"(^|/)(index|home|amendments?|search|log-?in|sign-?in|log-?out|sitemap)(\.\w+)?/?$", re.I
)
_SITE_PAGE_SLUGS = re.compile(
    r"(^|/)(contact(-?us)?|cookies?|cookie-?policy|accessibility|privacy|disclaimer)(\.\w+)?/?$",
    re.I,
)
_FILE_EXT = re.compile(
    r"\.(pdf|docx?|xlsx?|pptx?|odt|ods|odp|rtf|csv|zip|gz|xml|txt|json|rss|atom|css|js|ico"
    r"|jpe?g|png|gif|svg|webp|bmp|tiff?|mp3|mp4|m4a|wav|avi|mov|webm|epub)$",
    re.I,
)
_ACTION_VERBS = (
    r"print|share|e-?mail|download|save|bookmark|copy|send|tweet|subscribe|follow|listen|translate"
)
_ACTION_OBJECTS = (
    r"this|the|a|an|as|on|to|by|via|us|link|url|page|chapter|document|contents|pdf|version"
    r"|e-?mail|facebook|twitter|x|linkedin|whatsapp|bluesky|friend|colleague|printable|print"
    r"|feed|rss|updates|it|copy"
)
_ACTION = re.compile(
    rf"^(?:(?:{_ACTION_VERBS})(?:\s+(?:{_ACTION_OBJECTS}))*"
    r"|(?:printable|printer[- ]friendly|print|pdf|text[- ]only|easy[- ]read)"
    r"\s+(?:version|view|page|copy)"
    r"|pdf|rss|feedback|give feedback|send feedback|facebook|twitter|x|linkedin|whatsapp"
    r"|back|back to top|top|top of page|skip to (?:main )?content)$",
    re.I,
)
_COOKIE_TEXT = re.compile(r"\bcookies?\b|\bconsent\b", re.I)
_CHROME = ("script", "style", "noscript", "template", "header", "footer", "form")
_NAV_CHROME = ("nav", "aside")
_CHROME_ROLES = frozenset({"banner", "contentinfo", "search", "dialog", "alertdialog"})
_NAV_ROLES = frozenset({"navigation", "complementary"})
_LISTS = ("ul", "ol", "dl", "menu")
_LIST_ITEMS = ("li", "dd", "dt")
_TOP = ("body", "html", "[document]")
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
_BLOCKS = frozenset({"div", "section", "aside", "dialog", "p", "article"})
MAX_BANNER_LINKS = 3  # a cookie notice with more links than this is not one


def _strip_markers(title: str) -> str:
    previous = None
    while previous != title:
        previous = title
        title = _MARKER_TAIL.sub("", title).strip(" -–\u00a0")
    return title


def split_number(text: str) -> tuple[str | None, str]:
    """ "3.4 Initial Child Protection Conferences Updated" -> ("3.4", "Initial ... Conferences")."""
    text = normalise_line(text)
    number = None
    match = _NUMBER_PREFIX.match(text)
    if match:
        number, text = match.group(1), text[match.end() :]
    return number, _strip_markers(text)


def _preceding_number(anchor: Tag) -> str | None:
    """A number written just before the link, in the same block: "3.4 <a>Initial ...</a>"."""
    texts: list[str] = []
    for sibling in anchor.previous_siblings:
        if isinstance(sibling, Tag) and sibling.name in ("br", "a", "p", "li", "div"):
            break
        texts.append(sibling.get_text(" ") if isinstance(sibling, Tag) else str(sibling))
    match = _NUMBER_TAIL.search(normalise_line(" ".join(reversed(texts))))
    return match.group(1) if match else _cell_number(anchor)


def _cell_number(anchor: Tag) -> str | None:
    """A number alone in the table cell before the link's: "<td>3.4</td><td><a>...</a></td>"."""
    cell = next((p for p in anchor.parents if p.name in ("td", "th")), None)
    before = cell.find_previous_sibling(["td", "th"]) if cell is not None else None
    if before is None:
        return None
    match = _CELL_NUMBER.fullmatch(normalise_line(before.get_text(" ")))
    return match.group(1) if match else None


def _part_of(tag: Tag) -> str | None:
    """A part heading: h2-h5 (not one that is a chapter's link, as on a card), or a paragraph
    that is only bold text like "3. Managing ..."."""
    if tag.name in ("h2", "h3", "h4", "h5"):
        linked = any(
            not str(a["href"]).strip().startswith("#") for a in tag.find_all("a", href=True)
        )
        text = inline_text(tag)
        return text if text and not linked else None
    if tag.name in ("p", "div", "dt") and tag.find("a", href=True) is None:
        children = [
            c for c in tag.children if not (isinstance(c, NavigableString) and not c.strip())
        ]
        text = inline_text(tag)
        bold = (
            len(children) == 1
            and isinstance(children[0], Tag)
            and children[0].name in ("strong", "b")
        )
        if text and (bold or (_PART_TEXT.match(text) and len(text) <= 160 and tag.name != "div")):
            return text
    return None


@functools.lru_cache(maxsize=16384)
def _host(url: str) -> str:
    """The site of ``url`` as ``--allow-host`` names it: the host, or ``host:port`` when the
    port is not the scheme's default (http and https on their default ports are one site)."""
    try:
        return allow_entry(url)
    except ValueError:
        return ""


def is_contents_page(url: str, contents_url: str) -> bool:
    """Whether ``url`` is the contents page itself: the same host and page path, with the same
    canonical query, or (when the contents page has no query of its own) any query that does
    not route a CMS to another page (``?share=...``, ``?print=1``, ``?tab=2`` ...)."""
    if _host(url) != _host(contents_url) or page_path(url) != page_path(contents_url):
        return False
    own = urlsplit(canonical_url(contents_url)).query
    query = urlsplit(canonical_url(url)).query
    return query == own or (not own and not routing_query(canonical_url(url)))


def chapter_url(href: str, base_url: str) -> str | None:
    """The canonical URL a link ``href`` on the contents page ``base_url`` names, when it may
    be a chapter by its URL alone: http(s), the contents page's own host, not the contents
    page itself and not a site page by its path (home, search, cookies ...); else None.
    (The sitemap stage uses it; a contents page's entries also get the structural rules.)"""
    href = href.strip()
    if not href or href.startswith("#"):
        return None
    try:
        url = canonical_url(urljoin(base_url, href))
    except ValueError:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or _host(url) != _host(base_url):
        return None
    if is_contents_page(url, base_url):
        return None
    if _SITE_SLUGS.search(parts.path) or _SITE_PAGE_SLUGS.search(parts.path):
        return None
    return url


# -- reading the page ----------------------------------------------------------------------
@dataclass
class _Entry:
    """One link of the contents page, as read and judged."""

    anchor: Tag
    url: str  # canonical absolute URL of a web link; the href itself for any other
    strict: str  # canonical without the value-token rule
    scheme: str
    fragment: bool  # the href pointed into the page (#section8)
    title: str
    number: str | None
    part: str | None
    after_heading: bool  # after the page's main heading (h1): a skip is reported
    in_main: bool  # inside the page's main element (main, role=main)
    # tool | other | self | offsite | file | amendments | ancestor | site | maybe | page
    kind: str = ""
    container: int = 0  # id() of the container (see _container_of)
    box: Tag | None = None  # the container
    toolbar: bool = False


def _remove_chrome(soup: BeautifulSoup, *, keep_nav: bool) -> None:
    names = _CHROME if keep_nav else (*_CHROME, *_NAV_CHROME)
    for tag in soup.find_all(names):
        tag.decompose()
    roles = _CHROME_ROLES if keep_nav else _CHROME_ROLES | _NAV_ROLES
    marked = []
    for tag in soup.find_all(True):
        attrs = tag.attrs
        if not attrs:
            continue
        if str(attrs.get("role") or "").lower() in roles:
            marked.append(tag)
        elif not keep_nav:  # a breadcrumb trail, by its label, id or class
            words = [str(attrs.get("aria-label") or ""), str(attrs.get("id") or "")]
            if "breadcrumb" in " ".join([*words, *(attrs.get("class") or [])]).lower():
                marked.append(tag)
    for tag in marked:
        if not gone(tag):
            tag.decompose()
    for control in soup.find_all(["button", "input"]):
        notice = None if gone(control) else _cookie_notice(control)
        if notice is not None:
            notice.decompose()


def _cookie_notice(control: Tag) -> Tag | None:
    """The smallest block around a button whose own text (not its links') talks about
    cookies or consent, when it is small (a few links, no main heading): a cookie notice."""
    for block in control.parents:
        if block.name in _TOP or block.name == "main":
            return None
        if block.name not in _BLOCKS:
            continue
        links = block.find_all("a", href=True)
        linked = sum(len(_COOKIE_TEXT.findall(a.get_text(" "))) for a in links)
        if len(_COOKIE_TEXT.findall(block.get_text(" "))) <= linked:
            continue
        small = len(links) <= MAX_BANNER_LINKS
        return block if small and block.find("h1") is None else None
    return None


def _page_title(soup: BeautifulSoup) -> str:
    heading = soup.find("h1")
    if isinstance(heading, Tag):
        return inline_text(heading)
    return normalise_line(soup.title.get_text()) if soup.title else ""


def _link_text(anchor: Tag) -> str:
    text = inline_text(anchor)
    if text:
        return text
    for name in ("aria-label", "title"):
        value = anchor.get(name)
        if isinstance(value, str) and value.strip():
            return normalise_line(value)
    image = anchor.find("img", alt=True)
    return normalise_line(str(image["alt"])) if isinstance(image, Tag) else ""


def _read_links(soup: BeautifulSoup, base_url: str) -> list[_Entry]:
    """Every link to a page (not an in-page anchor), in document order, with its part."""
    entries: list[_Entry] = []
    part: str | None = None
    main_heading = soup.find("h1")
    after = main_heading is None
    for tag in soup.find_all(True):
        if tag is main_heading:
            after = True
        if tag.name != "a":
            found = _part_of(tag)
            if found is not None:
                part = found
            continue
        href = tag.get("href")
        if not isinstance(href, str) or not href.strip():
            continue
        main = any(_is_main(parent) for parent in tag.parents)
        entry = _entry(tag, href.strip(), base_url, part, after, main)
        if entry is not None:
            entries.append(entry)
    return entries


def _is_main(tag: Tag) -> bool:
    return tag.name == "main" or str(tag.get("role") or "").lower() == "main"


def _entry(
    anchor: Tag, href: str, base_url: str, part: str | None, after: bool, main: bool
) -> _Entry | None:
    try:
        absolute = urljoin(base_url, href)
        parts = urlsplit(absolute)
    except ValueError:
        return None
    bare = absolute.split("#", 1)[0]
    if parts.fragment and (href.startswith("#") or bare == base_url.split("#", 1)[0]):
        return None  # an anchor into the contents page itself ("jump to Part 3")
    number, title = split_number(_link_text(anchor))
    if number is None:
        number = _preceding_number(anchor)
    scheme = parts.scheme.lower()
    web = scheme in ("http", "https")
    url = canonical_url(absolute) if web else href
    strict = canonical_url(absolute, by_value=False) if web else href
    fragment = bool(parts.fragment)
    return _Entry(anchor, url, strict, scheme, fragment, title, number, part, after, main)


def _keep_meaningful_values(entries: list[_Entry]) -> None:
    """The value-token rule may not merge links with different titles: there the value chose
    the page (``?doc=Xk3...`` on a CMS), so those links keep it."""
    groups: dict[str, list[_Entry]] = {}
    for entry in entries:
        if entry.scheme in ("http", "https"):
            groups.setdefault(entry.url, []).append(entry)
    for group in groups.values():
        stricts = {e.strict for e in group}
        titles = {e.title.casefold() for e in group if e.title}
        if len(stricts) > 1 and len(titles) > 1:
            for entry in group:
                entry.url = entry.strict


@functools.lru_cache(maxsize=16384)
def _ancestors(contents_url: str) -> frozenset[str]:
    """Page paths of the folders above the contents page ("/", "/manual" ...)."""
    path = page_path(contents_url)
    found = {"/"}
    while "/" in path.strip("/"):
        path = path.rsplit("/", 1)[0]
        found.add(path)
    return frozenset(found - {page_path(contents_url)})


def _kind(entry: _Entry, base_url: str, hosts: Collection[str], amendments: str | None) -> str:
    if entry.number is None and (_ACTION.match(entry.title) or entry.scheme == "javascript"):
        return "tool"
    if entry.scheme not in ("http", "https"):
        return "other"
    if is_contents_page(entry.url, base_url):
        return "self"
    host = _host(entry.url)
    if host != _host(base_url) and host not in hosts:
        return "offsite"
    path = urlsplit(entry.url).path
    if _FILE_EXT.search(path):
        return "file"
    if amendments is not None and (host, page_path(entry.url)) == (
        _host(amendments),
        page_path(amendments),
    ):
        return "amendments"
    if host == _host(base_url) and page_path(entry.url) in _ancestors(base_url):
        return "ancestor"
    name = entry.title.lower().strip(" .:")
    slug = "" if routing_query(entry.url) else path  # index.php?page=... is not an index
    if name in _SITE_TITLES or _SITE_SLUGS.search(slug):
        return "site"
    if name in _SITE_PAGE_TITLES or _SITE_PAGE_SLUGS.search(slug):
        return "maybe"
    return "page"


_ENTRY_KINDS = frozenset({"offsite", "file", "amendments", "ancestor", "site", "maybe", "page"})


def _container_of(anchor: Tag, keys: dict[int, set[str]], own: str) -> tuple[Tag, Tag]:
    """(container, item): the nearest table (item: its row) or list, nested lists counting as
    one (item: the list item); otherwise the first ancestor that holds a link to another page
    (item: the child of it that holds this link, or the ancestor itself when the link sits
    directly in it, as in a run of links)."""
    for parent in anchor.parents:
        if parent.name == "table":
            return parent, next((p for p in anchor.parents if p.name == "tr"), parent)
        if parent.name in _LISTS:
            item = next((p for p in anchor.parents if p.name in _LIST_ITEMS), parent)
            return _outer_list(parent), item
        if parent.name in _TOP:
            break
    child: Tag = anchor
    for parent in anchor.parents:
        if parent.name in _TOP or keys.get(id(parent), set()) - {own}:
            return parent, (parent if child is anchor else child)
        child = parent
    return child, child


def _outer_list(found: Tag) -> Tag:
    outer = found
    while isinstance(outer.parent, Tag):
        up = outer.parent
        if up.name in _LIST_ITEMS and isinstance(up.parent, Tag) and up.parent.name in _LISTS:
            outer = up.parent
        elif up.name in _LISTS:
            outer = up
        else:
            break
    return outer


def _similar(item: Tag, other: Tag) -> bool:
    return item.name == other.name and (item.get("class") or []) == (other.get("class") or [])


def _inside(tag: Tag, names: Collection[str]) -> bool:
    return any(parent.name in names for parent in tag.parents)


def _tool_run(
    entry: _Entry, item: Tag, by_anchor: dict[int, _Entry], tools_in: dict[int, int]
) -> bool:
    """Whether ``entry`` sits in a tool bar: its item holds two or more tools and fewer
    entries than tools (at most two), is not one of a series of like items with entries, and
    the entry is neither numbered nor a heading."""
    if tools_in.get(id(item), 0) < 2 or entry.number is not None:
        return False
    if _inside(entry.anchor, _HEADINGS):
        return False
    inside = [by_anchor[id(a)] for a in item.find_all("a", href=True) if id(a) in by_anchor]
    tools = sum(1 for e in inside if e.kind in ("tool", "self", "other"))
    entries = len({e.url for e in inside if e.kind in _ENTRY_KINDS})
    if tools < 2 or tools <= entries or entries > 2:
        return False
    parent = item.parent
    if isinstance(parent, Tag):
        for sibling in parent.find_all(True, recursive=False):
            if sibling is not item and _similar(item, sibling):
                linked = [by_anchor.get(id(a)) for a in sibling.find_all("a", href=True)]
                if any(e is not None and e.kind in _ENTRY_KINDS for e in linked):
                    return False
    return True


def _place(entries: list[_Entry]) -> None:
    """Each entry's container, and whether it sits in a tool bar."""
    keys: dict[int, set[str]] = {}
    for entry in entries:
        if entry.kind in _ENTRY_KINDS:
            for parent in entry.anchor.parents:
                keys.setdefault(id(parent), set()).add(entry.url)
    tools_in: dict[int, int] = {}
    for entry in entries:
        if entry.kind in ("tool", "self", "other"):
            for parent in entry.anchor.parents:
                tools_in[id(parent)] = tools_in.get(id(parent), 0) + 1
    by_anchor = {id(entry.anchor): entry for entry in entries}
    for entry in entries:
        container, item = _container_of(entry.anchor, keys, entry.url)
        entry.container, entry.box = id(container), container
        if entry.kind in _ENTRY_KINDS:
            entry.toolbar = _tool_run(entry, item, by_anchor, tools_in)


def _folder(url: str) -> str:
    """The folder a page is in ("/chapters/" for /chapters/a.html and /chapters/a/)."""
    return page_path(url).rsplit("/", 1)[0] + "/"


def _reason(entry: _Entry, first: dict[str, _Entry]) -> str | None:
    """Why a listed entry is not watched (None: it is a chapter, or the same page as one)."""
    if entry.kind == "other":
        return f"not a web page ({entry.scheme}: link)"
    reasons = {
        "self": "the contents page itself",
        "offsite": f"on another site ({_host(entry.url)}; see manual add --allow-host)",
        "file": f"a {urlsplit(entry.url).path.rsplit('.', 1)[-1].upper()} file, not a web page",
        "amendments": "the manual's Amendments page (captured on its own)",
        "ancestor": "a page above the contents page (a breadcrumb)",
        "site": "a site page, not a chapter (by its name)",
        "maybe": "a site page outside the chapters' folder",
    }
    if entry.kind in reasons:
        return reasons[entry.kind]
    earlier = first.get(entry.url)
    if earlier is not None:
        same = entry.title.casefold() == earlier.title.casefold()
        if earlier is entry or same or entry.fragment or entry.toolbar or not entry.title:
            return None  # listed again (under another part, or a section of it): one chapter
        return f"the same page as {earlier.title!r}, listed before"
    if entry.toolbar:
        return "in a tool bar, not in the chapter list"
    return "a link without text"


def _signature(box: Tag | None) -> tuple[str, tuple[str, ...], int] | None:
    """What makes lists or tables alike: the same tag and classes, under the same parent."""
    if box is None or box.name not in (*_LISTS, "table"):
        return None
    return box.name, tuple(box.get("class") or ()), id(box.parent)


def _listing(entries: list[_Entry], *, relaxed: bool) -> set[int]:
    """The containers of the contents structure: those holding an entry that may be a
    chapter, and the lists or tables like them (a part with a single "Privacy Policy"). The
    chapters' folders are those of the listings (containers with two or more such entries,
    else the largest one); a site-page name in the contents structure, in or below one of
    them, is a chapter. ``relaxed`` (when nothing else was found) takes site-page names as
    entries that may be chapters, and reads tool bars too."""
    kinds = {"page", "maybe"} if relaxed else {"page"}
    if relaxed:
        for entry in entries:
            entry.toolbar = False
    by_container: dict[int, list[_Entry]] = {}
    for entry in entries:
        if entry.kind in kinds and not entry.toolbar:
            by_container.setdefault(entry.container, []).append(entry)
    if not by_container:
        return set()
    listings = [found for found in by_container.values() if len({e.url for e in found}) > 1]
    main = listings or [max(by_container.values(), key=len)]
    folders = {_folder(e.url) for found in main for e in found}
    candidates = _and_alike(set(by_container), entries)
    for entry in entries:
        below = any(_folder(entry.url).startswith(folder) for folder in folders)
        if entry.kind == "maybe" and entry.container in candidates and below:
            entry.kind = "page"
    return _and_alike({e.container for e in entries if e.kind == "page" and not e.toolbar}, entries)


def _and_alike(containers: set[int], entries: list[_Entry]) -> set[int]:
    """``containers`` and the lists or tables like one of them."""
    alike = {_signature(e.box) for e in entries if e.container in containers} - {None}
    return containers | {e.container for e in entries if _signature(e.box) in alike}


def _select(
    entries: list[_Entry], *, relaxed: bool
) -> tuple[tuple[ChapterRef, ...], tuple[Skipped, ...]]:
    containers = _listing(entries, relaxed=relaxed)
    first: dict[str, _Entry] = {}
    for entry in entries:
        chapter = entry.kind == "page" and entry.title and not entry.toolbar
        if chapter and entry.container in containers:
            first.setdefault(entry.url, entry)
    chapters = tuple(
        ChapterRef(url=e.url, title=e.title, number=e.number, part=e.part) for e in first.values()
    )
    skipped: dict[tuple[str, str], Skipped] = {}
    for entry in entries:
        if entry.kind == "tool" or not entry.after_heading:
            continue
        if chapters and entry.container not in containers:
            continue  # outside the contents structure (when there is one)
        reason = _reason(entry, first)
        if reason is not None:
            skipped.setdefault((entry.url, reason), Skipped(entry.url, entry.title, reason))
    return chapters, tuple(skipped.values())


def _read(
    html: bytes | str,
    base_url: str,
    hosts: Collection[str],
    amendments_url: str | None,
    *,
    keep_nav: bool,
) -> tuple[str, list[_Entry]]:
    """The page's title and its links, judged one by one."""
    soup = BeautifulSoup(html, "lxml")
    _remove_chrome(soup, keep_nav=keep_nav)
    entries = _read_links(soup, base_url)
    _keep_meaningful_values(entries)
    for entry in entries:
        entry.kind = _kind(entry, base_url, hosts, amendments_url)
    return _page_title(soup), entries


def _regions(entries: list[_Entry]) -> list[list[_Entry]]:
    """Where the chapter list is looked for, narrowest first: inside the main element and
    after the main heading; inside the main element; after the main heading; anywhere. The
    first region that lists a chapter is the contents (site headers and menus lie outside)."""
    main = [e for e in entries if e.in_main]
    candidates = [
        [e for e in main if e.after_heading],
        main,
        [e for e in entries if e.after_heading],
        entries,
    ]
    regions: list[list[_Entry]] = []
    seen: list[set[int]] = []
    for region in candidates:
        ids = {id(e) for e in region}
        if region and ids not in seen:
            regions.append(region)
            seen.append(ids)
    return regions or [entries]


def parse_contents(
    html: bytes | str,
    base_url: str,
    *,
    hosts: Iterable[str] = (),
    amendments_url: str | None = None,
) -> Contents:
    """The ordered chapters listed on a contents page, and the listed entries not watched
    (with their reasons). ``hosts``: other hosts the manual's chapters may live on;
    ``amendments_url``: the manual's Amendments page (never a chapter)."""
    allowed = frozenset(h.lower() for h in hosts)
    nothing: Contents | None = None
    for keep_nav in (False, True):
        title, entries = _read(html, base_url, allowed, amendments_url, keep_nav=keep_nav)
        regions = _regions(entries)
        for region in regions:
            for relaxed in (False, True):
                trial = [replace(entry) for entry in region]
                _place(trial)
                chapters, skipped = _select(trial, relaxed=relaxed)
                found = Contents(url=base_url, title=title, chapters=chapters, skipped=skipped)
                if chapters:
                    return found
                if nothing is None and region is regions[-1] and not relaxed:
                    nothing = found  # nothing anywhere: say why, for every link read
    assert nothing is not None
    return nothing
