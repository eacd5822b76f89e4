"""Rule-based findings (发现问题和改进方案): each with its evidence and the chart it comes from.

Rules read the review's plain data only (figures with their comparisons, minute series,
segments, products, sources, questions), so they are easy to test and to extend. Every
rule stays silent when the data it needs is not available: a finding is never invented.
"""

from __future__ import annotations

import statistics
from datetime import datetime
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from liveops.reports import formatting as fmt
from liveops.reports.review import (
    Figure,
    Finding,
    MinuteSeries,
    ProductRow,
    SegmentBand,
    SourceRow,
    WordCount,
)

DROP_WINDOW = 5  # minutes over which an online drop is measured
PEAK_FACTOR = 3.0  # a comment peak: this many times the median comments per minute
ANSWERED_OK = 0.8  # below this share of questions answered within 60 s: a finding


def _hm(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%H:%M")


def steepest_drop(
    series: MinuteSeries, segments: list[SegmentBand], zone: ZoneInfo
) -> Finding | None:
    online = series.online
    best: tuple[float, int] | None = None
    for i in range(len(online) - DROP_WINDOW):
        a, b = online[i], online[i + DROP_WINDOW]
        if a is None or b is None or a <= 0:
            continue
        drop = float(a - b)
        if drop > 0 and (best is None or drop > best[0]):
            best = (drop, i)
    if best is None:
        return None
    drop, i = best
    start, end = series.minutes[i], series.minutes[i + DROP_WINDOW]
    before, after = online[i], online[i + DROP_WINDOW]
    assert before is not None and after is not None
    share = drop / before
    if share < 0.1 or drop < 5:
        return None
    inside = next((s for s in segments if s.planned_start <= start < s.planned_end), None)
    where = inside.title if inside is not None else _("outside the run-of-show")
    return Finding(
        key="steepest_drop",
        severity="high" if share >= 0.3 else "medium",
        title=_("Steepest online drop: −%(share)s in %(minutes)s minutes")
        % {"share": fmt.rate(share), "minutes": DROP_WINDOW},
        detail=_(
            "Online fell from %(before)s to %(after)s between %(start)s and %(end)s, "
            "during “%(segment)s”."
        )
        % {
            "before": int(before),
            "after": int(after),
            "start": _hm(start, zone),
            "end": _hm(end, zone),
            "segment": where,
        },
        suggestion=_(
            "Watch the replay of these minutes: shorten or move this part, add an interaction "
            "(lucky draw, question) before it, or bring a stronger product forward."
        ),
        evidence=[
            (_("Online before"), str(int(before))),
            (_("Online after"), str(int(after))),
            (_("Segment"), where),
        ],
        chart="online",
    )


def overran(segments: list[SegmentBand]) -> list[Finding]:
    found = []
    for s in segments:
        if s.actual_s is None or s.planned_s <= 0 or s.actual_s <= s.planned_s * 1.1:
            continue
        found.append(
            Finding(
                key=f"overran_{s.position}",
                severity="medium",
                title=_("Segment “%(title)s” overran by %(over)s")
                % {"title": s.title, "over": fmt.seconds(s.actual_s - s.planned_s)},
                detail=_("Planned %(planned)s, took %(actual)s.")
                % {"planned": fmt.seconds(s.planned_s), "actual": fmt.seconds(s.actual_s)},
                suggestion=_("Trim the talking points or plan the time this segment really needs."),
                evidence=[
                    (pgettext("segment duration", "Planned"), fmt.seconds(s.planned_s)),
                    (_("Actual"), fmt.seconds(s.actual_s)),
                ],
                chart="segments",
            )
        )
    return found


def below_median(figure: Figure | None, key: str, suggestion: str) -> Finding | None:
    if figure is None or figure.value is None or figure.median_30d is None:
        return None
    if float(figure.median_30d) <= 0 or float(figure.value) >= float(figure.median_30d) * 0.9:
        return None
    return Finding(
        key=key,
        severity="medium",
        title=_("%(label)s below the 30-day median") % {"label": figure.label},
        detail=_("%(label)s was %(value)s against a median of %(median)s over the last 30 days.")
        % {
            "label": figure.label,
            "value": figure.display,
            "median": fmt.rate(figure.median_30d)
            if figure.unit == "rate"
            else str(figure.median_30d),
        },
        suggestion=suggestion,
        evidence=[
            (figure.label, figure.display),
            (_("30-day median"), fmt.rate(figure.median_30d) if figure.unit == "rate" else ""),
        ],
        chart="kpis",
    )


def comment_peaks(series: MinuteSeries, zone: ZoneInfo) -> Finding | None:
    values = [c for c in series.comments if c is not None]
    if len(values) < 10:
        return None
    usual = statistics.median(values)
    threshold = max(10.0, usual * PEAK_FACTOR)
    peaks = [
        (i, series.minutes[i], c)
        for i, c in enumerate(series.comments)
        if c is not None and c >= threshold
    ]
    if not peaks:
        return None
    factor = {"factor": int(PEAK_FACTOR), "usual": int(usual)}
    replies = series.host_replies
    severity: Literal["high", "medium", "low"]
    if replies:
        # flag only the peaks with no host reply in chat in that minute or the next
        peaks = [p for p in peaks if sum(replies[p[0] : p[0] + 2]) == 0]
        if not peaks:
            return None
        severity = "medium"
        title = _("%(n)s comment peaks without a host reply") % {"n": len(peaks)}
        detail = _(
            "Minutes with at least %(factor)s× the usual %(usual)s comments per minute, "
            "and no reply from the host account in chat in that minute or the next."
        )
    else:
        severity = "low"
        title = _("%(n)s comment peaks") % {"n": len(peaks)}
        detail = _(
            "Minutes with at least %(factor)s× the usual %(usual)s comments per minute: "
            "viewers were asking or reacting. Check in the replay that the host picked it up."
        )
    top = sorted(peaks, key=lambda p: -p[2])[:3]
    return Finding(
        key="comment_peaks",
        severity=severity,
        title=title,
        detail=detail % factor,
        suggestion=_("Give the field controller a cue to read out questions when comments spike."),
        evidence=[(_hm(m, zone), str(c)) for _, m, c in top],
        chart="interaction",
    )


def open_questions(questions: list[WordCount], answered: Figure | None = None) -> Finding | None:
    if not questions:
        return None
    asked = sum(q.count for q in questions)
    evidence = [(q.word[:60], str(q.count)) for q in questions[:5]]
    suggestion = _("Add the most asked questions to the FAQ and the host's talking points.")
    if answered is not None and isinstance(answered.value, float):
        if answered.value >= ANSWERED_OK:
            return None
        return Finding(
            key="open_questions",
            severity="high" if answered.value < ANSWERED_OK / 2 else "medium",
            title=_("Only %(share)s of questions answered within 60 s")
            % {"share": answered.display},
            detail=_(
                "Questions in the comments that got no reply from the host account in chat "
                "within 60 s were left open; the most asked are listed here."
            ),
            suggestion=suggestion,
            evidence=[(str(answered.label), answered.display), *evidence],
            chart="questions",
        )
    return Finding(
        key="open_questions",
        severity="medium" if asked >= 20 else "low",
        title=_("%(n)s questions asked %(times)s times") % {"n": len(questions), "times": asked},
        detail=_(
            "Answers are not recorded (set the platform account's id so LiveOps can tell the "
            "host's replies in chat), so LiveOps cannot tell which were answered; the most "
            "asked are listed here."
        ),
        suggestion=suggestion,
        evidence=evidence,
        chart="questions",
    )


def gpm_falling(products: list[ProductRow], previous: dict[str, Decimal]) -> list[Finding]:
    found = []
    for p in products:
        before = previous.get(p.product_id)
        if p.gpm is None or before is None or before <= 0 or p.gpm >= before * Decimal("0.8"):
            continue
        found.append(
            Finding(
                key=f"gpm_{p.product_id}"[:60],
                severity="medium",
                title=_("GPM of “%(name)s” fell %(share)s")
                % {"name": p.name, "share": fmt.rate(1 - float(p.gpm / before))},
                detail=_("%(now)s per thousand views against %(before)s in the previous session.")
                % {"now": p.gpm, "before": before},
                suggestion=_("Revisit its price, explanation order or selling points."),
                evidence=[(_("GPM"), str(p.gpm)), (_("Previous GPM"), str(before))],
                chart="products",
            )
        )
    return found


def source_shift(sources: list[SourceRow], previous: dict[str, float]) -> Finding | None:
    if not sources or not previous:
        return None
    moves = []
    for s in sources:
        delta = s.share - previous.get(s.source, 0.0)
        if abs(delta) >= 0.1:
            moves.append((s.source, delta))
    if not moves:
        return None
    moves.sort(key=lambda m: -abs(m[1]))
    return Finding(
        key="source_shift",
        severity="low",
        title=_("Traffic sources shifted"),
        detail=_("Shares of entries moved by 10 points or more against the previous session."),
        suggestion=_("Check what changed in promotion and recommendation before the live."),
        evidence=[(src, f"{delta * 100:+.1f} pt") for src, delta in moves[:4]],
        chart="sources",
    )


def all_findings(
    *,
    figures: dict[str, Figure],
    series: MinuteSeries,
    segments: list[SegmentBand],
    products: list[ProductRow],
    previous_gpm: dict[str, Decimal],
    sources: list[SourceRow],
    previous_sources: dict[str, float],
    questions: list[WordCount],
    zone: ZoneInfo,
) -> list[Finding]:
    found: list[Finding | None] = [
        steepest_drop(series, segments, zone),
        *overran(segments),
        below_median(
            figures.get("interaction_rate"),
            "low_interaction",
            _("Plan more calls to action: questions, polls, lucky draws tied to comments."),
        ),
        below_median(
            figures.get("stay_1min_rate"),
            "low_stay",
            _("Work on the first minute: a clear hook, the offer on screen, a greeting."),
        ),
        *gpm_falling(products, previous_gpm),
        comment_peaks(series, zone),
        open_questions(questions, figures.get("answered_60s_rate")),
        source_shift(sources, previous_sources),
    ]
    order = {"high": 0, "medium": 1, "low": 2}
    return sorted((f for f in found if f is not None), key=lambda f: order[f.severity])
