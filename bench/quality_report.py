"""The quality benchmark's figures: aggregated per template and overall, checked against the
targets of issue 13, printed as a table with the worst cases listed."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from quality_eval import HeadingScore, WeekResult


@dataclass(frozen=True)
class HeldBack:
    doc: str
    template: str
    week: int
    runs: int | None  # None: never reported


@dataclass
class Discovery:
    listed: int = 0
    watched: int = 0
    missed: list[str] = field(default_factory=list)  # listed, never watched or never a version
    phantom: list[str] = field(default_factory=list)  # watched, not a listed chapter
    phantom_changes: int = 0


@dataclass(frozen=True)
class Suspect:
    doc: str
    template: str
    longest: int  # consecutive weekly runs suspect or failed
    left: bool  # still so at the last run
    reason: str


@dataclass
class Outcome:
    weeks: list[WeekResult] = field(default_factory=list)  # of the chapters watched
    dropped: list[WeekResult] = field(default_factory=list)  # of the chapters never watched
    held: list[HeldBack] = field(default_factory=list)
    headings: list[tuple[str, str, HeadingScore]] = field(default_factory=list)
    discovery: dict[str, Discovery] = field(default_factory=dict)
    suspects: list[Suspect] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else 1.0


@dataclass
class Figures:
    truth: int = 0
    found: int = 0
    truth_dropped: int = 0  # truth changes of chapters never watched
    optional: int = 0  # truth changes recall does not require (re-splits, stamps)
    optional_found: int = 0
    reported: int = 0
    true_pos: int = 0
    false_pos: int = 0
    unattributed: int = 0
    cosmetic_reported: int = 0
    rerender_alarms: int = 0
    cosmetic_pairs: int = 0
    cosmetic_pair_sections: int = 0
    headings_truth: int = 0
    headings_reported: int = 0
    headings_common: int = 0
    listed: int = 0
    watched: int = 0
    missed: int = 0
    phantom: int = 0
    held_max: int = 0
    never: int = 0
    suspect_left: int = 0

    @property
    def recall(self) -> float:
        return _ratio(self.found, self.truth)

    @property
    def recall_all(self) -> float:
        return _ratio(self.found, self.truth + self.truth_dropped)

    @property
    def precision(self) -> float:
        return _ratio(self.true_pos, self.true_pos + self.false_pos)

    @property
    def heading_recall(self) -> float:
        return _ratio(self.headings_common, self.headings_truth)

    @property
    def heading_precision(self) -> float:
        return _ratio(self.headings_common, self.headings_reported)


def _add_week(fig: Figures, week: WeekResult) -> None:
    fig.truth += len(week.required)
    fig.found += week.found
    fig.optional += len(week.truth) - len(week.required)
    fig.optional_found += len(week.match.found - set(week.required))
    fig.true_pos += len(week.match.true_pos)
    fig.false_pos += len(week.match.false_pos)
    fig.unattributed += len(week.match.unattributed)
    fig.reported += sum(map(len, (week.match.true_pos, week.match.false_pos)))
    fig.reported += len(week.match.unattributed)
    fig.cosmetic_reported += len(week.cosmetic)
    if week.kind == "rerender":
        fig.rerender_alarms += len(week.match.false_pos)
    if week.kind == "cosmetic":
        fig.cosmetic_pairs += 1
        fig.cosmetic_pair_sections += len(week.match.false_pos)


def figures(outcome: Outcome, template: str | None) -> Figures:
    """The figures of one template (None: all)."""
    fig = Figures()
    for week in outcome.weeks:
        if template in (None, week.template):
            _add_week(fig, week)
    fig.truth_dropped = sum(
        len(w.required) for w in outcome.dropped if template in (None, w.template)
    )
    for _, name, score in outcome.headings:
        if template in (None, name):
            fig.headings_truth += score.truth
            fig.headings_reported += score.reported
            fig.headings_common += score.common
    for name, found in outcome.discovery.items():
        if template in (None, name):
            fig.listed += found.listed
            fig.watched += found.watched
            fig.missed += len(found.missed)
            fig.phantom += len(found.phantom)
    held = [h for h in outcome.held if template in (None, h.template)]
    fig.held_max = max((h.runs for h in held if h.runs is not None), default=0)
    fig.never = sum(1 for h in held if h.runs is None)
    fig.suspect_left = sum(1 for s in outcome.suspects if s.left and template in (None, s.template))
    return fig


Row = tuple[str, Callable[[Figures], str], str, Callable[[Figures], bool] | None]

ROWS: list[Row] = [
    (
        "section recall (chapters watched)",
        lambda f: (
            f"{f.recall:.3f} ({f.found}/{f.truth}; {f.optional} optional, {f.optional_found} found)"
        ),
        "≥ 0.98",
        lambda f: f.recall >= 0.98,
    ),
    (
        "section recall (all listed chapters)",
        lambda f: f"{f.recall_all:.3f} ({f.found}/{f.truth + f.truth_dropped})",
        "—",
        None,
    ),
    (
        "section precision",
        lambda f: f"{f.precision:.3f} ({f.true_pos}/{f.true_pos + f.false_pos})",
        "≥ 0.98",
        lambda f: f.precision >= 0.98,
    ),
    ("reported: unattributed (not in precision)", lambda f: str(f.unattributed), "—", None),
    ("reported as cosmetic (not counted)", lambda f: str(f.cosmetic_reported), "—", None),
    (
        "false alarms on re-renders",
        lambda f: str(f.rerender_alarms),
        "0",
        lambda f: f.rerender_alarms == 0,
    ),
    (
        "sections reported on cosmetic-only pairs",
        lambda f: f"{f.cosmetic_pair_sections} ({f.cosmetic_pairs} pairs)",
        "≤ 3",
        lambda f: f.cosmetic_pair_sections <= 3,
    ),
    (
        "heading recall",
        lambda f: f"{f.heading_recall:.3f} ({f.headings_common}/{f.headings_truth})",
        "≥ 0.99",
        lambda f: f.heading_recall >= 0.99,
    ),
    (
        "heading precision",
        lambda f: f"{f.heading_precision:.3f} ({f.headings_common}/{f.headings_reported})",
        "—",
        None,
    ),
    (
        "listed chapters dropped (never watched / no version)",
        lambda f: f"{f.missed} of {f.listed}",
        "0",
        lambda f: f.missed == 0,
    ),
    ("phantom chapters", lambda f: str(f.phantom), "0", lambda f: f.phantom == 0),
    (
        "longest held-back change (runs)",
        lambda f: str(f.held_max) + (f", {f.never} never reported" if f.never else ""),
        "≤ 1",
        lambda f: f.held_max <= 1 and f.never == 0,
    ),
    (
        "chapters left suspect at the end",
        lambda f: str(f.suspect_left),
        "0",
        lambda f: f.suspect_left == 0,
    ),
]


def table(scopes: dict[str, Figures]) -> str:
    """A Markdown table: one row per figure, one column per scope, then the target."""
    head = "| measure | " + " | ".join(scopes) + " | target |"
    lines = [head, "|---|" + "---|" * len(scopes) + "---|"]
    for name, show, target, _ in ROWS:
        cells = " | ".join(show(fig) for fig in scopes.values())
        lines.append(f"| {name} | {cells} | {target} |")
    return "\n".join(lines)


def missed_targets(overall: Figures) -> list[str]:
    return [
        f"TARGET MISSED: {name}: {show(overall)} (target {target})"
        for name, show, target, met in ROWS
        if met is not None and not met(overall)
    ]


def _where(week: WeekResult) -> str:
    late = f", served week {week.since}" if week.since != week.week else ""
    never = ", never reported" if week.never else ""
    return (
        f"week {week.week}{late}{never}, {week.doc} [{week.template}] "
        f"v{week.base}→v{week.served} ({week.kind})"
    )


def worst_misses(outcome: Outcome, limit: int = 10) -> list[str]:
    """Misses from the documents that miss most first, each with what was reported instead."""
    per_doc = Counter(w.doc for w in outcome.weeks for _ in w.missed)
    weeks = sorted((w for w in outcome.weeks if w.missed), key=lambda w: (-per_doc[w.doc], w.week))
    lines = []
    for week in weeks:
        instead = [r.label() for r in week.match.false_pos + week.match.unattributed][:2]
        for item in week.missed:
            text = f"{_where(week)}: {item.kind} {item.title!r}"
            lines.append(text + (f"; reported instead: {'; '.join(instead)}" if instead else ""))
    return lines[:limit]


def worst_alarms(outcome: Outcome, limit: int = 10) -> list[str]:
    per_doc = Counter(w.doc for w in outcome.weeks for _ in w.match.false_pos)
    weeks = sorted(
        (w for w in outcome.weeks if w.match.false_pos), key=lambda w: (-per_doc[w.doc], w.week)
    )
    lines = [f"{_where(w)}: {r.label()}" for w in weeks for r in w.match.false_pos]
    return lines[:limit]


def patterns(outcome: Outcome, limit: int = 8) -> list[str]:
    """What the false positives and misses have in common (titles, week kinds, change kinds)."""
    titles = Counter(r.title for w in outcome.weeks for r in w.match.false_pos)
    kinds = Counter(w.kind for w in outcome.weeks for _ in w.match.false_pos)
    missed = Counter(t.kind for w in outcome.weeks for t in w.missed)
    silent = sum(1 for w in outcome.weeks if w.missed and not w.match.true_pos)
    return [
        "false positives by title: "
        + ", ".join(f"{t!r} ×{n}" for t, n in titles.most_common(limit)),
        "false positives by week kind: " + ", ".join(f"{k} ×{n}" for k, n in kinds.items()),
        "misses by truth kind: "
        + ", ".join(f"{k} ×{n}" for k, n in missed.items())
        + f"; chapter-weeks with misses and nothing matched: {silent}",
    ]
