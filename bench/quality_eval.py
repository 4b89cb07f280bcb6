"""One chapter's weeks evaluated: which truth changes were reported, when, and what else was.

The product and the truth are compared from the version the product last took in (its
*base*): a week in which the product reported a change or stored a version for the chapter
*syncs* it, and that week is judged against the truth between the base and the version served
that week. A week with a required true change and no sync leaves the change *pending* (held
back); it is judged when the product next syncs (or, never synced, counted missed at the end).
Week kinds: ``rerender`` (the base version is served again, or an identical text),
``cosmetic`` (the versions differ, but in no section's own text: whitespace, punctuation,
case, image sources), ``changed``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from quality_corpus import Doc
from quality_match import Match, Reported, heading_keys, match_week
from quality_truth import INTRO, TruthChange, heading_counts, headings, norm_title, truth_changes


@dataclass
class WeekResult:
    doc: str
    template: str
    week: int
    kind: str  # rerender | cosmetic | changed
    base: int  # version numbers compared (base -> served)
    served: int
    since: int  # the week the change was first served (< week when held back)
    truth: list[TruthChange]
    match: Match
    cosmetic: list[Reported] = field(default_factory=list)  # reported, marked cosmetic
    moves: int = 0  # renumbered / moved only, not counted
    never: bool = False  # the change was never reported (judged after the last run)

    @property
    def required(self) -> list[int]:
        """Indices of the truth changes recall counts (re-splits and stamps are optional)."""
        return [i for i, t in enumerate(self.truth) if not t.optional]

    @property
    def found(self) -> int:
        return sum(1 for i in self.required if i in self.match.found)

    @property
    def missed(self) -> list[TruthChange]:
        return [self.truth[i] for i in self.required if i not in self.match.found]

    def to_json(self) -> dict[str, Any]:
        return {
            "doc": self.doc,
            "template": self.template,
            "week": self.week,
            "since": self.since,
            "kind": self.kind,
            "versions": [self.base, self.served],
            "never_reported": self.never,
            "truth": [
                f"{t.kind} {t.title!r}" + (f" ({t.optional}, optional)" if t.optional else "")
                for t in self.truth
            ],
            "missed": [f"{t.kind} {t.title!r}" for t in self.missed],
            "true_positives": [r.label() for r in self.match.true_pos],
            "false_positives": [r.label() for r in self.match.false_pos],
            "unattributed": [r.label() for r in self.match.unattributed],
            "cosmetic_reported": [r.label() for r in self.cosmetic],
            "moves": self.moves,
        }


@dataclass
class ChapterObserved:
    """What the CLI said about one chapter: its diffs by week and the weeks it stored a version."""

    diffs: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    version_weeks: set[int] = field(default_factory=set)

    def synced(self, week: int) -> bool:
        return week in self.diffs or week in self.version_weeks


def week_kind(doc: Doc, base: int, served: int, truth: Sequence[TruthChange]) -> str:
    if base == served or doc.versions[base].markdown == doc.versions[served].markdown:
        return "rerender"
    return "changed" if truth else "cosmetic"


def _judge(
    doc: Doc, template: str, week: int, base: int, served: int, diffs: list[dict[str, Any]]
) -> WeekResult:
    old_md, new_md = doc.versions[base].markdown, doc.versions[served].markdown
    truth = list(truth_changes(old_md, new_md)) if base != served else []
    kind = week_kind(doc, base, served, truth)
    reported = [Reported.from_json(s) for d in diffs if d["kind"] != "new" for s in d["sections"]]
    match = match_week(reported, truth, heading_keys(old_md, new_md))
    numbers = doc.versions[base].n, doc.versions[served].n
    result = WeekResult(doc.id, template, week, kind, *numbers, week, truth, match)
    result.cosmetic = [r for r in reported if r.cosmetic and set(r.kinds) - {"stamp"}]
    result.moves = sum(1 for r in reported if not r.substantive and not r.cosmetic)
    return result


def _changes(doc: Doc, old: int, new: int) -> list[TruthChange]:
    """The required truth changes between two versions (what the product must report)."""
    found = truth_changes(doc.versions[old].markdown, doc.versions[new].markdown)
    return [change for change in found if not change.optional]


def evaluate_chapter(
    doc: Doc, template: str, observed: ChapterObserved, weeks: int
) -> list[WeekResult]:
    """A WeekResult for each week the chapter synced or had a change judged."""
    results: list[WeekResult] = []
    base, pending_since = doc.index_at(0), None
    for week in range(1, weeks):
        served = doc.index_at(week)
        if observed.synced(week):
            result = _judge(doc, template, week, base, served, observed.diffs.get(week, []))
            result.since = week if pending_since is None else pending_since
            results.append(result)
            base, pending_since = served, None
        elif served != base and _changes(doc, base, served):
            pending_since = week if pending_since is None else pending_since
        else:  # nothing to report: the product is right to stay silent
            if served != base:
                results.append(_judge(doc, template, week, base, served, []))
            base, pending_since = served, None
    if pending_since is not None:
        result = _judge(doc, template, weeks - 1, base, doc.index_at(weeks - 1), [])
        result.since, result.never = pending_since, True
        results.append(result)
    return results


def held_back(doc: Doc, observed: ChapterObserved, weeks: int) -> list[tuple[int, int | None]]:
    """(week, runs until the chapter synced) for every week a true change was first served;
    None when it never was."""
    found = []
    for week in range(1, weeks):
        before, now = doc.index_at(week - 1), doc.index_at(week)
        if before == now:
            continue
        if not _changes(doc, before, now):
            continue
        later = [w for w in range(week, weeks) if observed.synced(w)]
        found.append((week, later[0] - week if later else None))
    return found


@dataclass(frozen=True)
class HeadingScore:
    truth: int
    reported: int
    common: int
    missed: tuple[str, ...]
    extra: tuple[str, ...]


def heading_score(markdown: str, shown: Sequence[dict[str, Any]] | None) -> HeadingScore:
    """Markdown headings of a version vs the section titles `show --format json` gave for it
    (the product's own introduction left out)."""
    truth = heading_counts(headings(markdown))
    titles = [str(s.get("title") or s.get("number") or "") for s in shown or ()]
    product = heading_counts(titles)
    intro = norm_title(INTRO)
    if shown and shown[0].get("title") == INTRO and product[intro] > truth[intro]:
        product[intro] -= 1
    product = +product
    common = truth & product
    return HeadingScore(
        sum(truth.values()),
        sum(product.values()),
        sum(common.values()),
        tuple(sorted((truth - product).elements())),
        tuple(sorted((product - truth).elements())),
    )
