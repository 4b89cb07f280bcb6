"""The command line, one front end over :class:`amendwatch.api.Amendwatch` (the web
application, :mod:`amendwatch.web`, is the other).

``main`` holds the top-level group and the core commands; ``tools`` what every command shares
(opening the database, errors as one line, the lazy command group); one module per command
family: ``manual``, ``verify``, ``audit`` (history, evidence, WARC, rederive, compact,
browse), ``drafts``, ``delivery`` (schedule, deliver, feed, serve), ``config``, ``notify``,
``web`` (web, user). A family's module is imported only when one of its commands runs
(``main.LAZY_COMMANDS``), so ``--help`` and ``--version`` start fast.
"""

from amendwatch.cli.main import LAZY_COMMANDS, cli, main

__all__ = ["LAZY_COMMANDS", "cli", "main"]
