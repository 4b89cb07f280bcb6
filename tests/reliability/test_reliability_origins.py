"""An origin is scheme + host + port (issue 19), and credentials never travel in URLs.

Through the real fetch path (loopback HTTP, the pipeline, the command line): a redirect to
another port or scheme of the same host is refused and the other service never hears of it,
unless ``--allow-host host:port`` allows it; a contents link to another port is not
followed; ``user:password@`` is refused at ``manual add`` and in the TOML config without
being printed or stored, and a redirect carrying them is refused with them stripped from the
record. Last, the fetch layer's modules import each other one way only.
"""

from __future__ import annotations

import ast
import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from amendwatch.api import Amendwatch
from amendwatch.cli import cli
from amendwatch.config import Settings, parse_schedule_config
from amendwatch.errors import ConfigError
from scraper.fetch import FetchPolicy
from scraper.guard import allow_entry, guard_url, host_allowed, policy_for_site
from tests.reliability.faultsite import Fault, chapter_path, contents_html
from tests.reliability.hostilesite import HostileSite, OtherOrigin

T1 = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]
FAULTY = chapter_path(3)
POLICY = FetchPolicy(retries=0, read_timeout=5.0)
SECRET = "s3cret-pw"


@pytest.fixture(scope="module")
def sites() -> Iterator[tuple[HostileSite, OtherOrigin]]:
    with HostileSite() as site, OtherOrigin() as other:
        site.other_url = other.base_url
        yield site, other


@pytest.fixture
def site(sites: tuple[HostileSite, OtherOrigin]) -> Iterator[HostileSite]:
    sites[0].faults.clear()
    sites[0].overrides.clear()
    sites[1].hits.clear()
    yield sites[0]
    sites[0].faults.clear()
    sites[0].overrides.clear()


@pytest.fixture
def other(sites: tuple[HostileSite, OtherOrigin]) -> OtherOrigin:
    return sites[1]


def snapshot(site: HostileSite, tmp_path: Path, *allowed: str) -> list[tuple[object, ...]]:
    """A first snapshot; the faulty chapter's observations (outcome, reason, headers)."""
    db = tmp_path / "aw.db"
    app = Amendwatch.open(Settings(db_path=db, fetch=POLICY), clock=lambda: T1)
    app.add_manual("m", f"{site.base_url}/", allowed_hosts=allowed)
    app.snapshot(at=T1)
    app.close()
    with sqlite3.connect(db) as connection:
        return connection.execute(
            "SELECT outcome, reason, headers, url, final_url FROM observations"
            " WHERE role = 'chapter' AND url LIKE ?",
            (f"%{FAULTY}",),
        ).fetchall()


def test_a_redirect_to_another_port_is_refused_and_never_reached(
    site: HostileSite, other: OtherOrigin, tmp_path: Path
) -> None:
    site.faults[FAULTY] = Fault("other-port")
    ((outcome, reason, *_),) = snapshot(site, tmp_path)
    assert outcome == "failed"
    assert f"another host or port (127.0.0.1:{other.server.server_address[1]})" in str(reason)
    assert sum(other.hits.values()) == 0


def test_an_allowed_port_is_followed(site: HostileSite, other: OtherOrigin, tmp_path: Path) -> None:
    site.faults[FAULTY] = Fault("other-port")
    port = other.server.server_address[1]
    ((_, reason, *_),) = snapshot(site, tmp_path, f"127.0.0.1:{port}")
    assert "refused" not in str(reason)
    assert other.hits[FAULTY] == 1


def test_a_redirect_to_another_scheme_on_the_same_port_is_refused(
    site: HostileSite, tmp_path: Path
) -> None:
    site.faults[FAULTY] = Fault("other-scheme")
    ((outcome, reason, *_),) = snapshot(site, tmp_path)
    assert outcome == "failed" and "another host or port" in str(reason)


def test_a_contents_link_to_another_port_is_never_fetched(
    site: HostileSite, other: OtherOrigin, tmp_path: Path
) -> None:
    elsewhere = f'<li><a href="{other.base_url}/chapters/c9.html">1.9 Elsewhere</a></li>'
    site.overrides["/"] = contents_html().replace("</ul>", f"{elsewhere}</ul>")
    snapshot(site, tmp_path)
    assert sum(other.hits.values()) == 0


def test_a_redirect_with_credentials_is_refused_and_they_are_not_kept(
    site: HostileSite, tmp_path: Path
) -> None:
    site.faults[FAULTY] = Fault("credentials-redirect")
    ((outcome, reason, headers, url, final_url),) = snapshot(site, tmp_path)
    assert outcome == "failed" and "credentials" in str(reason)
    assert SECRET not in f"{reason}{headers}{url}{final_url}"
    assert f"127.0.0.1:{site.port}{FAULTY}?x" in str(headers)  # the chain, without them


# -- the guard's rules ---------------------------------------------------------------------


