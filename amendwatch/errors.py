"""The one exception tree of amendwatch.

Library errors are translated at the boundary (``raise FetchError(...) from exc``).
Every error carries a one-line message and a ``hint`` saying what to do next; the CLI
turns them into ``click.ClickException`` without a traceback.
"""

from __future__ import annotations


class AmendwatchError(Exception):
    """Base of every expected failure."""

    hint: str = ""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint

    def __str__(self) -> str:
        message = super().__str__()
        return f"{message} ({self.hint})" if self.hint else message


class ConfigError(AmendwatchError):
    hint = "check the configuration file or command-line options"


class InputError(AmendwatchError):
    """Bad user input: a malformed URL, an invalid date or period, an unknown name."""

    hint = "see `amendwatch --help`"


class NotFoundError(InputError):
    hint = "run `amendwatch manual list` or `amendwatch history` to see what is stored"


class AmbiguousError(InputError):
    hint = "give more of the title or the full URL"


class FetchError(AmendwatchError):
    hint = "check the URL and the network; the failure was recorded and nothing was changed"


class BodyError(FetchError):
    """A response body refused while it is read: over the size limit (as sent or once
    decoded), corrupt or cut short in its content coding. The fetch layer records it as the
    failed observation's reason; it never reaches the command line."""

    hint = ""


class ExtractError(AmendwatchError):
    hint = "set --content-selector for this manual"


class StoreError(AmendwatchError):
    hint = "check the --db path"


class SchemaError(StoreError):
    hint = "upgrade amendwatch to open this database"


class IntegrityError(StoreError):
    hint = "the record has been altered; keep this database as it is and investigate"


class LockError(StoreError):
    hint = "another amendwatch process is writing; wait for it to finish"


class OutputError(AmendwatchError):
    """A report, feed, draft or export file could not be written; the file it would have
    replaced is unchanged."""

    hint = "choose another path or folder; any earlier file there is unchanged"


class DiskFullError(AmendwatchError):
    """The disk (or the database's size limit) is full: an output file or the database."""

    hint = "free some disk space, then run the command again; nothing earlier was replaced"
