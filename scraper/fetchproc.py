"""Fetching in a process of its own, so that HTTP costs no time in the process that stores.

A ``FetchProcess`` runs a ``FetchSession`` (one event loop, client and robots.txt cache) in
each of one or two child processes (forked when :func:`scraper.orphans.can_fork`, else
spawned) and has the same ``submit`` / ``fetch`` interface: the snapshot keeps a batch
submitted to each child while it stores the last, and the children fetch meanwhile on the
other cores. Pages come back pickled over a pipe (about 0.07 ms of the parent's time per
140 KB page, against about 0.6 ms to fetch it with httpx). The clock must pickle (a
module-level function); tests that inject a transport or a closure as the clock use
``FetchSession``.

``Fetcher`` is what the pipeline needs from either; ``Pending`` a submitted batch.

``cancel`` (what :func:`scraper.session.interrupt_fetches` calls on SIGINT/SIGTERM) kills
the child at once (it ignores both signals) and answers every batch still owed, and every
later one, with "interrupted" pages.
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import queue
import signal
import threading
from collections.abc import Sequence
from dataclasses import replace
from multiprocessing import get_context
from multiprocessing.connection import Connection
from multiprocessing.context import ForkContext, SpawnContext
from multiprocessing.process import BaseProcess
from types import TracebackType
from typing import Protocol, cast

from amendwatch.errors import AmendwatchError, FetchError
from scraper.fetch import Clock, FetchPolicy, FetchRequest
from scraper.guard import check_url
from scraper.models import Page
from scraper.orphans import can_fork, start_child
from scraper.responses import interrupted
from scraper.session import FetchSession, Prepare, register, unregister

__all__ = ["FetchProcess", "Fetcher", "Pending", "clock_pickles"]

_STOP = None
_JOIN_SECONDS = 5.0


class Pending(Protocol):
    def result(self) -> list[Page]: ...


class Fetcher(Protocol):
    """What the pipeline fetches with: ``FetchSession`` or ``FetchProcess``."""

    def submit(self, requests: Sequence[FetchRequest]) -> Pending: ...

    def fetch(self, requests: Sequence[FetchRequest]) -> list[Page]: ...

    @property
    def depth(self) -> int: ...


def clock_pickles(clock: Clock) -> bool:
    """Whether ``clock`` can be sent to a child process (a module-level function can)."""
    try:
        pickle.dumps(clock)
    except (pickle.PicklingError, AttributeError, TypeError):
        return False
    return True


def _serve(
    conn: Connection,
    policy: FetchPolicy,
    clock: Clock,
    parent: int,
    inherited: tuple[Connection, ...] = (),
    prepare: Prepare | None = None,
) -> None:
    """The child: fetch each batch it is sent, answer (ticket, pages) or (ticket, error).
    Interrupts are the parent's to handle (it stops the child when it stops); a parent that
    is gone ends the child at once, even in the middle of a batch (``exit_with_parent``), or
    quietly when the pipe closes."""
    start_child(parent)
    for other in inherited:  # the parent's ends, copied by the fork: closed, so that the pipe
        other.close()  # ends (and the child with it) when the parent closes its end
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    inbox: queue.SimpleQueue[object] = queue.SimpleQueue()
    reader = threading.Thread(target=_read_into, args=(conn, inbox), daemon=True)
    reader.start()
    with FetchSession(policy, clock, prepare=prepare) as session, contextlib.closing(conn):
        try:
            while (message := inbox.get()) is not _STOP:
                ticket, requests = cast(tuple[int, Sequence[FetchRequest]], message)
                try:
                    answer: list[Page] | str = session.fetch(requests)
                except AmendwatchError as exc:
                    answer = str(exc)
                for page in answer if isinstance(answer, list) else ():
                    _ = page.body_hash  # hashed here, on another core; it travels with the page
                conn.send((ticket, answer))
        except (EOFError, OSError):
            return


def _read_into(conn: Connection, inbox: queue.SimpleQueue[object]) -> None:
    """Take every batch as it is sent, even while the child is sending an answer: a parent
    sending a large batch (requests carry stored bodies) while a child sends a large answer
    would otherwise each wait for the other to read."""
    try:
        while (message := conn.recv()) is not _STOP:
            inbox.put(message)
    except (EOFError, OSError):
        pass
    inbox.put(_STOP)


class _Ticket:
    def __init__(self, owner: FetchProcess, number: int) -> None:
        self._owner, self._number = owner, number

    def result(self) -> list[Page]:
        return self._owner.collect(self._number)


def share_policy(policy: FetchPolicy, processes: int) -> FetchPolicy:
    """``policy`` for one of ``processes`` children that fetch in turns: the connections are
    divided between them, and each keeps ``processes`` times the gaps (``delay`` and any
    robots.txt Crawl-delay), so that a site sees the policy's own rates in total."""
    if processes <= 1:
        return policy
    return replace(
        policy,
        per_host=max(1, policy.per_host // processes),
        total=max(1, policy.total // processes),
        delay=policy.delay * processes,
        gap_factor=policy.gap_factor * processes,
    )


def processes_for(policy: FetchPolicy, cores: int | None) -> int:
    """Two children where there are two cores and the policy allows two connections to a
    host and no fixed delay (a 304 costs the fetching side three times what it costs the
    storing one, so one child is what a run waits for); else one."""
    if (cores or 1) >= 2 and policy.per_host >= 2 and policy.delay == 0:
        return 2
    return 1


class _Child:
    def __init__(self, conn: Connection, process: BaseProcess) -> None:
        self.conn, self.process = conn, process


class FetchProcess:
    """Use as a context manager; batches are answered in the order they were submitted.
    With ``processes`` > 1, batches go to the children in turn (see ``share_policy``)."""

    def __init__(
        self,
        policy: FetchPolicy,
        clock: Clock,
        processes: int = 1,
        prepare: Prepare | None = None,
    ) -> None:
        self.policy = policy
        self.prepare = prepare  # run in the children (a module-level function)
        self._clock = clock
        self._processes = max(1, processes)
        self._children: list[_Child] = []
        self._sent = 0
        self._answers: dict[int, list[Page] | str] = {}
        self._owed: dict[int, tuple[FetchRequest, ...]] = {}  # batches not answered yet
        self._cancelled = False
        self._frozen = False  # gc.freeze() in effect (fork)

    @property
    def pids(self) -> list[int]:
        return [child.process.pid for child in self._children if child.process.pid is not None]

    @property
    def processes(self) -> int:
        return self._processes

    @property
    def depth(self) -> int:
        """Batches to keep submitted ahead: two per child (one waits while one is fetched)."""
        return self._processes * 2

    def __enter__(self) -> FetchProcess:
        forking = can_fork()
        context: ForkContext | SpawnContext = (
            get_context("fork") if forking else get_context("spawn")
        )
        if forking:
            # the objects alive now (the modules, mostly) leave the collector's care until
            # __exit__: a forked child then shares their pages (no copy-on-write from the
            # collector's bookkeeping) and every collection, here and there, skips them
            # (about 0.05 s of a 1,000-chapter run)
            gc.freeze()
            self._frozen = True
        policy = share_policy(self.policy, self._processes)
        try:
            for number in range(self._processes):
                parent, child = context.Pipe()
                ends = (*(c.conn for c in self._children), parent) if forking else ()
                process = context.Process(
                    target=_serve,
                    args=(child, policy, self._clock, os.getpid(), ends, self.prepare),
                    name=f"amendwatch-fetch-{number + 1}",
                )
                process.daemon = True
                process.start()
                child.close()
                self._children.append(_Child(parent, process))
        except OSError as exc:
            self.__exit__(None, None, None)
            raise FetchError(
                f"cannot start a fetch process: {exc}", "run the snapshot again"
            ) from exc
        register(self)
        return self

    def cancel(self) -> None:
        """Stop fetching: kill the children (safe from a signal handler); see ``collect``."""
        self._cancelled = True
        for child in self._children:
            if child.process.is_alive():
                with contextlib.suppress(OSError):
                    child.process.kill()

    def _child_of(self, ticket: int) -> _Child:
        return self._children[(ticket - 1) % len(self._children)]

    def submit(self, requests: Sequence[FetchRequest]) -> _Ticket:
        if not self._children:
            raise RuntimeError("FetchProcess.submit outside its `with` block")
        for request in requests:
            check_url(request.url)
        self._sent += 1
        self._owed[self._sent] = tuple(requests)
        if self._cancelled:
            return _Ticket(self, self._sent)
        try:
            self._child_of(self._sent).conn.send((self._sent, tuple(requests)))
        except (BrokenPipeError, OSError) as exc:
            if not self._cancelled:
                raise FetchError("the fetch process has stopped", "run the snapshot again") from exc
        return _Ticket(self, self._sent)

    def fetch(self, requests: Sequence[FetchRequest]) -> list[Page]:
        return self.submit(requests).result()

    def collect(self, ticket: int) -> list[Page]:
        """The answer to batch ``ticket`` (reading the answers before it as they come)."""
        if not self._children:
            raise RuntimeError("FetchProcess.collect outside its `with` block")
        conn = self._child_of(ticket).conn
        while ticket not in self._answers:
            if self._cancelled:
                return self._interrupted(ticket)
            try:
                number, answer = conn.recv()
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
        if self._frozen:
            gc.unfreeze()
            self._frozen = False
        children, self._children = self._children, []
        for child in children:
            with contextlib.suppress(BrokenPipeError, OSError):  # it may have gone already
                child.conn.send(_STOP)
            child.conn.close()
        for child in children:
            child.process.join(_JOIN_SECONDS)
            if child.process.exitcode is None:
                child.process.kill()  # it ignores SIGTERM
                child.process.join(_JOIN_SECONDS)
