"""Delivering what amendwatch found: the weekly digest by email or into a folder per week,
and an Atom feed per manual.

Everything here goes through :class:`amendwatch.api.Amendwatch`; the SMTP connection is
injected (``smtp=``) so tests can point it anywhere, and the password is passed in by the
caller (``Settings.smtp_password``, from the environment only): it is never logged or stored.
"""

from __future__ import annotations

import ipaddress
import logging
import smtplib
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from amendwatch.api import Amendwatch
from amendwatch.config import ENV_SMTP_PASSWORD, EmailConfig, ScheduleConfig, Settings
from amendwatch.errors import ConfigError
from amendwatch.outputs import DEFAULT_FILE_MODE, write_output
from reports.atom import build_feed, render_feed
from reports.models import Period
from reports.periods import parse_range, parse_week
from store.chainhead import chain_head

SmtpFactory = Callable[..., smtplib.SMTP]
log = logging.getLogger("amendwatch.delivery")


@dataclass(frozen=True)
class WeeklyReport:
    """The digest of one week in the three formats that are delivered."""

    week: str  # "2026-W47"
    label: str
    html: str
    md: str
    json: str


def previous_week(now: datetime) -> str:
    """The ISO week before the one containing ``now`` ("2026-W47"): the week just ended."""
    return (now - timedelta(days=7)).strftime("%G-W%V")


def weekly_report(app: Amendwatch, week: str) -> WeeklyReport:
    period: Period = parse_week(week)
    return WeeklyReport(
        week=period.key or week,
        label=period.label,
        html=app.report(period, fmt="html"),
        md=app.report(period, fmt="md"),
        json=app.report(period, fmt="json"),
    )


def write_folder(report: WeeklyReport, folder: Path, mode: int = DEFAULT_FILE_MODE) -> Path:
    """Write ``<folder>/<YYYY-Www>/report.{html,md,json}`` (each file whole or not at all,
    with ``mode``); returns the week's folder."""
    target = folder / report.week
    _make_folder(target, "check report_dir in the config (it must be a writable folder)")
    for fmt, text in (("html", report.html), ("md", report.md), ("json", report.json)):
        write_output(target / f"report.{fmt}", text, mode)
    return target


def _make_folder(folder: Path, hint: str) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create the folder {folder}: {exc.strerror}", hint) from exc


def build_message(report: WeeklyReport, email: EmailConfig, now: datetime) -> EmailMessage:
    """HTML with a plain-text (Markdown) alternative, and the JSON digest attached."""
    message = EmailMessage()
    message["Subject"] = email.subject.format(week=report.week, label=report.label)
    message["From"] = email.sender
    message["To"] = ", ".join(email.to)
    message["Date"] = formatdate(now.timestamp(), localtime=False)
    message["Message-ID"] = make_msgid(domain="amendwatch.invalid")
    message.set_content(report.md)
    message.add_alternative(report.html, subtype="html")
    message.add_attachment(
        report.json.encode("utf-8"),
        maintype="application",
        subtype="json",
        filename=f"amendwatch-{report.week}.json",
    )
    return message


def send_email(
    message: EmailMessage,
    email: EmailConfig,
    password: str | None,
    smtp: SmtpFactory = smtplib.SMTP,
) -> None:
    """Send over SMTP with TLS as ``email.tls`` says (STARTTLS by default) and log in when
    configured. Failures become ``ConfigError`` naming the server (never the password)."""
    if email.username and not password:
        raise ConfigError(
            f"[email] username {email.username!r} is set but no password was given",
            f"set ${ENV_SMTP_PASSWORD} in the environment",
        )
    where = f"{email.host}:{email.port}"
    try:
        with _connect(email, smtp) as server:
            _secure(server, email, where)
            if email.username and password:
                server.login(email.username, password)
            server.send_message(message)
    except smtplib.SMTPAuthenticationError as exc:
        raise ConfigError(
            f"the SMTP server {where} refused the login of {email.username!r}",
            f"check [email] username and ${ENV_SMTP_PASSWORD}",
        ) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise ConfigError(
            f"could not send the weekly report via {where}: {exc}",
            "check [email] host, port and tls, and that the server is reachable",
        ) from exc


