"""Findings about questions and comment peaks, with and without the host's replies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from liveops.reports.findings import comment_peaks, open_questions
from liveops.reports.review import Figure, MinuteSeries, WordCount

ZONE = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _series(comments: list[int], replies: list[int] | None = None) -> MinuteSeries:
    n = len(comments)
    return MinuteSeries(
        minutes=[T0 + timedelta(minutes=i) for i in range(n)],
        online=[100] * n,
        entries=[0] * n,
        exits=[0] * n,
        comments=comments,
        likes=[0] * n,
        gifts=[0] * n,
        orders=[0] * n,
        gmv=[Decimal(0)] * n,
        host_replies=replies or [],
    )


def _rate(value: float | None) -> Figure:
    shown = "—" if value is None else f"{value:.0%}"
    return Figure("answered_60s_rate", "Questions answered within 60 s", "rate", value, shown, "")


def test_comment_peaks_are_flagged_only_where_the_host_did_not_reply() -> None:
    comments = [10] * 12
    comments[3] = comments[8] = 50  # two peaks
    without = comment_peaks(_series(comments), ZONE)
    assert without is not None and without.severity == "low"  # no reply data: a hint
    replies = [0] * 12
    replies[4] = 1  # the host replied in the minute after the first peak only
    found = comment_peaks(_series(comments, replies), ZONE)
    assert found is not None and found.severity == "medium"
    assert "1" in found.title and [e[0] for e in found.evidence] == ["20:08"]
    replies[8] = 2
    assert comment_peaks(_series(comments, replies), ZONE) is None  # every peak answered


def test_open_questions_use_the_answered_share_when_known() -> None:
    asked = [WordCount("多少钱", 30), WordCount("有没有小样", 12)]
    unknown = open_questions(asked, _rate(None))
    assert unknown is not None and "account's id" in unknown.detail
    low = open_questions(asked, _rate(0.25))
    assert low is not None and low.severity == "high" and "25%" in low.title
    assert low.evidence[1] == ("多少钱", "30")
    assert open_questions(asked, _rate(0.9)) is None  # answered well: nothing to flag
    assert open_questions([], _rate(0.1)) is None
