"""Fetching in a process of its own, so that HTTP costs no time in the process that stores.

A ``FetchProcess`` runs one ``FetchSession`` (one event loop, client and robots.txt cache) in
a spawned child and has the same ``submit`` / ``fetch`` interface: the snapshot submits the
next batch before it stores the last, and the child fetches it meanwhile on the other core.
Pages come back pickled over a pipe (about 0.07 ms of the parent's time per 140 KB page,
against about 0.7 ms to fetch it in-process with httpx). The clock must pickle (a module-level
function); tests that inject a transport or a closure as the clock use ``FetchSession``.

``Fetcher`` is what the pipeline needs from either; ``Pending`` a submitted batch.

``cancel`` (what :func:`scraper.session.interrupt_fetches` calls on SIGINT/SIGTERM) kills
the child at once (it ignores both signals) and answers every batch still owed, and every
later one, with "interrupted" pages.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
from collections.abc import Sequence
from multiprocessing import get_context
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from types import TracebackType
from typing import Protocol

from amendwatch.errors import AmendwatchError, FetchError
from scraper.fetch import Clock, FetchPolicy, FetchRequest
from scraper.guard import check_url
from scraper.models import Page
from scraper.orphans import exit_with_parent
from scraper.responses import interrupted
from scraper.session import FetchSession, register, unregister

__all__ = ["FetchProcess", "Fetcher", "Pending", "clock_pickles"]

_STOP = None
_JOIN_SECONDS = 5.0


class Pending(Protocol):
    def result(self) -> list[Page]: ...


class Fetcher(Protocol):
    """What the pipeline fetches with: ``FetchSession`` or ``FetchProcess``."""

    def submit(self, requests: Sequence[FetchRequest]) -> Pending: ...

    def fetch(self, requests: Sequence[FetchRequest]) -> list[Page]: ...


def clock_pickles(clock: Clock) -> bool:
    """Whether ``clock`` can be sent to a child process (a module-level function can)."""
    try:
        pickle.dumps(clock)
    except (pickle.PicklingError, AttributeError, TypeError):
        return False
    return True


def _serve(conn: Connection, policy: FetchPolicy, clock: Clock, parent: int) -> None:
    """The child: fetch each batch it is sent, answer (ticket, pages) or (ticket, error).
    Interrupts are the parent's to handle (it stops the child when it stops); a parent that
    is gone ends the child at once, even in the middle of a batch (``exit_with_parent``), or
    quietly when the pipe closes."""
    exit_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    with FetchSession(policy, clock) as session, contextlib.closing(conn):
        try:
            while (message := conn.recv()) is not _STOP:
                ticket, requests = message
                try:
                    answer: list[Page] | str = session.fetch(requests)
                except AmendwatchError as exc:
                    answer = str(exc)
                conn.send((ticket, answer))
        except (EOFError, OSError):
            return


class _Ticket:
    def __init__(self, owner: FetchProcess, number: int) -> None:
        self._owner, self._number = owner, number

    def result(self) -> list[Page]:
        return self._owner.collect(self._number)


class FetchProcess:
    """Use as a context manager; batches are answered in the order they were submitted."""

    def __init__(self, policy: FetchPolicy, clock: Clock) -> None:
        self.policy = policy
        self._clock = clock
        self._conn: Connection | None = None
        self._process: BaseProcess | None = None
        self._sent = 0
        self._answers: dict[int, list[Page] | str] = {}
        self._owed: dict[int, tuple[FetchRequest, ...]] = {}  # batches not answered yet
        self._cancelled = False

    def __enter__(self) -> FetchProcess:
        context = get_context("spawn")
        parent, child = context.Pipe()
        process = context.Process(
            target=_serve,
            args=(child, self.policy, self._clock, os.getpid()),
            name="amendwatch-fetch",
        )
        process.daemon = True
        process.start()
        child.close()
        self._conn, self._process = parent, process
        register(self)
        return self

    def cancel(self) -> None:
        """Stop fetching: kill the child (safe from a signal handler); see ``collect``."""
        self._cancelled = True
        process = self._process
        if process is not None and process.is_alive():
            with contextlib.suppress(OSError):
                process.kill()

    def submit(self, requests: Sequence[FetchRequest]) -> _Ticket:
        if self._conn is None:
            raise RuntimeError("FetchProcess.submit outside its `with` block")
        for request in requests:
            check_url(request.url)
        self._sent += 1
        self._owed[self._sent] = tuple(requests)
        if self._cancelled:
            return _Ticket(self, self._sent)
        try:
            self._conn.send((self._sent, tuple(requests)))
        except (BrokenPipeError, OSError) as exc:
            if not self._cancelled:
                raise FetchError("the fetch process has stopped", "run the snapshot again") from exc
        return _Ticket(self, self._sent)

    def fetch(self, requests: Sequence[FetchRequest]) -> list[Page]:
        return self.submit(requests).result()

    def collect(self, ticket: int) -> list[Page]:
        """The answer to batch ``ticket`` (reading the answers before it as they come)."""
        if self._conn is None:
            raise RuntimeError("FetchProcess.collect outside its `with` block")
        while ticket not in self._answers:
            if self._cancelled:
                return self._interrupted(ticket)
            try:
                number, answer = self._conn.recv()
            except (EOFError, OSError) as exc:
                if self._cancelled:
                    return self._interrupted(ticket)
                raise FetchError(
                    "the fetch process stopped unexpectedly", "run the snapshot again"
                ) from exc
            self._answers[number] = answer
        self._owed.pop(ticket, None)
        answer = self._answers.pop(ticket)
        if isinstance(answer, str):
            raise FetchError(answer)
        return answer

    def _interrupted(self, ticket: int) -> list[Page]:
        now = self._clock()
        return [interrupted(request, now) for request in self._owed.pop(ticket, ())]

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        unregister(self)
        conn, process = self._conn, self._process
        self._conn, self._process = None, None
        if conn is None:
            return
        with contextlib.suppress(BrokenPipeError, OSError):  # the child may have gone already
            conn.send(_STOP)
        conn.close()
        if process is not None:
            process.join(_JOIN_SECONDS)
            if process.exitcode is None:
                process.kill()  # it ignores SIGTERM
                process.join(_JOIN_SECONDS)
