"""The fetch children's pipes under load (the deadlock regression of issue 18).

Requests now carry stored bodies (``FetchRequest.payload``) and answers carry whole pages, so
both directions of a child's pipe can hold megabytes. A multiprocessing ``Pipe`` is a Unix
socket pair whose buffers hold a few hundred KB (net.core.wmem_default, 208 KB here): the
parent's ``send`` of a 4 MB batch returns only once the child has read most of it, and a
child's ``send`` of an 8 MB answer only once the parent has read most of that. A child that
read its next batch only between batches (before ``_read_into``) was stuck sending answer 1
while the parent was stuck sending batch 3 to it: each waited for the other to read. Here,
six batches go to two children before any answer is collected; a regression hangs, so the
work runs on a thread, and a run that does not end in time kills the children and fails.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator

import pytest

from amendwatch.api import utc_now
from scraper.fetch import FetchPolicy, FetchRequest
from scraper.fetchproc import FetchProcess
from scraper.models import Page
from tests.loopback import LoopbackServer, QuietHandler

PAGE_BYTES = 1024 * 1024
PAYLOAD_BYTES = 512 * 1024
BATCHES = 6
PER_BATCH = 8
PATIENCE = 20.0  # seconds; a healthy run takes well under two


def page_body(number: int) -> bytes:
    """About 1 MB, different for every page (so a mixed-up answer shows)."""
    return f"<html><body><p>page {number}</p>".encode().ljust(PAGE_BYTES, b"x") + b"</body>"


class BigPages(QuietHandler):
    def get(self) -> None:
        name = self.path.rsplit("/", 1)[-1]
        if not name.isdigit():
            super().get()  # robots.txt and anything else: 404
            return
        self.answer(200, page_body(int(name)))


@pytest.fixture(scope="module")
def site() -> Iterator[LoopbackServer]:
    with LoopbackServer(BigPages) as running:
        yield running


def payload_size(page: Page, payload: object) -> Page:
    """The children's ``prepare`` (module level: the children run it): the payload's size
    as the page's work."""
    assert isinstance(payload, bytes)
    return page.with_work(len(payload))


def payload_of(number: int) -> bytes:
    return bytes([number % 251]) * (PAYLOAD_BYTES + number)  # each a size of its own


def test_large_batches_and_large_answers_in_both_directions_do_not_deadlock(
    site: LoopbackServer,
) -> None:
    numbers = [
        [batch * PER_BATCH + index for index in range(PER_BATCH)] for batch in range(BATCHES)
    ]
    answers: list[list[Page]] = []
    failure: list[BaseException] = []
    opened: list[FetchProcess] = []

    def run() -> None:
        try:
            with FetchProcess(
                FetchPolicy(retries=0), utc_now, processes=2, prepare=payload_size
            ) as process:
                opened.append(process)
                tickets = [
                    process.submit(
                        [FetchRequest(f"{site.base_url}/{n}", payload=payload_of(n)) for n in batch]
                    )
                    for batch in numbers
                ]  # all of them sent before any answer is read
                answers.extend(ticket.result() for ticket in tickets)
        except BaseException as exc:  # noqa: BLE001 (reported by the test's thread)
            failure.append(exc)

    started = time.monotonic()
    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(PATIENCE)
    if worker.is_alive():
        for pid in opened[0].pids if opened else []:  # unblock the thread: the pipes break
            os.kill(pid, signal.SIGKILL)
        worker.join(5)
        pytest.fail(f"six large batches were not answered within {PATIENCE:.0f} s (deadlock)")
    elapsed = time.monotonic() - started
    assert not failure, failure
    assert len(answers) == BATCHES
    for batch, pages in zip(numbers, answers, strict=True):
        assert [page.url.rsplit("/", 1)[1] for page in pages] == [str(n) for n in batch]
        for number, page in zip(batch, pages, strict=True):
            assert page.status == 200 and page.body == page_body(number), number
            assert page.work == PAYLOAD_BYTES + number  # prepared in the child, with its payload
    assert elapsed < 10.0


def test_a_request_without_a_payload_is_not_prepared(site: LoopbackServer) -> None:
    with FetchProcess(FetchPolicy(retries=0), utc_now, prepare=payload_size) as process:
        plain, loaded = process.fetch(
            [FetchRequest(f"{site.base_url}/1"), FetchRequest(f"{site.base_url}/2", payload=b"ab")]
        )
    assert plain.work is None and plain.body == page_body(1)
    assert loaded.work == 2 and loaded.body == page_body(2)
