"""What follows a snapshot run when a config file asks for it: the run's chain head
time-stamped by an RFC 3161 authority (``[timestamp]``), then the run's alerts (``[notify]``).

Called by the scheduler's jobs and by ``snapshot --config FILE``. Neither step can change the
run's result: a TSA or a notification service that fails is logged as one line (and a failed
time-stamp is kept in the ``timestamps`` table with its error).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import httpx

from amendwatch.api import Amendwatch
from amendwatch.config import ScheduleConfig, TimestampConfig
from amendwatch.errors import AmendwatchError

log = logging.getLogger("amendwatch.afterrun")


@dataclass(frozen=True)
class AfterRun:
    """One line per step taken (empty when the config asks for none)."""

    lines: tuple[str, ...]


def after_run(app: Amendwatch, config: ScheduleConfig, run_id: int | None) -> AfterRun:
    lines = []
    if config.timestamp is not None:
        lines.append(stamp_run(app, config.timestamp, run_id))
    if run_id is not None and config.notify is not None and config.notify.urls:
        from amendwatch.notify import alert_if_configured  # noqa: PLC0415 (apprise: lazy)

        outcome = alert_if_configured(app.db, run_id, config.notify, app.clock())
        if outcome is not None and (outcome.sent or outcome.undelivered):
            lines.append(
                f"alerts: {len(outcome.sent)} sent, {len(outcome.undelivered)} not delivered"
            )
    return AfterRun(tuple(lines))


def stamp_run(app: Amendwatch, config: TimestampConfig, run_id: int | None) -> str:
    """Time-stamp the current chain head; the outcome as one line (also logged)."""
    from amendwatch.timestamping import stamp_head  # noqa: PLC0415 (cryptography: lazy)
    from store.chainhead import chain_head  # noqa: PLC0415

    trust = None
    if config.ca_file is not None:
        try:
            trust = config.ca_file.read_bytes()
        except OSError as exc:
            line = f"time-stamp not requested: cannot read {config.ca_file}: {exc.strerror}"
            log.error("run %s: %s", run_id, line)
            return line
    proxy = app.settings.fetch.proxy
    try:
        with httpx.Client(timeout=config.timeout, trust_env=False, proxy=proxy) as client:
            result = stamp_head(
                app.db, client, config.url, chain_head(app.db), run_id, app.clock(), trust_pem=trust
            )
    except AmendwatchError as exc:  # a bad trust certificate (ConfigError)
        line = f"time-stamp not requested: {exc}"
        log.error("run %s: %s", run_id, line)
        return line
    (log.info if result.ok else log.warning)("run %s: %s", run_id, result.line())
    return result.line()
