"""Discovery on contents pages of several CMS-like layouts: which links are chapters, and
which listed entries are not watched and why (issue 13, part 3)."""

from __future__ import annotations

from pathlib import Path

from scraper.discover import chapter_url, is_contents_page, parse_contents
from scraper.listing import confirm_stable, keep_known_urls
from scraper.models import ChapterRef, Contents, Skipped

DATA = Path(__file__).parent / "data"
POLICIES = "https://policies.example.org/chapters/contents.html"
P = "https://policies.example.org/chapters/"


def read(name: str, base: str) -> Contents:
    return parse_contents((DATA / name).read_bytes(), base)


def reasons(contents: Contents) -> dict[str, str]:
    return {s.title: s.reason for s in contents.skipped}


# -- a list, with a tool bar of share/print links carrying tokens ---------------------------
def test_a_tool_bar_with_share_and_print_tokens_makes_no_chapter() -> None:
    contents = read("discover_policies_toolbar.html", POLICIES)
    urls = [c.url for c in contents.chapters]
    assert not any("contents.html" in url for url in urls)
    assert not any("?" in url or "#" in url or ";" in url for url in urls)
    assert "Share" not in {s.title for s in contents.skipped}  # a tool, not a listed entry


def test_two_chapters_with_the_same_title_are_two_chapters() -> None:
    contents = read("discover_policies_toolbar.html", POLICIES)
    privacy = [c for c in contents.chapters if c.title == "Privacy Policy"]
    assert [(c.number, c.url) for c in privacy] == [
        ("1.3", f"{P}acme-privacy-policy.html"),  # ?sid= dropped
        ("1.4", f"{P}acme-cloud-privacy-policy.html"),  # #scope dropped
    ]


def test_site_page_names_in_the_chapter_list_are_chapters_and_in_the_footer_are_not() -> None:
    contents = read("discover_policies_toolbar.html", POLICIES)
    got = [(c.number, c.title, c.part, c.url) for c in contents.chapters]
    assert got == [
        ("1.1", "Terms of Service", "1. Using our services", f"{P}terms-of-service.html"),
        ("1.2", "Community Guidelines", "1. Using our services", f"{P}community-guidelines.html"),
        ("1.3", "Privacy Policy", "1. Using our services", f"{P}acme-privacy-policy.html"),
        ("1.4", "Privacy Policy", "1. Using our services", f"{P}acme-cloud-privacy-policy.html"),
        ("1.5", "Cookies", "1. Using our services", f"{P}cookies.html"),
        ("2.1", "Developer Terms", "2. Developers", f"{P}developer-terms.html"),
        ("2.3", "API Terms", "2. Developers", f"{P}api-terms.html"),
    ]
    # the footer's Cookies / Privacy / Contact us and the cookie notice are site furniture:
    # not chapters, and not reported (they are not in the chapter list)
    assert "https://policies.example.org/cookies.html" not in {s.url for s in contents.skipped}
    assert not any(s.title in ("Cookies", "Privacy", "Contact us") for s in contents.skipped)


def test_listed_entries_not_watched_are_reported_with_their_reason() -> None:
    contents = read("discover_policies_toolbar.html", POLICIES)
    assert contents.skipped == (
        Skipped(
            f"{P}terms-of-service.html",
            "Terms for Developers (summary)",
            "the same page as 'Terms of Service', listed before",
        ),
        Skipped(
            "https://status.example.com/",
            "Service Status",
            "on another site (status.example.com; see manual add --allow-host)",
        ),
        Skipped(
            "https://policies.example.org/downloads/all-policies.pdf",
            "All policies in one file",
            "a PDF file, not a web page",
        ),
    )
    # listed again under the same title ("2.2 Terms of Service"): the same chapter, no report


def test_allowed_hosts_and_the_amendments_page() -> None:
    html = (DATA / "discover_policies_toolbar.html").read_bytes()
    contents = parse_contents(
        html,
        POLICIES,
        hosts=["status.example.com"],
        amendments_url=f"{P}api-terms.html",
    )
    urls = [c.url for c in contents.chapters]
    assert "https://status.example.com/" in urls and f"{P}api-terms.html" not in urls
    assert reasons(contents)["API Terms"] == "the manual's Amendments page (captured on its own)"


