"""Reviews of detected changes over the API: one change by id, recording a review (with the
audit log entry), filtering changes by their review state, and the review state in JSON
(``changes --format json`` and the web application)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from amendwatch.api import Amendwatch
from amendwatch.errors import NotFoundError
from reports.models import DetectedChange
from store import auditlog, history, reviews
from store.reviews import IMPACTS, STATUSES, Review

__all__ = [
    "IMPACTS",
    "STATUSES",
    "ReviewFilter",
    "add_review_state",
    "change_by_id",
    "filter_changes",
    "record_review",
    "review_json",
]

NOT_REVIEWED = "open"  # a change nobody has reviewed yet counts as open


@dataclass(frozen=True)
class ReviewFilter:
    """Which changes to show: by review status, impact and owner ("" means any)."""

    status: str = ""
    impact: str = ""
    owner: str = ""

    def keeps(self, review: Review | None) -> bool:
        status = review.status if review else NOT_REVIEWED
        impact = (review.impact or "") if review else ""
        owner = review.owner if review else ""
        return (
            (not self.status or status == self.status)
            and (not self.impact or impact == self.impact)
            and (not self.owner or owner.casefold() == self.owner.casefold())
        )


def change_by_id(app: Amendwatch, change_id: int) -> DetectedChange:
    """One detected change, as ``changes`` shows it."""
    at = reviews.change_detected_at(app.db, change_id)
    window = history.changes_in(app.db, at, at + timedelta(microseconds=1))
    for change in window:
        if change.change_id == change_id:
            return change
    raise NotFoundError(f"no change with id {change_id}")


def record_review(
    app: Amendwatch,
    change_id: int,
    *,
    status: str,
    impact: str | None,
    owner: str,
    note: str,
    who: str,
    address: str = "",
) -> Review:
    """Record a change's new review state, and the action in the audit log."""
    review = reviews.record_review(
        app.db, change_id, status=status, impact=impact, owner=owner, note=note, who=who,
        now=app.clock(),
    )  # fmt: skip
    detail = f"status={status}; impact={impact or '-'}; owner={review.owner or '-'}"
    auditlog.log_action(
        app.db, who=who, action="review", target=f"change {change_id}", detail=detail,
        address=address, now=app.clock(),
    )  # fmt: skip
    return review


def filter_changes(
    changes: Sequence[DetectedChange], states: Mapping[int, Review], wanted: ReviewFilter
) -> tuple[DetectedChange, ...]:
    return tuple(c for c in changes if wanted.keeps(states.get(c.change_id)))


def review_json(review: Review | None) -> dict[str, Any] | None:
    """A change's review state for JSON output (None: never reviewed)."""
    if review is None:
        return None
    return {
        "status": review.status,
        "impact": review.impact,
        "owner": review.owner,
        "note": review.note,
        "reviewed_at": review.at.isoformat(),
        "reviewed_by": review.who,
    }


def add_review_state(payload: dict[str, Any], app: Amendwatch) -> dict[str, Any]:
    """``changes --format json`` with each change's ``"review"`` (None: never reviewed)."""
    ids = [int(item["change_id"]) for item in payload.get("changes", [])]
    states = reviews.latest_reviews(app.db, ids)
    for item in payload.get("changes", []):
        item["review"] = review_json(states.get(int(item["change_id"])))
    return payload
