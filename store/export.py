"""Evidence out of the store: WARC 1.1 files of the raw captures, and evidence-pack zips.

WARC (warcio): a ``warcinfo`` record, then for each observation in scope with a body a
``request`` record (GET of the request URL) and a ``response`` record (status line, the stored
headers, the body; warcio computes ``WARC-Payload-Digest``), or a ``revisit`` record
(identical-payload-digest) when the same body was already written; a 304 observation becomes a
``revisit`` (server-not-modified) of the last response written for its URL. ``WARC-Date`` is
the observation time. Stored ``Content-Encoding``/``Transfer-Encoding`` headers are kept as
``X-Archive-Orig-*`` (the stored body is already decoded) and ``Content-Length`` is the body's.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from sqlite_utils import Database
from warcio.recordloader import ArcWarcRecord
from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date
from warcio.warcwriter import WARCWriter

from amendwatch.errors import InputError
from store.codec import dumps
from store.observations import get_body
from store.rows import fetch_one, from_db_time, to_db_time

WARC_VERSION = "1.1"
NOT_MODIFIED_PROFILE = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
RENAMED_HEADERS = frozenset({"content-encoding", "transfer-encoding"})
DROPPED_HEADERS = frozenset({"content-length"})


@dataclass(frozen=True)
class WarcScope:
    """Which observations to export; the filters combine (all None: everything)."""

    chapter_id: int | None = None
    manual_id: int | None = None
    start: datetime | None = None
    end: datetime | None = None


@dataclass(frozen=True)
class WarcSummary:
    responses: int
    revisits: int
    requests: int
    skipped: int


@dataclass(frozen=True)
class _Written:
    uri: str
    date: str
    digest: str


def warc_date(moment: datetime) -> str:
    return str(datetime_to_iso_date(moment.astimezone(UTC).replace(tzinfo=None), use_micros=True))


def _scope_rows(db: Database, scope: WarcScope) -> Iterator[dict[str, Any]]:
    where = ["(body_sha256 IS NOT NULL OR status = 304)"]
    params: list[Any] = []
    for column, value in (("chapter_id", scope.chapter_id), ("manual_id", scope.manual_id)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    if scope.start is not None:
        where.append("observed_at >= ?")
        params.append(to_db_time(scope.start))
    if scope.end is not None:
        where.append("observed_at < ?")
        params.append(to_db_time(scope.end))
    sql = f"SELECT * FROM observations WHERE {' AND '.join(where)} ORDER BY observed_at, id"
    yield from db.query(sql, params)


def http_headers(row: Mapping[str, Any], body_length: int | None) -> StatusAndHeaders:
    """The stored status and headers as a warcio HTTP header block."""
    pairs: list[tuple[str, str]] = []
    for key, value in json.loads(row["headers"]):
        lowered = str(key).lower()
        if lowered in DROPPED_HEADERS:
            continue
        pairs.append((f"X-Archive-Orig-{key}" if lowered in RENAMED_HEADERS else key, value))
    if body_length is not None:
        pairs.append(("Content-Length", str(body_length)))
    try:
        phrase = HTTPStatus(row["status"]).phrase
    except ValueError:
        phrase = "Unknown"
    return StatusAndHeaders(f"{row['status']} {phrase}", pairs, protocol="HTTP/1.1")


def _extra_headers(row: Mapping[str, Any]) -> dict[str, str]:
    return {
        "WARC-Date": warc_date(from_db_time(row["observed_at"])),
        "X-Amendwatch-Observation": str(row["id"]),
        "X-Amendwatch-Observation-Hash": row["hash"],
        "X-Amendwatch-Imported": str(row["imported"]),
    }


class _WarcExport:
    def __init__(self, db: Database, out: BinaryIO) -> None:
        self.db = db
        self.writer = WARCWriter(out, gzip=True, warc_version=WARC_VERSION)
        self.by_body: dict[str, _Written] = {}
        self.by_url: dict[str, _Written] = {}
        self.counts = {"responses": 0, "revisits": 0, "requests": 0, "skipped": 0}

    def request(self, row: Mapping[str, Any], concurrent_to: str) -> None:
        parts = urlsplit(row["url"])
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        headers = StatusAndHeaders(
            f"GET {target} HTTP/1.1", [("Host", parts.netloc)], is_http_request=True
        )
        extra = {**_extra_headers(row), "WARC-Concurrent-To": concurrent_to}
        record = self.writer.create_warc_record(
            row["url"], "request", http_headers=headers, warc_headers_dict=extra
        )
        self.writer.write_record(record)
        self.counts["requests"] += 1

    def response(self, row: Mapping[str, Any]) -> None:
        body = get_body(self.db, row["body_sha256"])
        extra = _extra_headers(row)
        seen = self.by_body.get(row["body_sha256"])
        if seen is not None:
            record = self.revisit(row, seen, extra)
        else:
            record = self.writer.create_warc_record(
                row["url"],
                "response",
                payload=io.BytesIO(body),
                length=len(body),
                http_headers=http_headers(row, len(body)),
                warc_headers_dict=extra,
            )
            digest = record.rec_headers.get_header("WARC-Payload-Digest")
            self.by_body[row["body_sha256"]] = _Written(row["url"], extra["WARC-Date"], digest)
            self.counts["responses"] += 1
        self.by_url[row["url"]] = self.by_body[row["body_sha256"]]
        self.writer.write_record(record)
        self.request(row, record.rec_headers.get_header("WARC-Record-ID"))

    def not_modified(self, row: Mapping[str, Any]) -> None:
        seen = self.by_url.get(row["url"])
        if seen is None:
            self.counts["skipped"] += 1
            return
        record = self.revisit(row, seen, _extra_headers(row))
        record.rec_headers.replace_header("WARC-Profile", NOT_MODIFIED_PROFILE)
        self.writer.write_record(record)
        self.request(row, record.rec_headers.get_header("WARC-Record-ID"))

    def revisit(
        self, row: Mapping[str, Any], seen: _Written, extra: dict[str, str]
    ) -> ArcWarcRecord:
        """A revisit record of ``row`` pointing at the response ``seen`` (counted)."""
        self.counts["revisits"] += 1
        return self.writer.create_revisit_record(
            row["url"],
            seen.digest,
            seen.uri,
            seen.date,
            http_headers=http_headers(row, None),
            warc_headers_dict=extra,
        )


def export_warc(
    db: Database, scope: WarcScope, out: BinaryIO, *, filename: str, software: str
) -> WarcSummary:
    """Write the captures in ``scope`` to ``out`` as a gzipped WARC 1.1 file."""
    export = _WarcExport(db, out)
    info = {
        "software": software,
        "format": "WARC File Format 1.1",
        "description": "amendwatch captures (observations with their stored bodies)",
    }
    export.writer.write_record(export.writer.create_warcinfo_record(filename, info))
    for row in _scope_rows(db, scope):
        if row["body_sha256"] is not None:
            export.response(row)
        else:
            export.not_modified(row)
    return WarcSummary(**export.counts)


# evidence packs ------------------------------------------------------------------------
def observation_record(db: Database, observation_id: int) -> dict[str, Any]:
    """An observation as an auditor reads it: URLs, status, headers, time, hashes."""
    row = fetch_one(db, "SELECT * FROM observations WHERE id = ?", (observation_id,))
    if row is None:
        raise InputError(f"no observation with id {observation_id}")
    return {
        "id": row["id"],
        "url": row["url"],
        "final_url": row["final_url"],
        "status": row["status"],
        "headers": json.loads(row["headers"]),
        "observed_at": row["observed_at"],
        "outcome": row["outcome"],
        "body_sha256": row["body_sha256"],
        "imported": bool(row["imported"]),
        "prev_hash": row["prev_hash"],
        "hash": row["hash"],
    }


def write_pack(out: BinaryIO, files: Mapping[str, bytes], when: datetime) -> dict[str, Any]:
    """Write ``files`` to a zip with ``manifest.json`` (SHA-256 and size of every file) and
    ``SHA256SUMS`` (for ``sha256sum -c``); returns the manifest."""
    stamp = when.astimezone(UTC)
    date_time = (stamp.year, stamp.month, stamp.day, stamp.hour, stamp.minute, stamp.second)
    manifest: dict[str, Any] = {
        "files": [
            {"path": name, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
            for name, data in sorted(files.items())
        ]
    }
    sums = "".join(f"{item['sha256']}  {item['path']}\n" for item in manifest["files"])
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as pack:
        entries = {
            **files,
            "manifest.json": (dumps(manifest) + "\n").encode(),
            "SHA256SUMS": sums.encode(),
        }
        for name, data in sorted(entries.items()):
            info = zipfile.ZipInfo(name, date_time=date_time)
            info.compress_type = zipfile.ZIP_DEFLATED
            pack.writestr(info, data)
    return manifest