# -- a table ------------------------------------------------------------------------------
def test_a_table_of_chapters_on_a_cms_that_routes_by_query() -> None:
    base = "https://care.northshire.gov.uk/manual/contents.aspx"
    contents = read("discover_table.html", base)
    v = "https://care.northshire.gov.uk/manual/view.aspx?id="
    got = [(c.number, c.title, c.part, c.url) for c in contents.chapters]
    assert got == [
        ("1.1", "Eligibility Criteria", "Part 1: Assessment", f"{v}42"),
        ("1.2", "Carers' Assessments", "Part 1: Assessment", f"{v}43"),
        ("2.1", "Safeguarding Enquiries", "Part 2: Safeguarding Adults", f"{v}51"),
        ("2.2", "Making Safeguarding Personal", "Part 2: Safeguarding Adults", f"{v}52"),
        ("2.3", "Privacy Notice", "Part 2: Safeguarding Adults", f"{v}53"),
    ]
    # the PDF column is a tool of each row; the external "Useful links" table is no listing
    assert contents.skipped == ()


# -- nested lists with parts --------------------------------------------------------------
def test_nested_lists_with_parts_numbers_and_markers() -> None:
    base = "https://fostering.example.org/manual/contents.html"
    contents = read("discover_nested.html", base)
    got = [(c.number, c.title, c.part, c.url.rsplit("/manual/", 1)[1]) for c in contents.chapters]
    assert got == [
        ("1.1", "Assessment of Foster Carers", "Part 1: Approval", "approval/assessment.html"),
        ("1.2", "Fostering Panel", "Part 1: Approval", "approval/panel.html"),
        ("1.2.1", "Panel Membership", "Part 1: Approval", "approval/panel-membership.html"),
        ("2.1", "Matching", "Part 2: Placements", "placements/matching.html"),
        ("2.2", "Delegated Authority", "Part 2: Placements", "placements/delegated-authority.html"),
    ]
    assert [(s.title, s.reason.split(" (")[0]) for s in contents.skipped] == [
        ("National Minimum Standards", "on another site")
    ]


# -- cards with tool bars -----------------------------------------------------------------
def test_cards_with_tool_bars() -> None:
    base = "https://www.example-trust.nhs.uk/policies/"
    contents = read("discover_cards.html", base)
    p = "https://www.example-trust.nhs.uk/policies/"
    assert [(c.title, c.url, c.part) for c in contents.chapters] == [
        ("Infection Prevention and Control", f"{p}infection-control/", None),
        ("Consent to Examination or Treatment", f"{p}consent/", None),
        ("Cookies", f"{p}cookies/", None),  # a card of the listing, in the policies' folder
        ("Information Governance", f"{p}information-governance/", None),
    ]
    # "Related documents" sits in the page's tool bar (Share, Print): not a chapter; the
    # cards' own Print / Share on Facebook / Email links are tools; the footer is furniture
    assert contents.skipped == ()


# -- the contents page itself, routing CMSs, render-varying links ---------------------------
def test_a_link_to_the_contents_page_itself_is_never_a_chapter() -> None:
    assert is_contents_page(f"{P}contents.html?share=abc", POLICIES)
    assert is_contents_page(f"{P}contents.html?tab=2&x=1", POLICIES)
    assert is_contents_page(f"{P}contents.html", POLICIES)
    assert not is_contents_page(f"{P}contents.html?id=42", POLICIES)  # a CMS route
    assert not is_contents_page(f"{P}other.html?share=abc", POLICIES)
    routed = "https://docs.example.net/index.php?page=contents"
    assert is_contents_page(f"{routed}&share=aZ3kP9qR2xL7mN4vB8", routed)
    assert not is_contents_page("https://docs.example.net/index.php?page=recording", routed)
    html = (
        "<html><body><h1>Docs</h1><ul>"
        '<li><a href="index.php?page=safeguarding&amp;sid=0a1b2c3d4e5f6a7b">Safeguarding</a></li>'
        '<li><a href="index.php?page=recording">Recording</a></li>'
        '<li><a href="index.php?page=contents&amp;utm_source=x">All chapters</a></li>'
        "</ul></body></html>"
    )
    contents = parse_contents(html, routed)
    assert [c.url.rsplit("=", 1)[1] for c in contents.chapters] == ["safeguarding", "recording"]
    assert reasons(contents) == {"All chapters": "the contents page itself"}