def test_origins_are_scheme_host_and_port() -> None:
    bound = policy_for_site(FetchPolicy(), "http://127.0.0.1:8080/contents")
    assert bound.site_origin == "http://127.0.0.1:8080"
    assert guard_url("http://127.0.0.1:8080/c1.html", bound) is None
    assert "not the manual's own host" in (guard_url("http://127.0.0.1:8081/", bound) or "")
    assert guard_url("https://127.0.0.1:8080/", bound) is not None  # another scheme
    allowed = replace(bound, allowed_hosts=("127.0.0.1:8081",))
    assert guard_url("http://127.0.0.1:8081/x", allowed) is None
    assert guard_url("http://127.0.0.1:8082/x", allowed) is not None


def test_http_may_upgrade_to_https_on_the_default_ports_only() -> None:
    public = FetchPolicy()
    assert host_allowed("http://m.example/a", "https://m.example/a", public)
    assert not host_allowed("https://m.example/a", "http://m.example/a", public)  # downgrade
    assert not host_allowed("http://m.example/a", "http://m.example:8080/a", public)
    assert not host_allowed("http://m.example:81/a", "https://m.example:81/a", public)
    named = replace(public, allowed_hosts=("docs.example", "[::1]:8443"))
    assert host_allowed("http://m.example/", "https://docs.example/x", named)
    assert not host_allowed("http://m.example/", "https://docs.example:8443/x", named)
    assert host_allowed("http://m.example/", "https://[::1]:8443/x", named)
    assert allow_entry("https://docs.example:443/x") == "docs.example"
    assert allow_entry("http://[::1]:8443/") == "[::1]:8443"


# -- credentials in URLs ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        (f"https://reader:{SECRET}@manual.example/",),
        ("https://manual.example/", "--amendments-url", f"https://reader:{SECRET}@m.example/a"),
        (f"https://{SECRET}@manual.example/",),
    ],
)
def test_manual_add_refuses_credentials_without_printing_them(
    args: tuple[str, ...], tmp_path: Path
) -> None:
    db = tmp_path / "aw.db"
    result = CliRunner().invoke(cli, ["--db", str(db), "manual", "add", "m", *args])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "credentials" in lines[0] and "cookies" in lines[0]
    assert SECRET not in result.output and "Traceback" not in result.output
    assert "m\t" not in CliRunner().invoke(cli, ["--db", str(db), "manual", "list"]).output


def test_the_config_refuses_credentials_without_printing_them(tmp_path: Path) -> None:
    manual = {"name": "m", "contents_url": f"https://reader:{SECRET}@manual.example/"}
    with pytest.raises(ConfigError) as refused:
        parse_schedule_config({"manual": [manual]}, "amendwatch.toml")
    assert "credentials" in str(refused.value) and SECRET not in str(refused.value)
    config = tmp_path / "amendwatch.toml"
    config.write_text(
        f'[[manual]]\nname = "m"\ncontents_url = "{manual["contents_url"]}"\n', encoding="utf-8"
    )
    db = tmp_path / "aw.db"
    result = CliRunner().invoke(cli, ["--db", str(db), "schedule", "list", "--config", str(config)])
    assert result.exit_code == 1 and "credentials" in result.output
    assert SECRET not in result.output and not db.exists()


def test_allow_host_takes_a_port(tmp_path: Path) -> None:
    db = tmp_path / "aw.db"
    base = ["--db", str(db), "manual", "add"]
    ok = CliRunner().invoke(
        cli, [*base, "m", "http://127.0.0.1:8080/", "--allow-host", "127.0.0.1:8081", "--no-check"]
    )
    assert ok.exit_code == 0, ok.output
    assert (
        "allow host: 127.0.0.1:8081"
        in CliRunner().invoke(cli, ["--db", str(db), "manual", "list"]).output
    )
    bad = CliRunner().invoke(cli, [*base, "n", "http://127.0.0.1:8080/", "--allow-host", "h:99999"])
    assert bad.exit_code == 1 and "not a valid host" in bad.output


# -- imports run one way -----------------------------------------------------------------------

LAYERS = ["policy", "codings", "guard", "responses", "fetch", "session", "fetchproc"]


def scraper_imports(module: str) -> set[str]:
    """The fetch-layer modules ``scraper/<module>.py`` imports (TYPE_CHECKING ones too)."""
    tree = ast.parse((ROOT / "scraper" / f"{module}.py").read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("scraper."):
            found.add((node.module or "").split(".", 1)[1])
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".", 1)[1] for a in node.names if a.name.startswith("scraper.")}
    return found & set(LAYERS)


def test_the_fetch_layer_imports_one_way() -> None:
    """policy <- codings, guard <- responses <- fetch <- session <- fetchproc: each module
    imports only modules below it, so there is no circle."""
    for index, module in enumerate(LAYERS):
        above = set(LAYERS[index:])
        assert not scraper_imports(module) & above, (module, scraper_imports(module) & above)
