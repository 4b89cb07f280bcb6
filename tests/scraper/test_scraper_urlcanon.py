"""Canonical chapter URLs: each rule, with the case it must leave alone."""

from __future__ import annotations

import pytest

from scraper.urlcanon import adopt_known, canonical_url, looks_random, page_path, routing_query

B = "https://manual.example.org/chapters"


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        # the fragment goes; the rest stays as written
        (f"{B}/a.html#section8", f"{B}/a.html"),
        (f"{B}/a.html", f"{B}/a.html"),
        # tracking: utm_*, mc_*, click ids
        (f"{B}/a.html?utm_source=news&utm_medium=email", f"{B}/a.html"),
        (f"{B}/a.html?mc_cid=1a2b&mc_eid=3c4d", f"{B}/a.html"),
        (f"{B}/a.html?fbclid=IwAR0xYz&gclid=Cj0KCQ&msclkid=77", f"{B}/a.html"),
        # referrer, session, share and print switches
        (f"{B}/a.html?ref=contents", f"{B}/a.html"),
        (f"{B}/a.html?sid=42&PHPSESSID=abc&JSESSIONID=def", f"{B}/a.html"),
        (f"{B}/a.html;jsessionid=A1B2C3D4E5", f"{B}/a.html"),
        (f"{B}/a.html?share=x1&print=1&printable=yes", f"{B}/a.html"),
        (f"{B}/a.html?view=print", f"{B}/a.html"),
        (f"{B}/a.html?format=PDF", f"{B}/a.html"),
        # names that say token, session, nonce, csrf
        (f"{B}/a.html?share_token=abc&csrfToken=def&my_session=1&nonce=2", f"{B}/a.html"),
        # cache busters
        (f"{B}/a.html?_=1700000000000&cb=7", f"{B}/a.html"),
        # values that look random, under names that do not route
        (f"{B}/a.html?s=9f8e7d6c5b4a39281706f5e4d3c2b1a0", f"{B}/a.html"),
        (f"{B}/a.html?k=aZ3kP9qR2xL7mN4vB8", f"{B}/a.html"),
        (f"{B}/a.html?x=3f2504e0-4f89-11d3-9a0c-0305e82c3301", f"{B}/a.html"),
        # scheme and host case, default port
        ("HTTPS://Manual.Example.ORG:443/chapters/a.html", f"{B}/a.html"),
        (
            "http://manual.example.org:80/chapters/a.html",
            "http://manual.example.org/chapters/a.html",
        ),
        ("https://manual.example.org", "https://manual.example.org/"),
    ],
)
def test_decoration_is_dropped(url: str, canonical: str) -> None:
    assert canonical_url(url) == canonical


@pytest.mark.parametrize(
    "url",
    [
        # a CMS that routes by query keeps its parameters, in their order, as written
        "https://cms.example.org/view.aspx?id=42",
        "https://cms.example.org/index.php?page=safeguarding&lang=cy",
        "https://cms.example.org/doc?docid=3f2504e0-4f89-11d3-9a0c-0305e82c3301",
        "https://cms.example.org/show?chapter=initial-child-protection-conferences-2026",
        "https://cms.example.org/show?t=Working%20Together&section=4",
        "https://cms.example.org/show?tab=2&v=20261123",
        "https://cms.example.org/a.html?view=full",
        "https://cms.example.org/a.html?format=html",
        # a readable value, even long, is a name, not a token
        "https://cms.example.org/a?q=ChildProtectionConferences2026",
        "https://cms.example.org/a?p2=annual-report-2025-v2",
        "https://cms.example.org:8443/a.html",
        "http://127.0.0.1:8765/chapters/a.html",
    ],
)
def test_meaningful_parameters_are_kept(url: str) -> None:
    assert canonical_url(url) == url


def test_only_the_decoration_goes_and_the_rest_keeps_its_order() -> None:
    url = "https://cms.example.org/view.aspx?utm_source=x&id=42&sid=9&lang=en&fbclid=y"
    assert canonical_url(url) == "https://cms.example.org/view.aspx?id=42&lang=en"


def test_the_value_rule_can_be_turned_off() -> None:
    url = f"{B}/view?k=aZ3kP9qR2xL7mN4vB8&utm_source=x"
    assert canonical_url(url, by_value=False) == f"{B}/view?k=aZ3kP9qR2xL7mN4vB8"


@pytest.mark.parametrize(
    ("value", "random"),
    [
        ("9f8e7d6c5b4a3928", True),  # 16 hex with digits and letters
        ("3f2504e0-4f89-11d3-9a0c-0305e82c3301", True),  # a UUID
        ("aZ3kP9qR2xL7mN4vB8", True),  # base64-like
        ("kYhTbWqLmNpRsTuVxZ", True),  # mixed case, no digits, switching case all along
        ("c2hhcmUtdG9rZW4tMTIzNDU2Nzg5MA", True),  # base64 of "share-token-1234567890"
        ("9f8e7d6c5b4a392", False),  # 15 characters: too short to tell
        ("1700000000000", False),  # digits only: an id as much as a time
        ("initial-child-protection-conferences-2026", False),
        ("ChildProtectionConferences2026", False),
        ("McDonaldsPolicyOverview", False),
        ("deadbeefdeadbeef", False),  # hex letters only: a word-like value
        ("Working%20Together%20to%20Safeguard", False),
    ],
)
def test_looks_random(value: str, random: bool) -> None:
    assert looks_random(value) is random


def test_page_path_and_routing_query() -> None:
    assert page_path("https://x.org/m/") == page_path("https://x.org/m/index.html") == "/m"
    assert page_path("https://x.org/m/Default.aspx?x=1") == "/m"
    assert page_path("https://x.org/") == "/"
    assert page_path("https://x.org/m/contents.html") == "/m/contents.html"
    assert routing_query("https://x.org/index.php?page=a") is True
    assert routing_query("https://x.org/index.php?share=a") is False


def test_known_decorated_urls_keep_their_record() -> None:
    known = [f"{B}/a.html?ref=contents", f"{B}/b.html"]
    listed = [f"{B}/a.html", f"{B}/b.html", f"{B}/c.html"]
    assert adopt_known(listed, known) == {f"{B}/a.html": f"{B}/a.html?ref=contents"}
    # a known URL that is already canonical is itself; nothing to adopt
    assert adopt_known([f"{B}/b.html"], [f"{B}/b.html", f"{B}/b.html?utm_source=x"]) == {}
