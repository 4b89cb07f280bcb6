"""The weekly digest by email, received and parsed by a real SMTP server on 127.0.0.1."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from amendwatch import delivery
from amendwatch.api import Amendwatch
from amendwatch.config import EmailConfig, parse_schedule_config
from amendwatch.errors import ConfigError
from tests.delivery.conftest import WEEK_OF_CHANGES, Smtp

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
    email = config_for(smtp_auth.port, username="digest")
    delivery.send_email(delivery.build_message(report, email, NOW), email, "s3cret-pw")
    assert smtp_auth.inbox.logins == ["digest"]
    assert len(smtp_auth.inbox.messages) == 1


def test_wrong_password_is_a_one_line_error_without_the_password(
    app: Amendwatch, smtp_auth: Smtp
) -> None:
    report = delivery.weekly_report(app, WEEK_OF_CHANGES)
    email = config_for(smtp_auth.port, username="digest")
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
