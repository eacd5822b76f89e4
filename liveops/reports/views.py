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
from liveops.reports.builder import review_build
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
    sessions = list(
        session_list(workspace=request.workspace)
        .select_related("account", "analytics_result")
        .filter(status__in=["live", "ended", "reviewed"])[:300]
    )
    return render(request, "reports/index.html", {"sessions": sessions})


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


@workspace_view("reports")
def review_page(request: WorkspaceRequest, pk: int) -> HttpResponse:
    session = _session(request, pk)
    review = review_build(session=session, language=_language())
    return render(
        request,
        "reports/review.html",
        {
            "session": session,
            "review": review,
            "chart": _chart_data(review),
            "max_segment_delta": max(
                (abs(b.delta_online or 0) for b in review.segments), default=0
            ),
        },
    )


def _filename(session: LiveSession, suffix: str) -> str:
    stem = re.sub(r"[^\w.-]+", "-", session.title, flags=re.UNICODE).strip("-")[:60] or "review"
    return f"review-{session.pk}-{stem}.{suffix}"


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
    review = review_build(session=session, language=_language())
    return _attachment(pdf.render_review(review), "application/pdf", _filename(session, "pdf"))


@workspace_view("reports")
def review_xlsx(request: WorkspaceRequest, pk: int) -> HttpResponse:
    from liveops.reports.render import xlsx

    session = _session(request, pk)
    review = review_build(session=session, language=_language())
    return _attachment(
        xlsx.render_review(review),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        _filename(session, "xlsx"),
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
