"""Configuration values (issue 19, point 7): every value of ``amendwatch.toml`` is checked for
its type and range, so a negative interval cannot spin the scheduler and ``starttls = "false"``
cannot read as true. Each bad value is one ``Error:`` line with a hint, through the command
line; good values, including the TLS modes of ``[email]``, parse as documented."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from amendwatch.cli import cli
from amendwatch.config import EmailConfig, parse_schedule_config
from amendwatch.errors import ConfigError

EMAIL = '[email]\nhost = "mail.example.org"\nfrom = "a@example.org"\nto = "b@example.org"\n'


@pytest.mark.parametrize(
    ("toml", "needle"),
    [
        ("[schedule]\ninterval_seconds = -1\n", "interval_seconds must be a number of seconds"),
        ("[schedule]\ninterval_seconds = 0\n", "interval_seconds must be a number of seconds"),
        ("[schedule]\ninterval_seconds = 0.01\n", "at least 1 second"),
        ('[schedule]\ninterval_seconds = "60"\n', "interval_seconds must be a number"),
        ("[schedule]\nreport_interval_seconds = -5\n", "report_interval_seconds"),
        ('[schedule]\nmisfire_grace_seconds = "an hour"\n', "misfire_grace_seconds"),
        ("[schedule]\nmisfire_grace_seconds = inf\n", "misfire_grace_seconds"),
        ("[schedule]\nlock_wait_seconds = -1\n", "lock_wait_seconds"),
        ("[schedule]\nsnapshot = 2\n", "snapshot must be a string"),
        ("[schedule]\nreport_dir = true\n", "report_dir must be a string"),
        (EMAIL + 'starttls = "false"\n', "starttls must be true or false (a TOML boolean)"),
        (EMAIL + 'ssl = "yes"\n', "ssl must be true or false"),
        (EMAIL + 'tls = "sometimes"\n', "tls must be one of starttls, implicit, none"),
        (EMAIL + "ssl = true\nstarttls = true\n", "both ssl = true and starttls = true"),
        (EMAIL + 'tls = "implicit"\nstarttls = false\n', "contradicts"),
        (EMAIL + 'port = "25"\n', "port must be a port number"),
        (EMAIL + "port = 70000\n", "port must be a port number"),
        (EMAIL + "timeout = 0\n", "timeout must be a number of seconds"),
        ('[output]\nfile_mode = "rw-r--r--"\n', "file_mode must be an octal permission"),
        ("[output]\nfile_mode = 644\n", "file_mode must be an octal permission"),
    ],
)
def test_a_bad_value_is_one_line_with_a_hint(tmp_path: Path, toml: str, needle: str) -> None:
    config = tmp_path / "amendwatch.toml"
    config.write_text(toml)
    db = tmp_path / "aw.db"
    result = CliRunner().invoke(cli, ["--db", str(db), "schedule", "list", "--config", str(config)])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    (line,) = result.output.splitlines()
    assert line.startswith("Error: ") and needle in line and "(" in line, line
    assert not db.exists()  # refused before the database is opened


def email_of(extra: str) -> EmailConfig:
    import tomllib  # noqa: PLC0415

    email = parse_schedule_config(tomllib.loads(EMAIL + extra)).email
    assert email is not None
    return email


def test_starttls_is_on_by_default_and_implicit_tls_is_an_option() -> None:
    assert email_of("").tls == "starttls" and email_of("").port == 25
    assert email_of('tls = "implicit"\n').port == 465  # implicit TLS: port 465 by default
    assert email_of("ssl = true\n").tls == "implicit"
    assert email_of("starttls = true\n").tls == "starttls"
    assert email_of("starttls = false\n").tls == "none"  # only when asked for, as a boolean
    assert email_of('tls = "none"\nport = 2525\n').port == 2525
    assert email_of('ca_file = "/etc/ssl/private-ca.pem"\n').ca_file == Path(
        "/etc/ssl/private-ca.pem"
    )


def test_good_schedule_values_still_parse() -> None:
    config = parse_schedule_config(
        {
            "schedule": {
                "interval_seconds": 1,
                "misfire_grace_seconds": 0.4,
                "lock_wait_seconds": 0,
            },
            "output": {"file_mode": 0o640},
        }
    )
    assert config.interval_seconds == 1.0 and config.misfire_grace_seconds == 1
    assert config.lock_wait_seconds == 0.0 and config.file_mode == 0o640
    with pytest.raises(ConfigError, match="boolean"):
        parse_schedule_config({"email": {"host": "h", "from": "a", "to": "b", "starttls": 0}})
