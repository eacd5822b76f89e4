"""Reports pages: the list of reviews, the review (web), its PDF and Excel, action items."""

from __future__ import annotations

import re
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from liveops.analytics import services as analytics_services
from liveops.planning.models import LiveSession
from liveops.planning.selectors import session_get, session_list
from liveops.reports import formatting as fmt
from liveops.reports.builder import review_build, simulcast_review_build
from liveops.reports.review import Review
from liveops.workspaces.access import WorkspaceRequest, workspace_view


def _session(request: WorkspaceRequest, pk: int) -> LiveSession:
    session = session_get(workspace=request.workspace, pk=pk)
    if session is None:
        raise Http404
    return session


def _language() -> str:
    return "en" if (get_language() or "").startswith("en") else "zh-hans"


@workspace_view("reports")
def report_index(request: WorkspaceRequest) -> HttpResponse:
    from liveops.planning.models import Series

    sessions = list(
        session_list(workspace=request.workspace)
        .select_related("account", "analytics_result")
        .filter(status__in=["live", "ended", "reviewed"])[:300]
    )
    series = Series.objects.filter(workspace=request.workspace).order_by("title")
    return render(request, "reports/index.html", {"sessions": sessions, "series": series})


def _chart_data(review: Review) -> dict[str, Any]:
    """What review.js draws (plain JSON: times as epoch ms, money as numbers)."""

    def ms(value: Any) -> int:
        return int(value.timestamp() * 1000)

    s = review.series_data
    return {
        "tz": review.time_zone,
        "minutes": [ms(m) for m in s.minutes],
        "online": s.online,
        "entries": s.entries,
        "exits": s.exits,
        "comments": s.comments,
        "likes": s.likes,
        "orders": s.orders,
        "gmv": [float(v) for v in s.gmv],
        "segments": [
            {"title": b.title, "start": ms(b.planned_start), "end": ms(b.planned_end)}
            for b in review.segments
        ],
        "cues": [{"at": ms(c.at), "label": c.label} for c in review.cues],
        "retention": review.retention,
        "funnel": [{"label": f.label, "count": f.count} for f in review.funnel],
        "sources": [{"source": r.source, "entries": r.entries} for r in review.sources],
        "labels": {
            "online": _("Online"),
            "entries": _("Entries"),
            "exits": _("Exits"),
            "comments": _("Comments"),
            "likes": _("Likes"),
            "retention": _("Still watching"),
            "minute": _("minute"),
        },
    }


def _review(request: WorkspaceRequest, session: LiveSession, *, with_comments: bool) -> Review:
    """The session's review, or its simulcast's combined review with ``?view=combined``."""
    if request.GET.get("view") == "combined":
        combined = simulcast_review_build(
            session=session, language=_language(), with_comments=with_comments
        )
        if combined is None:
            raise Http404
        return combined
    return review_build(session=session, language=_language(), with_comments=with_comments)


@workspace_view("reports")
def review_page(request: WorkspaceRequest, pk: int) -> HttpResponse:
    session = _session(request, pk)
    review = _review(request, session, with_comments=False)
    members = analytics_services.simulcast_members(session=session)
    return render(
        request,
        "reports/review.html",
        {
            "session": session,
            "simulcast": members,
            "combined": request.GET.get("view") == "combined",
            "review": review,
            "chart": _chart_data(review),
            "max_segment_delta": max(
                (abs(b.delta_online or 0) for b in review.segments), default=0
            ),
        },
    )


def _stem(text: str, default: str) -> str:
    """A file-name-safe stem of a title (letters of any script, digits, . _ -)."""
    return re.sub(r"[^\w.-]+", "-", text, flags=re.UNICODE).strip("-")[:60] or default


def _filename(request: WorkspaceRequest, session: LiveSession, suffix: str) -> str:
    kind = "simulcast" if request.GET.get("view") == "combined" else "review"
    return f"{kind}-{session.pk}-{_stem(session.title, 'review')}.{suffix}"


