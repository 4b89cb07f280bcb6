"""The history benchmark's builder and lookups, at a tiny size (the figures are in
docs/benchmarks.md; the full size runs by hand)."""

from __future__ import annotations

import importlib.util
import sqlite3
from pathlib import Path
from types import ModuleType

from store.db import open_db
from store.evidence import verify

BENCH = Path(__file__).parents[2] / "bench" / "bench_history.py"


def load_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_history", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bench_builds_a_verifiable_history_and_looks_it_up(tmp_path: Path) -> None:
    bench = load_bench()
    path = tmp_path / "bench.db"
    bench.build(path, 20, 6)
    with sqlite3.connect(path) as conn:
        observations = conn.execute("SELECT COUNT(*) FROM observations").fetchone()[0]
        versions = conn.execute("SELECT COUNT(*) FROM versions").fetchone()[0]
        open_versions = conn.execute(
            "SELECT COUNT(*) FROM versions WHERE valid_to IS NULL"
        ).fetchone()[0]
    assert observations == 20 * 6
    assert versions >= 20 and open_versions == 20
    db = open_db(path)
    assert verify(db).ok
    db.close()
    times = bench.measure(path, 20, 6, 10, False) + bench.measure(path, 20, 6, 5, True)
    assert len(times) == 15 and all(t > 0 for t in times)
