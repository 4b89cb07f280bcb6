"""`amendwatch demo` end to end: drafts per edition against what docs/EDITIONS.md says by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner

from amendwatch.cli import cli

# Written by hand from amendwatch/demo/site/EDITIONS.md before the drafts were generated:
# (category, chapter) -> phrases its drafted details must contain.
EXPECTED = {
    2: {
        ("updated", "Initial Child Protection Conferences"): [
            "10 working days",
            "(see Section 4, Conference Timescales)",
            "A new Section 5, Pre-birth Conferences has been added.",
            "Section 8, Information for the Conference",
            "immigration status",
        ],
        ("updated", "Domestic Abuse"): [
            "A link has been added to Domestic Abuse: How to Get Help (GOV.UK)",
            "(see Further Information)",
            "Domestic Violence Disclosure Scheme",
            "(see Related Guidance)",
        ],
    },
    3: {
        ("new", "Harmful Sexual Behaviour"): ["sexual behaviour"],
        ("updated", "Keeping Children Safe around Dogs"): [
            "renamed from 'Safeguarding Children from Dangerous Dogs' to "
            "'Keeping Children Safe around Dogs'"
        ],
        ("updated", "Child Protection Review Conferences"): [
            "5 working days (increased from 3)",
            "(see Section 3, Reports for the Conference)",
        ],
        ("removed", "Visiting of Psychiatric Patients by Children"): ["has been removed"],
    },
}


@pytest.fixture(scope="module")
def demo_output(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("demo")
    result = CliRunner().invoke(cli, ["demo", "--output", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return out, result.output


@pytest.mark.parametrize("edition", [2, 3])
def test_drafts_per_edition_match_the_hand_written_expectations(
    demo_output: tuple[Path, str], edition: int
) -> None:
    out, _ = demo_output
    html = (out / f"drafts-edition-{edition}.html").read_text()
    soup = BeautifulSoup(html, "html.parser")
    rows = {}
    for table in soup.find_all("table"):
        heading = table.find_previous(["h3", "h2"]).get_text(" ", strip=True)
        category = (
            "new" if heading.startswith("New") else "removed" if "Removed" in heading else "updated"
        )
        for row in table.find_all("tr"):
            cells = row.find_all("td")
            if len(cells) == 2:
                rows[(category, cells[0].get_text(" ", strip=True))] = cells[1].get_text(
                    " ", strip=True
                )
    assert set(rows) == set(EXPECTED[edition])
    for key, phrases in EXPECTED[edition].items():
        for phrase in phrases:
            assert phrase in rows[key], (key, phrase, rows[key])


def test_cosmetic_chapter_gets_no_entry(demo_output: tuple[Path, str]) -> None:
    out, _ = demo_output
    assert "Agency Roles" not in (out / "drafts-edition-2.md").read_text()


def test_summary_prints_sections_and_paths(demo_output: tuple[Path, str]) -> None:
    out, printed = demo_output
    assert "Section 4, Conference Timescales" in printed
    for name in ("drafts-edition-2.html", "report-edition-2.html", "report-edition-3.md"):
        assert str(out / name) in printed
        assert (out / name).stat().st_size > 500


def test_report_reconciles_with_the_publishers_amendments_page(
    demo_output: tuple[Path, str],
) -> None:
    out, _ = demo_output
    result = CliRunner().invoke(
        cli,
        [
            "--db",
            str(out / "amendwatch.db"),
            "report",
            "--since",
            "2026-11-01",
            "--until",
            "2026-11-30",
            "--format",
            "json",
        ],
    )
    data = json.loads(result.output)
    (rec,) = data["reconciliations"]
    matched = {m["chapter"] for m in rec["matched"]}
    assert "Initial Child Protection Conferences" in matched
    # declared, but nothing happened
    assert [d["chapter"] for d in rec["declared_only"]] == [
        "Information Sharing and Confidentiality"
    ]
    # happened, but not declared: the removal
    silent = {c["change_id"]: c for c in data["changes"]}
    assert [silent[i]["chapter_title"] for i in rec["detected_only"]] == [
        "Visiting of Psychiatric Patients by Children"
    ]