def test_a_random_value_that_chooses_the_page_is_kept() -> None:
    html = (
        "<html><body><h1>Docs</h1><ul>"
        '<li><a href="view?k=Xk3pQ9xR2mL7vN4bT6">Alpha</a></li>'
        '<li><a href="view?k=Bq7rT2yU8iO3pA6sD1">Beta</a></li>'
        '<li><a href="gamma.html?x=Bq7rT2yU8iO3pA6sD1">Gamma</a></li>'
        "</ul></body></html>"
    )
    contents = parse_contents(html, "https://x.example/contents")
    assert [c.url for c in contents.chapters] == [
        "https://x.example/view?k=Xk3pQ9xR2mL7vN4bT6",  # two titles: the value routes
        "https://x.example/view?k=Bq7rT2yU8iO3pA6sD1",
        "https://x.example/gamma.html",  # one title: the value is a token
    ]


def test_a_manual_of_site_page_names_only() -> None:
    html = (
        "<html><body><h1>Policies</h1><ul>"
        '<li><a href="/p/privacy.html">Privacy</a></li><li><a href="/p/cookies.html">Cookies</a>'
        '</li><li><a href="/p/terms.html">Terms</a></li></ul>'
        '<div class="foot"><a href="/contact.html">Contact</a></div></body></html>'
    )
    contents = parse_contents(html, "https://x.example/p/contents.html")
    assert [c.title for c in contents.chapters] == ["Privacy", "Cookies", "Terms"]
    assert contents.skipped == ()


def test_chapters_listed_in_a_nav_are_read_when_nothing_else_lists_any() -> None:
    html = (
        "<html><body><header><nav><a href='/'>Home</a></nav></header><main><h1>Manual</h1>"
        "<nav aria-label='Chapters'><ol><li><a href='ch/a.html'>1. Scope</a></li>"
        "<li><a href='ch/b.html'>2. Duties</a></li></ol></nav></main></body></html>"
    )
    contents = parse_contents(html, "https://x.example/m/contents.html")
    assert [c.title for c in contents.chapters] == ["Scope", "Duties"]


def test_nothing_listed_reports_why() -> None:
    html = (
        "<html><body><h1>Manual</h1><ul>"
        '<li><a href="https://docs.example.com/a.html">Scope</a></li>'
        '<li><a href="https://docs.example.com/b.html">Duties</a></li></ul></body></html>'
    )
    contents = parse_contents(html, "https://www.example.com/manual/")
    assert contents.chapters == ()
    assert {s.reason.split(" (")[0] for s in contents.skipped} == {"on another site"}
    allowed = parse_contents(html, "https://www.example.com/manual/", hosts=["docs.example.com"])
    assert [c.title for c in allowed.chapters] == ["Scope", "Duties"]


def test_a_link_changing_between_two_readings_is_not_a_chapter() -> None:
    def page(token: str) -> str:
        return (
            "<html><body><h1>Manual</h1><ul><li><a href='a.html'>Scope</a></li>"
            f"<li><a href='b.html'>Duties</a></li><li><a href='/print/{token}'>Printable edition"
            "</a></li></ul></body></html>"
        )

    base = "https://x.example/m/contents.html"
    first, second = parse_contents(page("k1"), base), parse_contents(page("k2"), base)
    assert len(first.chapters) == 3  # one reading cannot tell
    confirmed = confirm_stable(first, second, known=())
    assert [c.title for c in confirmed.chapters] == ["Scope", "Duties"]
    assert confirmed.skipped[-1] == Skipped(
        "https://x.example/print/k1",
        "Printable edition",
        "the link changed between two readings of the contents page",
    )
    # a chapter already watched is never dropped by a second reading
    kept = confirm_stable(first, second, known=("https://x.example/print/k1",))
    assert len(kept.chapters) == 3


def test_stored_decorated_urls_are_kept() -> None:
    contents = Contents(
        "https://x.example/contents",
        "Manual",
        (ChapterRef("https://x.example/a", "A"), ChapterRef("https://x.example/b", "B")),
    )
    kept = keep_known_urls(contents, ["https://x.example/a?ref=contents"])
    assert [c.url for c in kept.chapters] == [
        "https://x.example/a?ref=contents",
        "https://x.example/b",
    ]


