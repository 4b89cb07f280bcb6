"""`amendwatch demo --web`: a demo account, and a clock that makes the demo's last edition
"this week"; the whole run (the demo, then the server) behind the slow mark."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from amendwatch.config import Settings
from amendwatch.demo.web import add_demo_account, demo_morning, prepare_demo_web, shifted_clock
from tests.web.conftest import login_token, make_client


def test_the_demo_account_sees_the_demos_last_week(db_path: Path) -> None:
    clock = shifted_clock(demo_morning())
    assert abs((clock() - demo_morning()).total_seconds()) < 5
    password = add_demo_account(Settings(db_path=db_path), clock)
    with make_client(db_path, clock) as client:
        form = client.get("/login")
        answer = client.post(
            "/login",
            data={"username": "demo", "password": password, "csrf_token": login_token(form)},
        )
        assert answer.status_code == 303
        page = client.get("/").text
        assert "Harmful Sexual Behaviour" in page and "Admin" in page


@pytest.mark.slow
def test_demo_web_runs_the_demo_and_serves_it(tmp_path: Path) -> None:
    said: list[str] = []
    server = prepare_demo_web(Settings(db_path=tmp_path / "unused.db"), tmp_path, said.append,
                              port=0)  # fmt: skip
    text = "\n".join(said)
    assert "Open it in the web application: amendwatch demo --web" in text
    password = re.search(r"Log in as demo with the password (\S+)", text)
    assert password is not None and server.url in text
    with server, httpx.Client(base_url=server.url) as client:
        form = client.get("/login")
        answer = client.post(
            "/login",
            data={"username": "demo", "password": password.group(1),
                  "csrf_token": login_token(form)},
        )  # fmt: skip
        assert answer.status_code == 303
        assert "Harmful Sexual Behaviour" in client.get("/").text