def _tls_context(email: EmailConfig) -> ssl.SSLContext:
    cafile = str(email.ca_file) if email.ca_file is not None else None
    return ssl.create_default_context(cafile=cafile)


def _connect(email: EmailConfig, smtp: SmtpFactory) -> smtplib.SMTP:
    if email.tls == "implicit":
        return smtplib.SMTP_SSL(
            email.host, email.port, timeout=email.timeout, context=_tls_context(email)
        )
    return smtp(email.host, email.port, timeout=email.timeout)


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _secure(server: smtplib.SMTP, email: EmailConfig, where: str) -> None:
    """STARTTLS when the mode asks for it; never a password in cleartext except to a relay
    on this machine (``tls = "none"`` and a loopback host)."""
    if email.tls == "implicit":
        return
    if email.tls == "none":
        if email.username and not _is_loopback(email.host):
            raise ConfigError(
                f'refusing to send the SMTP password to {where} in cleartext (tls = "none")',
                'use tls = "starttls" or tls = "implicit" (port 465)',
            )
        return
    server.ehlo()
    if server.has_extn("starttls"):
        server.starttls(context=_tls_context(email))
        server.ehlo()
        return
    if email.username:
        raise ConfigError(
            f"the SMTP server {where} does not offer STARTTLS: "
            "the password is not sent in cleartext",
            'use tls = "implicit" (port 465), or a server that offers STARTTLS',
        )
    log.warning("the SMTP server %s does not offer STARTTLS: the report goes unencrypted", where)


def feed_xml(app: Amendwatch, manual: str, now: datetime, self_url: str = "") -> str:
    """The Atom feed of one manual's latest detected changes."""
    period = parse_range("1970-01-01", (now + timedelta(days=1)).date().isoformat())
    changes = app.changes(period, manual)
    head = chain_head(app.db).text
    return render_feed(
        build_feed(manual, changes, generated_at=now, self_url=self_url, chain_head=head)
    )


def last_change_at(app: Amendwatch, manual: str, now: datetime) -> datetime | None:
    """When the newest change of ``manual`` was detected (None when there is none)."""
    period = parse_range("1970-01-01", (now + timedelta(days=1)).date().isoformat())
    changes = app.changes(period, manual)
    return max((c.detected_at for c in changes), default=None)


def write_feeds(
    app: Amendwatch, folder: Path, now: datetime, names: Sequence[str] = ()
) -> list[Path]:
    """Write ``<folder>/<manual>.atom`` for each manual (all by default), each whole or not
    at all, with the settings' file mode."""
    _make_folder(folder, "check feed_dir in the config (it must be a writable folder)")
    return [
        write_output(
            folder / f"{feed_file_name(name)}.atom",
            feed_xml(app, name, now),
            app.settings.file_mode,
        )
        for name in names or [m.name for m in app.manuals()]
    ]


def feed_file_name(manual: str) -> str:
    """A manual name made safe as a file or URL path segment."""
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in manual).strip(".") or "_"


def deliver_week(
    app: Amendwatch, config: ScheduleConfig, settings: Settings, week: str
) -> list[str]:
    """Deliver one week's digest as the config says; returns what was done, for the log."""
    if config.report_dir is None and config.email is None:
        log.warning("report %s: no report_dir and no [email] in the config: nothing sent", week)
        return []
    report = weekly_report(app, week)
    done = []
    if config.report_dir is not None:
        target = write_folder(report, config.report_dir, app.settings.file_mode)
        done.append(f"wrote {target}")
    if config.email is not None:
        message = build_message(report, config.email, app.clock())
        send_email(message, config.email, settings.smtp_password)
        done.append(f"emailed {', '.join(config.email.to)}")
    for line in done:
        log.info("report %s: %s", report.week, line)
    return done