def _attachment(content: bytes, content_type: str, filename: str) -> HttpResponse:
    from urllib.parse import quote

    response = HttpResponse(content, content_type=content_type)
    ascii_name = filename.encode("ascii", "replace").decode().replace("?", "_")
    response["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@workspace_view("reports")
def review_pdf(request: WorkspaceRequest, pk: int) -> HttpResponse:
    from liveops.reports.render import pdf

    session = _session(request, pk)
    review = _review(request, session, with_comments=True)
    return _attachment(
        pdf.render_review(review), "application/pdf", _filename(request, session, "pdf")
    )


@workspace_view("reports")
def review_xlsx(request: WorkspaceRequest, pk: int) -> HttpResponse:
    from liveops.reports.render import xlsx

    session = _session(request, pk)
    review = _review(request, session, with_comments=True)
    return _attachment(
        xlsx.render_review(review),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        _filename(request, session, "xlsx"),
    )


@workspace_view("reports")
def period_page(request: WorkspaceRequest) -> HttpResponse:
    """Weekly / monthly / series report as a page, or ``?format=pdf|xlsx`` as a file."""
    from datetime import date

    from liveops.planning.models import Series
    from liveops.reports.periodic import Kind, period_build

    kinds: dict[str, Kind] = {"week": "week", "month": "month", "series": "series"}
    kind = kinds.get(request.GET.get("kind", "week"))
    if kind is None:
        raise Http404
    series = None
    if kind == "series":
        series = Series.objects.filter(
            workspace=request.workspace, pk=request.GET.get("series") or 0
        ).first()
        if series is None:
            raise Http404
    try:
        day = date.fromisoformat(request.GET["day"]) if request.GET.get("day") else None
    except ValueError as exc:
        raise Http404 from exc
    report = period_build(
        workspace=request.workspace, kind=kind, day=day, series=series, language=_language()
    )
    stem = _stem(report.title, "report")
    file_format = request.GET.get("format")
    if file_format == "pdf":
        from liveops.reports.render import pdf

        return _attachment(pdf.render_period_report(report), "application/pdf", f"{stem}.pdf")
    if file_format == "xlsx":
        from liveops.reports.render import xlsx

        return _attachment(
            xlsx.render_period_report(report),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            f"{stem}.xlsx",
        )
    query = request.GET.copy()
    query.pop("format", None)
    if kind == "week":  # one week: a bar per session
        points = [(r.title, r.figures.get("gmv"), r.figures.get("uv"), 1) for r in report.sessions]
    else:  # a month by week, a series by month
        trend = report.weekly if kind == "month" else report.monthly
        points = [(p.period, p.figures.get("gmv"), p.figures.get("uv"), p.sessions) for p in trend]
    return render(
        request,
        "reports/period.html",
        {
            "report": report,
            "table_rows": [
                (
                    row,
                    [
                        fmt.display(
                            row.figures.get(key),
                            unit,
                            language=report.language,
                            currency=report.currency,
                        )
                        for key, _label, unit in report.columns
                    ],
                )
                for row in report.sessions
            ],
            "query": query.urlencode(),
            "kind": kind,
            "chart": {
                "periods": [p[0] for p in points],
                "gmv": [float(p[1] or 0) for p in points],
                "uv": [p[2] for p in points],
                "labels": {"gmv": "GMV", "uv": "UV"},
            },
        },
    )


@workspace_view("reports", action="change")
@require_POST
def action_create(request: WorkspaceRequest, pk: int) -> HttpResponse:
    session = _session(request, pk)
    title = (request.POST.get("title") or "").strip()
    if not title:
        messages.error(request, _("An action item needs a title."))
    else:
        analytics_services.action_item_create(
            session=session,
            title=title,
            detail=(request.POST.get("detail") or "").strip(),
            finding_key=(request.POST.get("finding_key") or "").strip(),
            by=request.user,
        )
        messages.success(request, _("Action item added."))
    return redirect(reverse("reports:review", kwargs={"ws": request.workspace.slug, "pk": pk}))