def test_chapter_url_for_sitemaps_is_canonical() -> None:
    base = "https://example.org/manual/contents.html"
    assert chapter_url("ch1.html?utm_source=x#s2", base) == "https://example.org/manual/ch1.html"
    assert chapter_url("contents.html?share=abc", base) is None
    assert chapter_url("/privacy.html", base) is None  # a sitemap has no structure to tell


def test_a_group_holding_only_a_site_page_name_is_still_a_group_of_chapters() -> None:
    groups = [
        ("LinkedIn", [("linkedin-privacy-policy", "Privacy Policy"), ("linkedin-terms", "Terms")]),
        ("LINE", [("line-privacy-policy", "Privacy Policy")]),
        ("BeReal", [("bereal-privacy-policy", "Privacy Policy")]),
    ]
    lists = "".join(
        f'<h2>{name}</h2><ul class="chapter-list">'
        + "".join(f'<li><a href="chapters/{slug}.html">{title}</a></li>' for slug, title in items)
        + "</ul>"
        for name, items in groups
    )
    html = (
        f'<html><body><main><h1>Contents</h1><div class="contents">{lists}</div>'
        '<ul class="site-links"><li><a href="/privacy.html">Privacy</a></li></ul></main>'
        "</body></html>"
    )
    contents = parse_contents(html, "https://x.example/a/contents.html")
    assert [(c.part, c.url.rsplit("/", 1)[1]) for c in contents.chapters] == [
        ("LinkedIn", "linkedin-privacy-policy.html"),
        ("LinkedIn", "linkedin-terms.html"),
        ("LINE", "line-privacy-policy.html"),
        ("BeReal", "bereal-privacy-policy.html"),
    ]
    assert contents.skipped == ()  # the site's own Privacy link is in another kind of list


def test_a_site_menu_before_the_main_heading_is_not_the_chapter_list() -> None:
    html = (
        '<html><body><div id="header"><a href="/b/">Online Procedures</a><ul class="menu">'
        '<li><a href="/b/">Home</a></li><li><a href="/b/procedures/">Procedures</a></li>'
        '<li><a href="/b/about.html">About</a></li></ul></div><div id="content">'
        "<h1>Procedures</h1><table><tr><td>Acme</td>"
        '<td><a href="/b/procedures/acme-terms/">Terms of Service</a></td></tr><tr><td>Acme</td>'
        '<td><a href="/b/procedures/acme-privacy/">Privacy Policy</a></td></tr></table></div>'
        "</body></html>"
    )
    contents = parse_contents(html, "https://x.example/b/procedures/")
    assert [c.title for c in contents.chapters] == ["Terms of Service", "Privacy Policy"]
    assert contents.skipped == ()


def test_a_cookie_notice_is_furniture_but_a_short_list_with_a_button_is_not() -> None:
    notice = (
        '<div class="notice"><p>We use cookies to improve this site. <a href="/cookies.html">'
        "Cookie settings</a></p><button>Accept</button></div>"
    )
    toc = (
        '<div class="toc"><button>Expand all</button><ul><li><a href="p/cookies.html">Cookies'
        '</a></li><li><a href="p/privacy.html">Privacy Policy</a></li></ul></div>'
    )
    html = f"<html><body>{notice}<main><h1>Policies</h1>{toc}</main></body></html>"
    contents = parse_contents(html, "https://x.example/contents.html")
    assert [c.title for c in contents.chapters] == ["Cookies", "Privacy Policy"]
    assert contents.skipped == ()


def test_another_port_is_another_site_unless_allowed() -> None:
    html = (
        "<html><body><h1>Manual</h1><ul><li><a href='/m/a.html'>Scope</a></li>"
        "<li><a href='http://127.0.0.1:9999/m/b.html'>Duties</a></li></ul></body></html>"
    )
    base = "http://127.0.0.1:8080/m/contents.html"
    contents = parse_contents(html, base)
    assert [c.title for c in contents.chapters] == ["Scope"]
    assert reasons(contents) == {
        "Duties": "on another site (127.0.0.1:9999; see manual add --allow-host)"
    }
    allowed = parse_contents(html, base, hosts=["127.0.0.1:9999"])
    assert [c.title for c in allowed.chapters] == ["Scope", "Duties"]
