"""RFC 3161 time-stamps of the chain head (issue 15, parts 2 and 4): a token from a loopback TSA
is stored and checks offline; every misbehaving TSA is stored as a failure without raising;
tampering with a token, its head or the chain is named by token; the evidence pack carries the
tokens and OpenSSL accepts them as VERIFY.md says."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlite_utils import Database

from amendwatch.errors import ConfigError
from amendwatch.timestamping import (
    StampResult,
    check_stamps,
    head_imprint,
    stamp_head,
    stamped_bytes,
)
from store import timestamps
from store.chainhead import ChainHead, chain_head
from store.db import open_db
from store.rows import fetch_one
from tests.audit.conftest import run
from tests.tsaserver import TsaAuthority, TsaServer

NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
HAS_OPENSSL = shutil.which("openssl") is not None


@pytest.fixture
def db(db_copy: Path) -> Iterator[Database]:
    database = open_db(db_copy)
    yield database
    database.close()


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=2.0, trust_env=False) as http:
        yield http


def last_run(db: Database) -> int:
    row = fetch_one(db, "SELECT MAX(id) AS id FROM runs")
    assert row is not None and row["id"]
    return int(row["id"])


def stamp(db: Database, client: httpx.Client, tsa: TsaServer) -> StampResult:
    return stamp_head(db, client, tsa.url, chain_head(db), last_run(db), NOW)


def granted(db: Database, client: httpx.Client, authority: TsaAuthority) -> StampResult:
    with TsaServer(authority) as tsa:
        result = stamp(db, client, tsa)
    assert result.ok, result.error
    return result


def test_a_granted_token_is_stored_and_checks_offline(db: Database, client: httpx.Client) -> None:
    authority = TsaAuthority()
    result = granted(db, client, authority)  # the server is stopped from here on
    (stored,) = timestamps.stamps_for_run(db, last_run(db))
    assert (stored.id, stored.status, stored.head) == (result.stamp_id, "granted", chain_head(db))
    assert stored.token and stored.gen_time == result.gen_time and stored.requested_at == NOW
    for trust in (None, authority.ca_pem, authority.tsa_pem):
        (check,) = check_stamps(db, trust)
        assert check.ok, check.problems
        assert (check.stamp_id, check.run_id, check.gen_time) == (
            stored.id,
            stored.run_id,
            stored.gen_time,
        )
    assert head_imprint(stored.head) in stored.token  # the imprint is SHA-256 of COUNT:HASH
    assert stamped_bytes(stored.head) == stored.head.text.encode("ascii")


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("unavailable", "the TSA answered HTTP 503"),
        ("garbage", "not an RFC 3161 time-stamp response"),
        ("reject", "refused the request (status rejection: request refused by policy)"),
        ("other_imprint", "over another imprint"),
        ("wrong_nonce", "nonce is not the request's"),
        ("bad_signature", "signature does not verify"),
        ("slow", "did not answer in time"),
    ],
)
def test_a_misbehaving_tsa_is_stored_as_failed_and_raises_nothing(
    db: Database, mode: str, expected: str
) -> None:
    with (
        TsaServer(mode=mode) as tsa,
        httpx.Client(timeout=0.3, trust_env=False) as client,
    ):
        tsa.slow_seconds = 0.8
        result = stamp(db, client, tsa)
    assert tsa.requests == 1
    assert not result.ok and result.error and expected in result.error, result.error
    assert result.gen_time is None and "failed" in result.line()
    (stored,) = timestamps.list_stamps(db)
    assert (stored.id, stored.status, stored.token) == (result.stamp_id, "failed", None)
    assert stored.error == result.error and "\n" not in stored.error
    assert check_stamps(db) == ()  # a failure is no token to check


def test_a_tsa_that_is_down_is_a_failure(db: Database, client: httpx.Client) -> None:
    with TsaServer() as tsa:
        url = tsa.url
    result = stamp_head(db, client, url, chain_head(db), None, NOW)
    assert not result.ok and result.error and "cannot reach the TSA" in result.error
    assert timestamps.list_stamps(db, status="failed")[0].error == result.error


def _check_of(db: Database, stamp_id: int, trust: bytes | None = None) -> str:
    (check,) = [c for c in check_stamps(db, trust) if c.stamp_id == stamp_id]
    assert not check.ok
    assert check.line().startswith(f"time-stamp {stamp_id} (run ")
    return "; ".join(check.problems)


def test_tampered_token_bytes_are_reported(db: Database, client: httpx.Client) -> None:
    result = granted(db, client, TsaAuthority())
    token = timestamps.list_stamps(db)[0].token
    assert token is not None
    at = token.index(head_imprint(result.head))
    edits = {
        "imprint": token[:at] + bytes([token[at] ^ 1]) + token[at + 1 :],
        "signature": token[:-1] + bytes([token[-1] ^ 1]),
        "cut": token[: len(token) // 2],
    }
    expected = {
        "imprint": "the signed digest is not that of the token's content (token altered)",
        "signature": "signature does not verify",
        "cut": "does not parse",
    }
    for name, altered in edits.items():
        db.execute("UPDATE timestamps SET token = ? WHERE id = ?", (altered, result.stamp_id))
        assert expected[name] in _check_of(db, result.stamp_id), name


def test_a_rewritten_head_hash_is_reported(db: Database, client: httpx.Client) -> None:
    result = granted(db, client, TsaAuthority())
    db.execute("UPDATE timestamps SET head_hash = ? WHERE id = ?", ("0" * 64, result.stamp_id))
    problems = _check_of(db, result.stamp_id)
    assert "over another imprint" in problems
    assert "its head is not in the chain" in problems and "history rewritten" in problems


def test_truncating_the_chain_contradicts_the_newest_token_only(
    db: Database, client: httpx.Client, db_copy: Path
) -> None:
    authority = TsaAuthority()
    newest = granted(db, client, authority)
    row = fetch_one(db, "SELECT hash FROM observations ORDER BY id LIMIT 1 OFFSET 4")
    assert row is not None
    with TsaServer(authority) as tsa:
        older = stamp_head(db, client, tsa.url, ChainHead(5, row["hash"]), None, NOW)
    assert older.ok
    db.close()
    with sqlite3.connect(db_copy) as con:  # what the sqlite3 shell does: no triggers, no FKs
        con.execute("DELETE FROM observations WHERE id > (SELECT MAX(id) - 2 FROM observations)")
    reopened = open_db(db_copy)
    try:
        checks = {check.stamp_id: check for check in check_stamps(reopened)}
    finally:
        reopened.close()
    assert checks[older.stamp_id].ok
    problems = "; ".join(checks[newest.stamp_id].problems)
    assert f"fewer than the {newest.head.count} of the published head" in problems


def test_the_wrong_trust_certificate_fails(db: Database, client: httpx.Client) -> None:
    result = granted(db, client, TsaAuthority())
    problems = _check_of(db, result.stamp_id, TsaAuthority(name="another TSA").ca_pem)
    assert "does not chain to the trusted certificate" in problems
    with pytest.raises(ConfigError, match="no PEM certificate"):
        check_stamps(db, b"not a certificate")


def _pack(db_path: Path, out: Path) -> zipfile.ZipFile:
    result = run(db_path, "export", "evidence", "Initial Child Protection", "-o", str(out))
    assert result.exit_code == 0, result.output
    return zipfile.ZipFile(out)


def test_the_pack_carries_the_tokens_at_or_below_its_head(
    db: Database, client: httpx.Client, db_copy: Path, tmp_path: Path
) -> None:
    authority = TsaAuthority()
    result = granted(db, client, authority)
    run_id = last_run(db)
    beyond = ChainHead(result.head.count + 1, "f" * 64)  # over a head the pack does not reach
    request = timestamps.StampRequest(None, beyond, "http://127.0.0.1:9/", NOW)
    timestamps.record_token(db, request, NOW, b"\x30\x00")
    db.close()
    with _pack(db_copy, tmp_path / "p.zip") as pack:
        names = set(pack.namelist())
        assert pack.read(f"timestamps/run-{run_id}.head.txt") == stamped_bytes(result.head)
        assert pack.read("timestamps/tsa-1.pem") == authority.tsa_pem
        verify_md = pack.read("VERIFY.md").decode()
        sums = pack.read("SHA256SUMS").decode()
    tsr = f"timestamps/run-{run_id}.tsr"
    assert {tsr, "timestamps/tsa-1.pem"} <= names
    assert not [name for name in names if "stamp-" in name]  # the token beyond the head
    assert f"  {tsr}\n" in sums
    command = f"openssl ts -verify -data timestamps/run-{run_id}.head.txt -in {tsr}"
    assert command in verify_md and result.head.text in verify_md


@pytest.mark.skipif(not HAS_OPENSSL, reason="needs the openssl command")
def test_openssl_accepts_the_exported_token(
    db: Database, client: httpx.Client, db_copy: Path, tmp_path: Path
) -> None:
    authority = TsaAuthority()
    granted(db, client, authority)
    run_id = last_run(db)
    db.close()
    unpacked = tmp_path / "unpacked"
    with _pack(db_copy, tmp_path / "p.zip") as pack:
        pack.extractall(unpacked)
    (unpacked / "tsa-ca.pem").write_bytes(authority.ca_pem)
    stem = f"timestamps/run-{run_id}"
    command = ["openssl", "ts", "-verify", "-data", f"{stem}.head.txt", "-in", f"{stem}.tsr"]
    ok = subprocess.run(
        [*command, "-CAfile", "tsa-ca.pem"], cwd=unpacked, capture_output=True, check=False
    )
    assert ok.returncode == 0 and b"Verification: OK" in ok.stdout, ok.stderr
    (unpacked / "other.pem").write_bytes(TsaAuthority().ca_pem)
    wrong_ca = subprocess.run(
        [*command, "-CAfile", "other.pem"], cwd=unpacked, capture_output=True, check=False
    )
    assert wrong_ca.returncode != 0
    (unpacked / stem).with_suffix(".head.txt").write_bytes(b"1:" + b"0" * 64)
    wrong_head = subprocess.run(
        [*command, "-CAfile", "tsa-ca.pem"], cwd=unpacked, capture_output=True, check=False
    )
    assert wrong_head.returncode != 0


def test_verify_checks_the_tokens_offline_and_names_a_bad_one(
    db: Database, client: httpx.Client, db_copy: Path, tmp_path: Path
) -> None:
    authority = TsaAuthority()
    first = granted(db, client, authority)
    db.close()
    ca = tmp_path / "ca.pem"
    ca.write_bytes(authority.ca_pem)
    result = run(db_copy, "verify", "--tsa-cert", str(ca))
    assert result.exit_code == 0, result.output
    assert "time-stamps ok: 1 tokens" in result.output
    other = tmp_path / "other.pem"
    other.write_bytes(TsaAuthority("another TSA").ca_pem)
    refused = run(db_copy, "verify", "--tsa-cert", str(other))
    assert refused.exit_code == 1 and f"time-stamp {first.stamp_id}" in refused.output
    with sqlite3.connect(db_copy) as con:
        con.execute("UPDATE timestamps SET token = substr(token, 1, 200)")
    con.close()
    broken = run(db_copy, "verify")
    assert broken.exit_code == 1 and "verify FAILED" in broken.output
    assert f"time-stamp {first.stamp_id}" in broken.output


def test_a_scheduled_run_is_time_stamped_and_a_dead_tsa_does_not_fail_it(tmp_path: Path) -> None:
    from amendwatch import scheduler  # noqa: PLC0415
    from amendwatch.api import Amendwatch  # noqa: PLC0415
    from amendwatch.config import Settings  # noqa: PLC0415
    from tests.integration.minisite import MiniSite, chapter_html, contents_html  # noqa: PLC0415

    authority = TsaAuthority()
    ca = tmp_path / "ca.pem"
    ca.write_bytes(authority.ca_pem)
    db_path = tmp_path / "aw.db"
    with MiniSite() as site, TsaServer(authority) as tsa:
        site.pages["/"] = contents_html([("1.1", "Assessments", "/a.html")])
        site.pages["/a.html"] = chapter_html("Assessments", [("1 Scope", "Staff must act.")])
        app = Amendwatch.open(Settings(db_path))
        app.add_manual("mini", f"{site.base_url}/")
        app.close()
        config = tmp_path / "amendwatch.toml"
        config.write_text(f'[timestamp]\nurl = "{tsa.url}"\nca_file = "{ca}"\n')
        scheduler.snapshot_job(str(db_path), str(config))
        config.write_text('[timestamp]\nurl = "http://127.0.0.1:9/tsa"\ntimeout = 1\n')
        scheduler.snapshot_job(str(db_path), str(config))  # the TSA is down: still a run
    db = open_db(db_path)
    rows = db.execute("SELECT status, run_id FROM timestamps ORDER BY id").fetchall()
    runs_done = db.execute("SELECT id, status FROM runs ORDER BY id").fetchall()
    (check,) = check_stamps(db, authority.ca_pem)
    db.close()
    assert [r[0] for r in rows] == ["granted", "failed"]
    assert [r[1] for r in rows] == [r[0] for r in runs_done]
    assert all(status == "ok" for _, status in runs_done)
    assert check.ok, check.problems
    assert run(db_path, "verify", "--tsa-cert", str(ca)).exit_code == 0


def test_snapshot_with_a_config_time_stamps_its_run(tmp_path: Path) -> None:
    from tests.integration.minisite import MiniSite, chapter_html, contents_html  # noqa: PLC0415

    authority = TsaAuthority()
    db_path = tmp_path / "aw.db"
    with MiniSite() as site, TsaServer(authority) as tsa:
        site.pages["/"] = contents_html([("1.1", "Assessments", "/a.html")])
        site.pages["/a.html"] = chapter_html("Assessments", [("1 Scope", "Staff must act.")])
        assert run(db_path, "manual", "add", "mini", f"{site.base_url}/").exit_code == 0
        config = tmp_path / "amendwatch.toml"
        config.write_text(f'[timestamp]\nurl = "{tsa.url}"\n')
        done = run(db_path, "snapshot", "--quiet", "--config", str(config))
    assert done.exit_code == 0, done.output
    assert "time-stamped by" in done.output
    bad = run(db_path, "snapshot", "--config", str(tmp_path / "missing.toml"))
    assert bad.exit_code == 1 and "config file not found" in bad.output
