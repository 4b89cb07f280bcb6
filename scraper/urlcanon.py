"""Canonical chapter URLs: one page, one URL, whatever tracking, session, share or print
decoration a particular render of the contents page put on its links.

``canonical_url`` drops the fragment, lower-cases the scheme and host (and drops a default
port), strips ``;jsessionid=...``-style path parameters, and drops query parameters that do
not choose the page:

- by name: analytics and ad click ids (``utm_*``, ``mc_*``, ``fbclid``, ``gclid`` ...),
  referrers (``ref``, ``referrer``), sessions (``sid``, ``sessionid``, ``jsessionid``,
  ``phpsessid`` ...), share and print switches (``share``, ``print``, ``printable`` ...),
  cache busters (``cb``, ``nocache``, ``_`` ...), and any name holding "token", "session",
  "nonce" or "csrf";
- by value: ``view=print``-like switches, and (unless the name is one that routes a CMS,
  such as ``id``, ``page`` or ``doc``) a value that looks random: a long hex string, a UUID,
  or a long run of letters and digits that keeps switching between them, as tokens do.

Every other parameter is kept as written, in its order (``?id=42`` on a CMS that routes by
query is the page). A URL with nothing to drop comes back unchanged apart from its fragment, so
chapter URLs stored by earlier releases keep their identity. The value rule is a heuristic:
``parse_contents`` turns it off for links whose titles show that the value chose the page.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Collection, Iterable
from urllib.parse import unquote_plus, urlsplit, urlunsplit

TRACKING_PREFIXES = (
    "utm_", "mc_", "pk_", "mtm_", "matomo_", "piwik_", "hsa_", "_hs", "_ga", "_gl", "ga_",
    "vero_", "oly_", "fb_", "ig_",
)  # fmt: skip
DROPPED_NAMES = frozenset(
    {
        # ad and analytics click ids
        "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid",
        "ttclid", "igshid", "li_fat_id", "mkt_tok", "_ke", "trk", "trkcampaign", "icid", "cmpid",
        "s_kwcid", "ef_id", "spm", "scid", "ncid", "sr_share", "rb_clickid", "wickedid",
        "_openstat",
        # referrers
        "ref", "referrer", "referer", "ref_src", "ref_url", "refsrc",
        # sessions
        "sid", "sessid", "sessionid", "session_id", "session", "jsessionid", "phpsessid",
        "aspsessionid", "cfid", "cftoken", "zenid", "oscsid",
        # share, send and print switches
        "share", "shared", "sharing", "shareid", "share_id", "sharer", "shared_from", "via",
        "email", "print", "printable", "printer", "printview", "print_view", "printerfriendly",
        "printer_friendly", "pdf",
        # cache busters
        "cb", "cachebust", "cachebuster", "nocache", "no_cache", "_", "rnd", "rand", "random",
        "timestamp", "ts",
    }
)  # fmt: skip
_DROPPED_PART = re.compile(r"token|session|sessid|nonce|csrf|xsrf|click_?id", re.I)
_SWITCH_NAMES = frozenset({"view", "format", "mode", "output", "layout", "display", "media"})
_SWITCH_VALUES = frozenset({"print", "printable", "printer", "printer-friendly", "pdf", "share"})
ROUTING_NAMES = frozenset(
    {
        "id", "p", "page", "pageid", "page_id", "doc", "docid", "doc_id", "document",
        "documentid", "chapter", "chapterid", "chapter_id", "section", "sectionid", "node", "nid",
        "article", "articleid", "item", "itemid", "topic", "topicid", "cid", "tid", "pid", "post",
        "slug", "path", "name", "file", "lang", "language", "locale", "version", "edition",
    }
)  # fmt: skip
_PATH_SESSION = re.compile(r";(?:jsessionid|sessionid|sid|phpsessid)=[^/?#]*", re.I)
_HEX = re.compile(r"[0-9a-fA-F]+")
_TOKEN_CHARS = re.compile(r"[A-Za-z0-9_\-.~+/=%]+")
_DEFAULT_PORTS = {"http": 80, "https": 443}
MIN_TOKEN = 16  # shorter values are never judged random


def _kind(char: str) -> str:
    if char.isdigit():
        return "d"
    if char.isalpha():
        return "u" if char.isupper() else "l"
    return "-"


def looks_random(value: str) -> bool:
    """Whether a query value looks like a per-render token rather than a name: 16+
    characters of hex (with digits and letters) or a UUID; or 16+ letters (and digits) that
    switch class (digit / lower case / upper case) at least once every three characters."""
    text = unquote_plus(value).strip()
    if len(text) < MIN_TOKEN or not _TOKEN_CHARS.fullmatch(text):
        return False
    bare = text.replace("-", "")
    digits = any(c.isdigit() for c in text)
    lower, upper = any(c.islower() for c in text), any(c.isupper() for c in text)
    if digits and (lower or upper) and len(bare) >= MIN_TOKEN and _HEX.fullmatch(bare):
        return True
    if not ((digits and (lower or upper)) or (lower and upper)):
        return False
    switches = sum(
        1
        for a, b in itertools.pairwise(text)
        if _kind(a) != _kind(b) and "-" not in (_kind(a), _kind(b))
    )
    return switches * 3 >= len(text)


def dropped(name: str, value: str, *, by_value: bool = True) -> bool:
    """Whether the query parameter ``name=value`` is decoration, not part of the page's
    identity (see the module's docstring)."""
    key = unquote_plus(name).strip().lower()
    if key in ROUTING_NAMES:
        return False
    if key in DROPPED_NAMES or key.startswith(TRACKING_PREFIXES) or _DROPPED_PART.search(key):
        return True
    if key in _SWITCH_NAMES and unquote_plus(value).strip().lower() in _SWITCH_VALUES:
        return True
    return by_value and looks_random(value)


def _netloc(scheme: str, netloc: str) -> str:
    host_port = netloc.rsplit("@", 1)[-1]
    host, _, port = host_port.rpartition(":") if host_port.count(":") == 1 else (host_port, "", "")
    if not host:
        host, port = host_port, ""
    if port and port.isdigit() and int(port) == _DEFAULT_PORTS.get(scheme):
        port = ""
    return host.lower() + (f":{port}" if port else "")


@functools.lru_cache(maxsize=16384)
def canonical_url(url: str, *, by_value: bool = True) -> str:
    """``url`` without its fragment and decoration (see the module's docstring).
    ``by_value=False`` keeps parameters that only their value would drop."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    netloc = _netloc(scheme, parts.netloc) if parts.netloc else ""
    path = _PATH_SESSION.sub("", parts.path)
    if netloc and not path:
        path = "/"
    kept = []
    for raw in re.split(r"[&;]", parts.query):
        if not raw:
            continue
        name, _, value = raw.partition("=")
        if not dropped(name, value, by_value=by_value):
            kept.append(raw)
    return urlunsplit((scheme, netloc, path, "&".join(kept), ""))


@functools.lru_cache(maxsize=16384)
def routing_query(url: str) -> bool:
    """Whether ``url`` has a query parameter that routes a CMS (``id``, ``page``, ``doc`` ...)."""
    for raw in re.split(r"[&;]", urlsplit(url).query):
        name = unquote_plus(raw.partition("=")[0]).strip().lower()
        if name in ROUTING_NAMES:
            return True
    return False


@functools.lru_cache(maxsize=16384)
def page_path(url: str) -> str:
    """The path that names a page: an index file (``index.html``, ``default.aspx`` ...) and a
    trailing slash make no difference."""
    path = urlsplit(url).path or "/"
    path = re.sub(r"/(?:index|default|home)\.[A-Za-z0-9]{2,5}$", "/", path, flags=re.I)
    return path.rstrip("/") or "/"


def adopt_known(urls: Iterable[str], known: Collection[str]) -> dict[str, str]:
    """For each listed (canonical) URL that is not a ``known`` chapter URL but is the canonical
    form of one, the known URL to keep using: a chapter stored under a decorated URL by an
    earlier release keeps its record instead of becoming a new chapter."""
    known_set = set(known)
    by_canonical: dict[str, str] = {}
    for url in known:
        by_canonical.setdefault(canonical_url(url), url)
    return {
        url: by_canonical[url]
        for url in urls
        if url not in known_set and by_canonical.get(url, url) != url
    }
