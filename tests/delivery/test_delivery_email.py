"""The weekly digest by email, received and parsed by a real SMTP server on 127.0.0.1."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from amendwatch import delivery
from amendwatch.api import Amendwatch
from amendwatch.config import EmailConfig, parse_schedule_config
from amendwatch.errors import ConfigError
from tests.delivery.conftest import WEEK_OF_CHANGES, Smtp, TlsFiles

NOW = datetime(2026, 11, 16, 7, 0, tzinfo=UTC)


def config_for(port: int, **extra: object) -> EmailConfig:
    raw = {
        "email": {
            "host": "127.0.0.1",
            "port": port,
            "from": "amendwatch@example.org",
            "to": ["compliance@example.org", "editor@example.org"],
            **extra,
        }
    }
    email = parse_schedule_config(raw).email
    assert email is not None
    return email


def test_weekly_email_has_html_text_and_json_attachment(app: Amendwatch, smtp: Smtp) -> None:
    report = delivery.weekly_report(app, WEEK_OF_CHANGES)
    email = config_for(smtp.port)
    delivery.send_email(delivery.build_message(report, email, NOW), email, None)

    (message,) = smtp.inbox.messages
    assert smtp.inbox.envelopes == [
        ("amendwatch@example.org", ["compliance@example.org", "editor@example.org"])
    ]
    assert message["Subject"] == f"amendwatch weekly report: {WEEK_OF_CHANGES}"
    assert message.get_content_type() == "multipart/mixed"
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    assert "Domestic Abuse" in text.get_content()
    assert html.get_content().lstrip().lower().startswith("<!doctype html")
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_filename() == f"amendwatch-{WEEK_OF_CHANGES}.json"
    digest = json.loads(attachment.get_content())
    assert digest == json.loads(report.json)
    assert digest["changes"], "the week of edition 2 has changes"


def test_login_uses_the_password_from_settings(app: Amendwatch, smtp_auth: Smtp) -> None:
    report = delivery.weekly_report(app, WEEK_OF_CHANGES)
    email = config_for(smtp_auth.port, username="digest", tls="none")  # a loopback relay
    delivery.send_email(delivery.build_message(report, email, NOW), email, "s3cret-pw")
    assert smtp_auth.inbox.logins == ["digest"]
    assert len(smtp_auth.inbox.messages) == 1


def test_wrong_password_is_a_one_line_error_without_the_password(
    app: Amendwatch, smtp_auth: Smtp
) -> None:
    report = delivery.weekly_report(app, WEEK_OF_CHANGES)
    email = config_for(smtp_auth.port, username="digest", tls="none")
    with pytest.raises(ConfigError) as caught:
        delivery.send_email(delivery.build_message(report, email, NOW), email, "wrong-pw")
    assert "refused the login" in str(caught.value)
    assert "wrong-pw" not in str(caught.value) and "\n" not in str(caught.value)
    assert smtp_auth.inbox.messages == []


def test_username_without_password_says_which_variable(app: Amendwatch, smtp: Smtp) -> None:
    email = config_for(smtp.port, username="digest")
    message = delivery.build_message(delivery.weekly_report(app, WEEK_OF_CHANGES), email, NOW)
    with pytest.raises(ConfigError, match="AMENDWATCH_SMTP_PASSWORD"):
        delivery.send_email(message, email, None)


def test_unreachable_server_is_a_config_error(app: Amendwatch) -> None:
    from tests.delivery.conftest import free_port  # noqa: PLC0415

    email = config_for(free_port())
    message = delivery.build_message(delivery.weekly_report(app, WEEK_OF_CHANGES), email, NOW)
    with pytest.raises(ConfigError, match="could not send"):
        delivery.send_email(message, email, None)


def test_password_in_the_config_file_is_refused() -> None:
    with pytest.raises(ConfigError, match="must not hold the password"):
        parse_schedule_config({"email": {"host": "h", "from": "a@b", "to": "c@d", "password": "x"}})


def test_email_config_defaults_and_single_recipient() -> None:
    email = parse_schedule_config({"email": {"host": "h", "from": "a@b", "to": "c@d"}}).email
    assert email == EmailConfig(host="h", to=("c@d",), sender="a@b")
    with pytest.raises(ConfigError, match="needs host, from and to"):
        parse_schedule_config({"email": {"host": "h"}})


# TLS (issue 19): STARTTLS by default, implicit TLS as an option, no password in cleartext
def test_the_default_negotiates_starttls_before_the_login(
    app: Amendwatch, smtp_starttls: Smtp, tls_files: TlsFiles
) -> None:
    email = config_for(smtp_starttls.port, username="digest", ca_file=str(tls_files.cert))
    assert email.tls == "starttls"
    message = delivery.build_message(delivery.weekly_report(app, WEEK_OF_CHANGES), email, NOW)
    delivery.send_email(message, email, "s3cret-pw")
    assert smtp_starttls.inbox.logins == ["digest"]
    assert smtp_starttls.inbox.secure == [True]


def test_starttls_verifies_the_server_certificate(app: Amendwatch, smtp_starttls: Smtp) -> None:
    email = config_for(smtp_starttls.port, username="digest")  # the system CAs: self-signed fails
    message = delivery.build_message(delivery.weekly_report(app, WEEK_OF_CHANGES), email, NOW)
    with pytest.raises(ConfigError, match="could not send"):
        delivery.send_email(message, email, "s3cret-pw")
    assert smtp_starttls.inbox.attempts == [] and smtp_starttls.inbox.messages == []


def test_no_starttls_offered_means_no_password_sent(app: Amendwatch, smtp_auth: Smtp) -> None:
    email = config_for(smtp_auth.port, username="digest")  # the default: starttls
    message = delivery.build_message(delivery.weekly_report(app, WEEK_OF_CHANGES), email, NOW)
    with pytest.raises(ConfigError) as caught:
        delivery.send_email(message, email, "s3cret-pw")
    text = str(caught.value)
    assert "does not offer STARTTLS" in text and "not sent in cleartext" in text
    assert 'tls = "implicit"' in text and "s3cret-pw" not in text and "\n" not in text
    assert smtp_auth.inbox.attempts == [] and smtp_auth.inbox.messages == []


def test_implicit_tls_on_its_own_port(
    app: Amendwatch, smtp_implicit: Smtp, tls_files: TlsFiles
) -> None:
    email = config_for(
        smtp_implicit.port, username="digest", tls="implicit", ca_file=str(tls_files.cert)
    )
    message = delivery.build_message(delivery.weekly_report(app, WEEK_OF_CHANGES), email, NOW)
    delivery.send_email(message, email, "s3cret-pw")
    assert smtp_implicit.inbox.logins == ["digest"] and smtp_implicit.inbox.secure == [True]


def test_cleartext_login_only_to_a_loopback_relay(app: Amendwatch) -> None:
    class Unreachable:
        def __init__(self, *args: object, **kwargs: object) -> None:
            self.calls: list[str] = []

        def __enter__(self) -> Unreachable:
            return self

        def __exit__(self, *args: object) -> None:
            return None

        def __getattr__(self, name: str) -> object:
            raise AssertionError(f"nothing may be sent, not even {name}")

    email = EmailConfig(
        host="mail.example.org", to=("c@example.org",), sender="a@example.org",
        tls="none", username="digest",
    )  # fmt: skip
    message = delivery.build_message(delivery.weekly_report(app, WEEK_OF_CHANGES), email, NOW)
    with pytest.raises(ConfigError, match="refusing to send the SMTP password"):
        delivery.send_email(message, email, "s3cret-pw", smtp=Unreachable)  # type: ignore[arg-type]
