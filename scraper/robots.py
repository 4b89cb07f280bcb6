"""robots.txt as amendwatch reads it (RFC 9309, through Protego).

* The group that applies is the one whose ``User-agent`` matches a product token of our
  User-Agent (``amendwatch`` in ``amendwatch/0.1 (+https://example.invalid/amendwatch)``), else
  ``*``. Only product tokens (``name/version``) are offered for matching, never the comment's
  URL, so a group for ``example`` or ``invalid`` does not apply to the default User-Agent.
* Within the group the longest matching ``Allow``/``Disallow`` path wins (``Allow`` on a tie);
  ``*`` matches any run of characters and a trailing ``$`` anchors the end of the path and query.
* ``Crawl-delay`` is a minimum number of seconds between requests to the host, capped at
  :data:`MAX_CRAWL_DELAY`; the fetch pool waits the larger of it and ``FetchPolicy.delay``.
* What a robots.txt answer means: 200 is parsed (its first :data:`MAX_ROBOTS_BYTES`, which
  RFC 9309 asks crawlers to read at least); 401 and 403 disallow everything; a 404, any other
  status or a failed fetch allow everything (``None``).

This module imports only :mod:`scraper.text`; :mod:`scraper.fetch` uses it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from protego import Protego

from scraper.text import decode_bytes

__all__ = ["MAX_CRAWL_DELAY", "MAX_ROBOTS_BYTES", "RobotsRules", "robot_name", "robots_rules"]

MAX_CRAWL_DELAY = 60.0  # seconds: a longer Crawl-delay is treated as this
MAX_ROBOTS_BYTES = 512 * 1024
_DISALLOW_ALL = "User-agent: *\nDisallow: /\n"
# a product (RFC 9110 token "/" version) at the start, after a space, "(" or ";"
_PRODUCT = re.compile(r"(?:^|[\s(;])([!#$%&'*+.^_`|~0-9A-Za-z-]+)/")


def robot_name(user_agent: str) -> str:
    """The product tokens of ``user_agent``, lower case and space-separated, as robots.txt
    groups are matched against them (the first word when it names no product)."""
    names = [name.lower() for name in _PRODUCT.findall(user_agent)]
    if not names:
        names = user_agent.lower().split()[:1]
    return " ".join(dict.fromkeys(names)) or "*"


@dataclass(frozen=True)
class RobotsRules:
    """One origin's robots.txt, parsed."""

    url: str
    parser: Protego

    def allows(self, url: str, user_agent: str) -> bool:
        """Whether the group for ``user_agent`` allows fetching ``url``."""
        return bool(self.parser.can_fetch(url, robot_name(user_agent)))

    def crawl_delay(self, user_agent: str) -> float:
        """The group's ``Crawl-delay`` in seconds (0 when none), at most MAX_CRAWL_DELAY."""
        delay = self.parser.crawl_delay(robot_name(user_agent))
        return min(float(delay or 0.0), MAX_CRAWL_DELAY)


def robots_rules(url: str, status: int, error: str | None, body: bytes) -> RobotsRules | None:
    """The rules of the robots.txt fetched from ``url``. None means "no rules" (allow all): a
    missing, unreadable or failing robots.txt, except 401/403 which disallow all."""
    if status in (401, 403):
        return RobotsRules(url, Protego.parse(_DISALLOW_ALL))
    if error is not None or status != 200:
        return None
    return RobotsRules(url, Protego.parse(decode_bytes(body[:MAX_ROBOTS_BYTES], None)))
