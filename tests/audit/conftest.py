"""A real database for the audit tests: the demo manual served on loopback (static bodies,
so repeated captures are byte-identical) snapshotted through the CLI at several ``--at`` dates."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from amendwatch.cli import cli
from amendwatch.demo.server import DemoServer

AT1 = "2026-11-02T09:00:00+00:00"
AT1B = "2026-11-03T09:00:00+00:00"  # edition 1 again: unchanged, identical bodies
AT2 = "2026-11-09T09:00:00+00:00"
AT3 = "2026-11-16T09:00:00+00:00"
AT4 = "2026-11-23T09:00:00+00:00"  # edition 3 again: the removal is confirmed


def run(db: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--db", str(db), *args], catch_exceptions=False)


def build(path: Path, *, validators: bool = False) -> Path:
    with DemoServer(validators=validators, dynamic=False) as server:
        added = run(path, "manual", "add", "northmoor", f"{server.base_url}/")
        assert added.exit_code == 0, added.output
        for edition, at in ((1, AT1), (1, AT1B), (2, AT2), (3, AT3), (3, AT4)):
            server.set_edition(edition)
            result = run(path, "snapshot", "--at", at)
            assert result.exit_code == 0, result.output
    return path


@pytest.fixture(scope="session")
def built_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("audit") / "aw.db")


@pytest.fixture
def db_copy(built_db: Path, tmp_path: Path) -> Iterator[Path]:
    """A private copy of the built database, for tests that change it."""
    target = tmp_path / "copy.db"
    shutil.copyfile(built_db, target)
    yield target
