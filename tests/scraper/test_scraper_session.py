"""A fetch session reuses one client and one robots.txt answer across batches."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import httpx
import pytest

from scraper.fetch import FetchPolicy, FetchRequest
from scraper.session import FetchSession

NOW = datetime(2026, 11, 23, tzinfo=UTC)


def test_robots_txt_is_asked_once_for_many_batches() -> None:
    asked: Counter[str] = Counter()

    def answer(request: httpx.Request) -> httpx.Response:
        asked[request.url.path] += 1
        if request.url.path == "/robots.txt":
            return httpx.Response(200, text="User-agent: *\nDisallow: /private/\n")
        return httpx.Response(200, html=f"<h1>{request.url.path}</h1>")

    policy = FetchPolicy(retries=0)
    with FetchSession(policy, lambda: NOW, httpx.MockTransport(answer)) as session:
        first = session.fetch([FetchRequest(f"https://m.example/c{i}.html") for i in range(3)])
        second = session.fetch(
            [FetchRequest("https://m.example/c9.html"), FetchRequest("https://m.example/private/x")]
        )
    assert asked["/robots.txt"] == 1
    assert [p.status for p in first] == [200, 200, 200]
    assert second[0].ok and b"/c9.html" in second[0].body
    assert second[1].error == "disallowed by robots.txt" and asked["/private/x"] == 0


def test_fetch_outside_the_with_block_is_an_error() -> None:
    session = FetchSession(FetchPolicy(), lambda: NOW)
    with pytest.raises(RuntimeError, match="outside its `with` block"):
        session.fetch([FetchRequest("https://m.example/")])
