"""Reads for the run-of-show pages: segments, products, cues, templates, copy sources,
the brand profile and the plain data of the Excel export."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from liveops.planning.exports import (
    ExportCue,
    ExportProduct,
    ExportSegment,
    RunOfShowExport,
    hms,
)
from liveops.planning.models import (
    BrandProfile,
    Cue,
    CueKind,
    LiveSession,
    RunOfShowTemplate,
    Segment,
    SegmentKind,
    SessionProduct,
)
from liveops.workspaces.models import Workspace


def ros_segments(*, session: LiveSession) -> list[Segment]:
    return list(
        session.segments.select_related("product").prefetch_related("cues").order_by("position")
    )


def ros_products(*, session: LiveSession) -> list[SessionProduct]:
    return list(session.products.order_by("position", "id"))


def segment_get(*, session: LiveSession, pk: object) -> Segment | None:
    try:
        return session.segments.filter(pk=int(str(pk))).first()
    except ValueError:
        return None


def product_get(*, session: LiveSession, pk: object) -> SessionProduct | None:
    try:
        return session.products.filter(pk=int(str(pk))).first()
    except ValueError:
        return None


def cue_get(*, session: LiveSession, pk: object) -> Cue | None:
    try:
        return Cue.objects.filter(segment__session=session, pk=int(str(pk))).first()
    except ValueError:
        return None


def template_list(*, workspace: Workspace) -> list[RunOfShowTemplate]:
    return list(RunOfShowTemplate.objects.filter(workspace=workspace).order_by("name"))


def template_get(*, workspace: Workspace, pk: object) -> RunOfShowTemplate | None:
    try:
        return RunOfShowTemplate.objects.filter(workspace=workspace, pk=int(str(pk))).first()
    except ValueError:
        return None


def copy_sources(*, session: LiveSession, limit: int = 100) -> list[LiveSession]:
    """Other sessions of the workspace that have a run-of-show, latest first."""
    return list(
        LiveSession.objects.filter(workspace_id=session.workspace_id, segments__isnull=False)
        .exclude(pk=session.pk)
        .distinct()
        .order_by("-scheduled_start", "-id")[:limit]
    )


def copy_source_get(*, session: LiveSession, pk: object) -> LiveSession | None:
    try:
        return LiveSession.objects.filter(
            workspace_id=session.workspace_id, pk=int(str(pk))
        ).first()
    except ValueError:
        return None


def brand_profile_get(*, workspace: Workspace) -> BrandProfile:
    """The saved profile, or an unsaved default one."""
    return BrandProfile.objects.filter(workspace=workspace).first() or BrandProfile(
        workspace=workspace
    )


def export_data(
    *, session: LiveSession, segments: list[Segment], products: list[SessionProduct]
) -> RunOfShowExport:
    """Plain data for the Excel export, with clock times in the active (workspace) zone."""
    start = timezone.localtime(session.scheduled_start) if session.scheduled_start else None
    kinds = dict(SegmentKind.choices)
    cue_kinds = dict(CueKind.choices)

    def at(offset: int) -> str:
        if start is None:
            return "+" + hms(offset)
        return (start + timedelta(seconds=offset)).strftime("%H:%M:%S")

    rows = []
    for s in segments:
        rows.append(
            ExportSegment(
                start=(start + timedelta(seconds=s.offset_s)).replace(tzinfo=None)
                if start
                else None,
                end=(start + timedelta(seconds=s.offset_s + s.duration_s)).replace(tzinfo=None)
                if start
                else None,
                offset_s=s.offset_s,
                duration_s=s.duration_s,
                kind=str(kinds.get(s.kind, s.kind)),
                title=s.title,
                product=s.product.name if s.product else "",
                live_price=s.product.live_price if s.product else None,
                talking_points=s.talking_points,
                host_lines=s.host_lines,
                cues=[
                    ExportCue(
                        clock=at(s.offset_s + c.at_s),
                        kind=str(cue_kinds.get(c.kind, c.kind)),
                        description=c.description,
                    )
                    for c in s.cues.all()
                ],
            )
        )
    return RunOfShowExport(
        title=session.title,
        time_zone=session.workspace.time_zone,
        segments=rows,
        products=[
            ExportProduct(
                position=p.position + 1,
                name=p.name,
                sku=p.sku,
                price=p.price,
                live_price=p.live_price,
                stock=p.stock,
                selling_points=p.selling_points,
            )
            for p in products
        ],
    )
