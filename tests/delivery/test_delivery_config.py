"""The typed, strict configuration (issue 17, part 3): an unknown key or a wrong type is one
line naming the file and the line (with the closest valid key); every ``[[manual]]`` option
reaches the database through ``ensure_manuals``; cookies come from sources, never literals;
the proxy comes from ``[fetch]`` or the environment; ``config check`` prints the effective
settings with secrets masked; the shipped example loads, and it and docs/configuration.md name
every key the schema has."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from amendwatch.api import Amendwatch
from amendwatch.cli import cli
from amendwatch.config import (
    ScheduleConfig,
    Settings,
    cookie_values,
    fetch_settings,
    load_schedule_config,
    load_settings,
    parse_schedule_config,
)
from amendwatch.configschema import LEGACY, TABLES, table_keys
from amendwatch.errors import ConfigError
from amendwatch.scheduler import ensure_manuals
from amendwatch.tomllines import key_lines

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "amendwatch.example.toml"
MANUAL = '[[manual]]\nname = "{name}"\ncontents_url = "https://example.org/{name}/"\n'


def check(tmp_path: Path, text: str, *env: tuple[str, str]) -> Result:
    config = tmp_path / "amendwatch.toml"
    config.write_text(text, encoding="utf-8")
    db = tmp_path / "aw.db"
    result = CliRunner().invoke(
        cli, ["--db", str(db), "config", "check", str(config)], env=dict(env)
    )
    assert not db.exists()  # checking never creates the database
    return result


def error_line(result: Result) -> str:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    (line,) = result.output.splitlines()
    assert line.startswith("Error: ") and "(" in line, line  # one line, with a hint
    return line


# unknown keys and wrong types: file:line ---------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "line", "suggestion"),
    [
        ('manuals = []\n[schedule]\ntimezone = "UTC"\n', 1, "did you mean `manual`?"),
        ('[schedule]\ntimezone = "UTC"\nsnaphsot = "0 2 * * *"\n', 3, "did you mean `snapshot`?"),
        (
            MANUAL.format(name="a") + "\n" + MANUAL.format(name="b") + 'ignor = ["div"]\n',
            8,
            "unknown key `ignor` in [[manual]] #2; did you mean `ignore`?",
        ),
        ("# c\n\nfetch.dedline_seconds = 5\n", 3, "in [fetch]; did you mean `deadline_seconds`"),
        ('[email]\nhost = "h"\nfrom = "a@b"\nto = "c@d"\ntimout = 5\n', 5, "`timeout`"),
        ('schedule = { timezone = "UTC", pagse = "0 * * * *" }\n', 1, "`pages`"),  # inline
    ],
)
def test_an_unknown_key_names_the_file_the_line_and_the_closest_key(
    tmp_path: Path, text: str, line: int, suggestion: str
) -> None:
    found = error_line(check(tmp_path, text))
    assert f"amendwatch.toml:{line}: unknown key" in found and suggestion in found, found


def test_a_key_with_no_close_match_lists_the_valid_ones(tmp_path: Path) -> None:
    found = error_line(check(tmp_path, "[schedule]\nzzz = 1\n"))
    assert "did you mean" not in found and "valid keys there: timezone, snapshot" in found


@pytest.mark.parametrize(
    ("text", "line", "needle"),
    [
        (
            '[schedule]\nmisfire_grace_seconds = "an hour"\n',
            2,
            "[schedule] misfire_grace_seconds must be a number of seconds above 0, not 'an hour'"
            " (e.g. misfire_grace_seconds = 3600)",
        ),
        ("[fetch]\n\n\ndeadline_seconds = true\n", 4, "deadline_seconds must be a number"),
        (MANUAL.format(name="a") + 'ignore = "div.ads"\n', 4, "ignore must be a list of"),
        (MANUAL.format(name="a") + "display_name = 7\n", 4, "display_name must be a string"),
        ('[notify]\nurls = ["a://b"]\nfailure_runs = 0\n', 3, "failure_runs must be a whole"),
        ('[email]\nport = "25"\n', 2, "[email] port must be a port number"),
        ("[[manual]]\nname = 'x'\n", 1, "[[manual]] #1 needs name and contents_url"),
        ("[schedule]\nsnapshot = '0 2 * *'\n", 2, "snapshot is not a valid schedule"),
        ("[schedule]\ntimezone = 'Mars/Olympus'\n", 2, "unknown time zone"),
    ],
)
def test_a_wrong_value_is_one_line_with_file_and_line(
    tmp_path: Path, text: str, line: int, needle: str
) -> None:
    found = error_line(check(tmp_path, text))
    assert f"amendwatch.toml:{line}: " in found and needle in found, found


def test_errors_of_the_manual_checks_point_at_their_key(tmp_path: Path) -> None:
    base = MANUAL.format(name="a") + "\n" + MANUAL.format(name="b")
    cases = {
        'ignore_text = ["ok", "(unclosed"]\n': ("8", "ignore_text item 2: invalid pattern"),
        'allow_host = ["bad host"]\n': ("8", "not a valid host name"),
        'content_selector = "div[["\n': ("8", "invalid CSS selector"),
        'sitemap_url = "https://other.example/sitemap.xml"\n': ("8", "not on the contents"),
        'headers = { Host = "x" }\n': ("8", "headers.Host: the Host header cannot be set"),
        'amendments_url = "ftp://example.org/"\n': ("8", "not an http(s) URL"),
    }
    for extra, (line, needle) in cases.items():
        found = error_line(check(tmp_path, base + extra))
        assert f"amendwatch.toml:{line}: [[manual]] #2" in found and needle in found, found
    found = error_line(check(tmp_path, base.replace('"b"', '"a"')))
    assert "amendwatch.toml:6:" in found and "used twice" in found


def test_cookies_are_sources_never_literal_values(tmp_path: Path) -> None:
    text = MANUAL.format(name="a") + '[manual.cookies]\nconsent = "yes-SECRET-42"\n'
    found = error_line(check(tmp_path, text))
    assert "amendwatch.toml:5:" in found and "not a literal value" in found
    assert "environment variable or a file" in found and "SECRET" not in found
    good = MANUAL.format(name="a") + 'cookies = { a = "env:A_COOKIE", b = "file:/run/b" }\n'
    (manual,) = parse_schedule_config(tomllib.loads(good)).manuals
    assert manual.cookies == (("a", "env:A_COOKIE"), ("b", "file:/run/b"))


def test_without_the_text_errors_name_the_source_only() -> None:
    with pytest.raises(ConfigError, match=r"^config: unknown key `snaphsot` in \[schedule\]"):
        parse_schedule_config({"schedule": {"snaphsot": "0 2 * * *"}})


def test_key_lines_follow_tables_arrays_dotted_and_inline_keys() -> None:
    text = (
        'title = "a # b [c]"\n'  # 1
        's = """\n[fake]\nx = 1\n"""\n'  # 2-5: a multi-line string is not a table
        "[[manual]]\n"  # 6
        "name = 'a'\n"  # 7
        "[[manual]]\n"  # 8
        'ignore = [\n  "x", # c\n  "y",\n]\n'  # 9-12
        '"quoted.key" = { inner = 1, deep.er = [1, {z = 2}] }\n'  # 13
        "[manual.cookies]\n"  # 14
        'sid = "env:SID"\n'  # 15
    )
    tomllib.loads(text)  # valid TOML
    lines = key_lines(text)
    assert lines[("title",)] == 1 and ("fake",) not in lines and ("x",) not in lines
    assert lines[("manual", 0, "name")] == 7 and lines[("manual", 1)] == 8
    assert lines[("manual", 1, "ignore", 1)] == 11
    assert lines[("manual", 1, "quoted.key", "deep", "er", 1, "z")] == 13
    assert lines[("manual", 1, "cookies", "sid")] == 15


# every [[manual]] option reaches the database ----------------------------------------------------
FULL_MANUAL = """
[[manual]]
name = "northmoor"
contents_url = "http://127.0.0.1:9/manual/"
amendments_url = "http://127.0.0.1:9/amendments.html"
content_selector = "main article"
sitemap_url = "auto"
ignore = ["div.feedback"]
ignore_text = ["^Last reviewed"]
allow_host = ["Docs.Example.org"]
display_name = "Northmoor Procedures"
headers = { Accept-Language = "en-GB", "X-Team" = "compliance" }
cookies = { consent = "env:NORTHMOOR_CONSENT" }
user_agent = "ComplianceBot/1.0"
"""


def test_ensure_manuals_passes_every_option_and_applies_network_changes(tmp_path: Path) -> None:
    config = tmp_path / "amendwatch.toml"
    config.write_text(FULL_MANUAL, encoding="utf-8")
    app = Amendwatch.open(Settings(db_path=tmp_path / "aw.db"))
    try:
        ensure_manuals(app, load_schedule_config(config).manuals)
        (stored,) = app.manuals()
        assert (stored.name, stored.contents_url) == ("northmoor", "http://127.0.0.1:9/manual/")
        assert stored.amendments_url == "http://127.0.0.1:9/amendments.html"
        assert stored.content_selector == "main article" and stored.sitemap_url == "auto"
        assert stored.ignore_selectors == ("div.feedback",)
        assert stored.ignore_patterns == ("^Last reviewed",)
        assert stored.allowed_hosts == ("docs.example.org",)
        assert stored.display_name == "Northmoor Procedures"
        assert stored.headers == (("Accept-Language", "en-GB"), ("X-Team", "compliance"))
        assert stored.cookies == (("consent", "env:NORTHMOOR_CONSENT"),)
        assert stored.user_agent == "ComplianceBot/1.0"
        changed = (
            FULL_MANUAL.replace("Northmoor Procedures", "Northmoor CSC")
            .replace('"X-Team" = "compliance"', '"X-Team" = "audit"')
            .replace("env:NORTHMOOR_CONSENT", "file:/run/secrets/consent")
            .replace('user_agent = "ComplianceBot/1.0"\n', "")
            .replace("^Last reviewed", "^Reviewed")  # rules of a stored manual stay as stored
        )
        config.write_text(changed, encoding="utf-8")
        ensure_manuals(app, load_schedule_config(config).manuals)
        (after,) = app.manuals()
    finally:
        app.close()
    assert after.display_name == "Northmoor CSC" and after.user_agent is None
    assert after.headers == (("Accept-Language", "en-GB"), ("X-Team", "audit"))
    assert after.cookies == (("consent", "file:/run/secrets/consent"),)
    assert after.ignore_patterns == ("^Last reviewed",) and after.id == stored.id


# cookie values -----------------------------------------------------------------------------------
def test_cookie_values_come_from_the_environment_and_from_files(tmp_path: Path) -> None:
    secret = tmp_path / "sid"
    secret.write_text("s3ss10n\n", encoding="utf-8")
    cookies = (("consent", "env:CONSENT_COOKIE"), ("session", f"file:{secret}"))
    assert cookie_values(cookies, {"CONSENT_COOKIE": "yes"}) == (
        ("consent", "yes"),
        ("session", "s3ss10n"),  # the trailing newline dropped
    )


def test_cookie_values_errors_name_the_cookie_and_where_it_looked(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cookie consent: the environment variable CONSENT_X"):
        cookie_values((("consent", "env:CONSENT_X"),), {})
    missing = tmp_path / "nope"
    with pytest.raises(ConfigError, match=f"cookie sid: cannot read the file {missing}"):
        cookie_values((("sid", f"file:{missing}"),), {})
    two_lines = tmp_path / "two"
    two_lines.write_text("abc\ndef-SECRET\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not one line") as refused:
        cookie_values((("sid", f"file:{two_lines}"),), {})
    assert "SECRET" not in str(refused.value)


# User-Agent and proxy ----------------------------------------------------------------------------
def fetch_of(toml: str, env: dict[str, str] | None = None) -> Settings:
    settings = load_settings(str(Path("unused.db")), env or {})
    return fetch_settings(settings, parse_schedule_config(tomllib.loads(toml)))


def test_the_user_agent_from_contact_and_user_agent() -> None:
    default = Settings(db_path=Path("x.db")).fetch.user_agent
    assert fetch_of("").fetch.user_agent == default
    contact = 'contact = "mailto:ops@example.org"\n'
    assert re.fullmatch(
        r"amendwatch/\d+\.\d+\S* \(\+mailto:ops@example\.org\)",
        fetch_of("[fetch]\n" + contact).fetch.user_agent,
    )
    agent = 'user_agent = "Bot/2"\n'
    assert fetch_of("[fetch]\n" + agent).fetch.user_agent == "Bot/2"
    both = fetch_of("[fetch]\n" + agent + contact).fetch.user_agent
    assert both == "Bot/2 (+mailto:ops@example.org)"
    with pytest.raises(ConfigError, match="not an http"):
        fetch_of('[fetch]\ncontact = "ops at example"\n')


def test_the_proxy_comes_from_the_config_else_the_environment() -> None:
    env = {"https_proxy": "proxy.env:8080", "HTTP_PROXY": "http://other:1", "no_proxy": "a, .b"}
    from_env = fetch_of("", env).fetch
    assert from_env.proxy == "http://proxy.env:8080" and from_env.no_proxy == ("a", ".b")
    assert fetch_of("", {"HTTP_PROXY": "http://other:1"}).fetch.proxy == "http://other:1"
    assert fetch_of("", {}).fetch.proxy is None and fetch_of("", {}).fetch.no_proxy == ()
    toml = '[fetch]\nproxy = "https://proxy.conf:3128"\nno_proxy = ["intranet"]\n'
    from_config = fetch_of(toml, env).fetch
    assert from_config.proxy == "https://proxy.conf:3128" and from_config.no_proxy == ("intranet",)
    with pytest.raises(ConfigError, match="proxy must be an http"):
        fetch_of('[fetch]\nproxy = "socks5://p:1080"\n')
    with pytest.raises(ConfigError, match=r"\$HTTPS_PROXY is not an http") as refused:
        load_settings("x.db", {"HTTPS_PROXY": "socks5://user:PASSWORD@p:1080"})
    assert "PASSWORD" not in str(refused.value)


# [notify] and [timestamp] ------------------------------------------------------------------------
def test_notify_and_timestamp_sections(tmp_path: Path) -> None:
    pem = tmp_path / "tsa.pem"
    pem.write_text("-----BEGIN CERTIFICATE-----\n", encoding="utf-8")
    config = parse_schedule_config(
        tomllib.loads(
            '[notify]\nurls = ["tgram://t/c"]\nbase_url = "https://aw.example/"\n'
            f'[timestamp]\nurl = "https://tsa.example/"\nca_file = "{pem}"\ntimeout = 4\n'
        )
    )
    assert config.notify is not None and config.notify.urls == ("tgram://t/c",)
    assert config.notify.failure_runs == 3 and config.notify.base_url == "https://aw.example/"
    assert config.timestamp is not None and config.timestamp.ca_file == pem
    assert config.timestamp.timeout == 4.0
    assert ScheduleConfig().notify is None and parse_schedule_config({}).timestamp is None
    with pytest.raises(ConfigError, match=r"ca_file .* does not exist"):
        parse_schedule_config({"timestamp": {"url": "https://t/", "ca_file": str(pem) + "x"}})
    with pytest.raises(ConfigError, match="needs url"):
        parse_schedule_config({"timestamp": {"timeout": 3}})


# config check ------------------------------------------------------------------------------------
SECRETS = """
[fetch]
proxy = "http://squid:PROXYPASS@proxy.example:3128"
[notify]
urls = ["tgram://123456:BOTTOKEN/987", "mailtos://me:MAILPASS@smtp.example.org?to=a@b.org"]
""" + FULL_MANUAL.replace('"X-Team" = "compliance"', 'Authorization = "Bearer HEADERTOKEN"')


def test_config_check_prints_every_key_with_secrets_masked(tmp_path: Path) -> None:
    result = check(tmp_path, SECRETS, ("HTTPS_PROXY", "http://u:ENVPASS@envproxy:1"))
    assert result.exit_code == 0, result.output
    out = result.output
    for secret in ("PROXYPASS", "BOTTOKEN", "MAILPASS", "HEADERTOKEN", "ENVPASS"):
        assert secret not in out
    assert 'proxy = "http://squid:***@proxy.example:3128"' in out
    assert '"tgram://***/***"' in out and '"mailtos://***@smtp.example.org?***"' in out
    assert 'Accept-Language = "en-GB", Authorization = "***"' in out
    assert 'cookies = { consent = "env:NORTHMOOR_CONSENT" }' in out  # sources are shown
    assert "# interval_seconds: not set" in out and 'timezone = "Europe/London"' in out
    assert "# [email]: not set" in out and "# effective User-Agent: amendwatch/" in out
    shown = tomllib.loads(out)  # the output is TOML
    for section, table in TABLES.items():
        keys = shown[section][0] if section == "manual" else shown.get(section, {})
        documented = set(keys) | set(re.findall(r"^# (\w+): not set", out, re.M))
        if section in shown:
            assert set(table_keys(table)) - {k for s, k in LEGACY} <= documented, section


def test_config_check_output_reads_back_as_the_same_config(tmp_path: Path) -> None:
    result = check(tmp_path, EXAMPLE.read_text(encoding="utf-8"))
    assert result.exit_code == 0, result.output
    again = parse_schedule_config(tomllib.loads(result.output))
    original = load_schedule_config(EXAMPLE)
    assert original.notify is not None and again.notify is not None
    assert again.notify.urls != original.notify.urls  # masked: the rest is the same
    assert again == ScheduleConfig(**{**vars(original), "notify": again.notify})


def test_config_check_of_a_bad_or_missing_file_is_one_line(tmp_path: Path) -> None:
    found = error_line(check(tmp_path, "[schedule\n"))
    assert "not valid TOML" in found
    result = CliRunner().invoke(cli, ["config", "check", str(tmp_path / "none.toml")])
    assert "config file not found" in error_line(result)
    assert "docs/configuration.md" in result.output  # the hint points to the doc that exists


# the example and the docs name every key ---------------------------------------------------------
def test_the_example_loads_and_it_and_the_docs_show_every_key(tmp_path: Path) -> None:
    config = load_schedule_config(EXAMPLE)
    assert [m.name for m in config.manuals] == ["northmoor", "tri-x"]
    assert config.email is not None and config.notify is not None
    result = CliRunner().invoke(
        cli, ["--db", str(tmp_path / "aw.db"), "config", "check", str(EXAMPLE)]
    )
    assert result.exit_code == 0 and "amendwatch.example.toml: valid" in result.output
    example = EXAMPLE.read_text(encoding="utf-8")
    docs = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    for section, table in TABLES.items():
        header = "[[manual]]" if section == "manual" else f"[{section}]"
        assert f"## `{header}`" in docs and header in example
        for key in table_keys(table):
            assert f"`{key}`" in docs, (section, key)
            if (section, key) not in LEGACY:
                assert re.search(rf"^(# )?{key} = ", example, re.M), (section, key)
