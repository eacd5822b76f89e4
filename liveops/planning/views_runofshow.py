"""Pages of a session's products lineup and run-of-show, templates and the brand profile.

Views translate: they parse a form, call one service from ``runofshow`` and render. Item
ids travel in the POST body (``product_id``, ``segment_id``, ``cue_id``, ``template_id``)
and are looked up inside the session of the URL, which is looked up inside the workspace.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from liveops.core.forms import attach_service_errors
from liveops.planning import exports, runofshow, runofshow_queries, selectors, taboo
from liveops.planning.exports import hms
from liveops.planning.forms_runofshow import (
    BrandProfileForm,
    CopyForm,
    CueForm,
    ProductForm,
    SegmentForm,
    TemplateApplyForm,
    TemplateSaveForm,
    personas_to_text,
)
from liveops.planning.models import LiveSession, Segment, SessionProduct
from liveops.workspaces.access import WorkspaceRequest, workspace_view


def _session(request: WorkspaceRequest, pk: int) -> LiveSession:
    session = selectors.session_get(workspace=request.workspace, pk=pk)
    if session is None:
        raise Http404
    return session


def _editor_url(request: WorkspaceRequest, session: LiveSession, anchor: str = "") -> str:
    url = reverse("planning:ros_detail", kwargs={"ws": request.workspace.slug, "pk": session.pk})
    return f"{url}#{anchor}" if anchor else url


def _terms(request: WorkspaceRequest) -> list[taboo.Term]:
    profile = runofshow_queries.brand_profile_get(workspace=request.workspace)
    return taboo.terms_for(custom=profile.taboo_words, use_builtin=profile.use_builtin_taboo)


def _checked(text: str, terms: list[taboo.Term]) -> dict[str, Any]:
    matches = taboo.find(text, terms)
    return {"html": taboo.highlight(text, matches), "warnings": matches}


class _Clock:
    """Offsets as clock times in the workspace zone (or +H:MM:SS with no planned start)."""

    def __init__(self, session: LiveSession) -> None:
        self.start: datetime | None = (
            timezone.localtime(session.scheduled_start) if session.scheduled_start else None
        )

    def __call__(self, offset: int) -> str:
        if self.start is None:
            return "+" + hms(offset)
        return (self.start + timedelta(seconds=offset)).strftime("%H:%M:%S")


def _segment_initial(seg: Segment, gap: int) -> dict[str, Any]:
    return {
        "title": seg.title,
        "kind": seg.kind,
        "duration_s": seg.duration_s,
        "offset_s": seg.offset_s if gap else None,
        "product": seg.product_id,
        "talking_points": seg.talking_points,
        "host_lines": seg.host_lines,
    }


def _product_initial(p: SessionProduct) -> dict[str, Any]:
    return {
        "name": p.name,
        "sku": p.sku,
        "price": p.price,
        "live_price": p.live_price,
        "stock": p.stock,
        "selling_points": p.selling_points,
    }


def _summary(session: LiveSession, segments: list[Segment]) -> dict[str, Any]:
    total = max((s.offset_s + s.duration_s for s in segments), default=0)
    limit = runofshow.session_duration_s(session)
    return {
        "total": hms(total),
        "limit": hms(limit) if limit is not None else None,
        "over": hms(total - limit) if limit is not None and total > limit else None,
        "left": hms(limit - total) if limit is not None and total <= limit else None,
    }


def _editor(
    request: WorkspaceRequest,
    session: LiveSession,
    bound: dict[str, forms.Form] | None = None,
    status: int = 200,
) -> HttpResponse:
    """The editor page; ``bound`` carries a submitted form with errors, by prefix."""
    bound = bound or {}
    segments = runofshow_queries.ros_segments(session=session)
    products = runofshow_queries.ros_products(session=session)
    products_qs = session.products.all()
    terms = _terms(request)
    clock = _Clock(session)
    rows = []
    end = 0
    for seg in segments:
        gap = max(seg.offset_s - end, 0)
        end = seg.offset_s + seg.duration_s
        prefix = f"seg{seg.pk}"
        rows.append(
            {
                "seg": seg,
                "gap": hms(gap) if gap else "",
                "start": clock(seg.offset_s),
                "end": clock(seg.offset_s + seg.duration_s),
                "offset": hms(seg.offset_s),
                "duration": hms(seg.duration_s),
                "talking": _checked(seg.talking_points, terms),
                "host": _checked(seg.host_lines, terms),
                "form": bound.get(prefix)
                or SegmentForm(
                    prefix=prefix, initial=_segment_initial(seg, gap), products=products_qs
                ),
                "open": prefix in bound,
                "cue_form": bound.get(f"newcue{seg.pk}") or CueForm(prefix=f"newcue{seg.pk}"),
                "cue_open": f"newcue{seg.pk}" in bound,
                "cues": [
                    {
                        "cue": c,
                        "clock": clock(seg.offset_s + c.at_s),
                        "at": hms(c.at_s),
                        "form": bound.get(f"cue{c.pk}")
                        or CueForm(
                            prefix=f"cue{c.pk}",
                            initial={"at_s": c.at_s, "kind": c.kind, "description": c.description},
                        ),
                        "open": f"cue{c.pk}" in bound,
                    }
                    for c in seg.cues.all()
                ],
            }
        )
    product_rows = [
        {
            "p": p,
            "selling": _checked(p.selling_points, terms),
            "form": bound.get(f"prod{p.pk}")
            or ProductForm(prefix=f"prod{p.pk}", initial=_product_initial(p)),
            "open": f"prod{p.pk}" in bound,
        }
        for p in products
    ]
    templates = runofshow_queries.template_list(workspace=request.workspace)
    sources = runofshow_queries.copy_sources(session=session)
    context = {
        "session": session,
        "start_local": clock.start,
        "end_local": timezone.localtime(session.scheduled_end) if session.scheduled_end else None,
        "rows": rows,
        "product_rows": product_rows,
        "summary": _summary(session, segments),
        "new_segment_form": bound.get("newseg")
        or SegmentForm(prefix="newseg", products=products_qs),
        "new_segment_open": "newseg" in bound,
        "new_product_form": bound.get("newprod") or ProductForm(prefix="newprod"),
        "new_product_open": "newprod" in bound,
        "template_save_form": bound.get("tplsave") or TemplateSaveForm(prefix="tplsave"),
        "template_apply_form": bound.get("tplapply")
        or TemplateApplyForm(prefix="tplapply", templates=templates),
        "copy_form": bound.get("copy") or CopyForm(prefix="copy", sources=sources),
        "has_templates": bool(templates),
        "has_sources": bool(sources),
        "bound_any": bool(bound),
    }
    return render(request, "planning/runofshow/editor.html", context, status=status)


@workspace_view("plan")
def ros_detail(request: WorkspaceRequest, pk: int) -> HttpResponse:
    return _editor(request, _session(request, pk))


# --- Products ---------------------------------------------------------------------------


@workspace_view("plan", action="change")
def product_save(request: WorkspaceRequest, pk: int) -> HttpResponse:
    session = _session(request, pk)
    product_id = request.POST.get("product_id")
    product = None
    if product_id:
        product = runofshow_queries.product_get(session=session, pk=product_id)
        if product is None:
            raise Http404
    prefix = f"prod{product.pk}" if product else "newprod"
    form = ProductForm(request.POST, prefix=prefix)
    if form.is_valid():
        try:
            if product:
                runofshow.product_update(product=product, by=request.user, **form.cleaned_data)
            else:
                product = runofshow.product_create(
                    session=session, by=request.user, **form.cleaned_data
                )
        except ValidationError as exc:
            attach_service_errors(form, exc)
        else:
            messages.success(request, _("Product “%(name)s” saved.") % {"name": product.name})
            return redirect(_editor_url(request, session, "products"))
    return _editor(request, session, {prefix: form})


@workspace_view("plan", action="change")
def product_delete(request: WorkspaceRequest, pk: int) -> HttpResponse:
    session = _session(request, pk)
    product = runofshow_queries.product_get(session=session, pk=request.POST.get("product_id", ""))
    if product is None:
        messages.error(request, _("That product no longer exists."))
    else:
        runofshow.product_delete(product=product, by=request.user)
        messages.success(request, _("Product “%(name)s” deleted.") % {"name": product.name})
    return redirect(_editor_url(request, session, "products"))


def _order(request: WorkspaceRequest) -> list[int] | None:
    """The new order from a JSON body {"order": [ids]} or a form field order=1,2,3."""
    try:
        if request.content_type == "application/json":
            raw = json.loads(request.body or b"{}").get("order", [])
        else:
            raw = [x for x in request.POST.get("order", "").split(",") if x.strip()]
        return [int(x) for x in raw]
    except (ValueError, TypeError, AttributeError):
        return None


def _reorder_response(request: WorkspaceRequest, session: LiveSession, exc: Any) -> JsonResponse:
    if exc is not None:
        return JsonResponse({"ok": False, "error": " ".join(exc.messages)}, status=400)
    clock = _Clock(session)
    times = {
        str(s.pk): {
            "start": clock(s.offset_s),
            "end": clock(s.offset_s + s.duration_s),
            "offset": hms(s.offset_s),
            "cues": {str(c.pk): clock(s.offset_s + c.at_s) for c in s.cues.all()},
        }
        for s in session.segments.prefetch_related("cues")
    }
    return JsonResponse({"ok": True, "times": times})


def _reorder(request: WorkspaceRequest, pk: int, service: Callable[..., None]) -> HttpResponse:
    """Drag and drop posts the new order of ids; the service checks and saves it."""
    session = _session(request, pk)
    order = _order(request)
    error = None
    try:
        if order is None:
            raise ValidationError(_("The new order could not be read."))
        service(session=session, by=request.user, order=order)
    except ValidationError as exc:
        error = exc
    return _reorder_response(request, session, error)


@workspace_view("plan", action="change")
def product_reorder(request: WorkspaceRequest, pk: int) -> HttpResponse:
    return _reorder(request, pk, runofshow.product_reorder)


# --- Segments and cues ------------------------------------------------------------------


@workspace_view("plan", action="change")
def segment_save(request: WorkspaceRequest, pk: int) -> HttpResponse:
    session = _session(request, pk)
    segment_id = request.POST.get("segment_id")
    segment = None
    if segment_id:
        segment = runofshow_queries.segment_get(session=session, pk=segment_id)
        if segment is None:
            raise Http404
    prefix = f"seg{segment.pk}" if segment else "newseg"
    form = SegmentForm(request.POST, prefix=prefix, products=session.products.all())
    if form.is_valid():
        try:
            if segment:
                runofshow.segment_update(segment=segment, by=request.user, **form.cleaned_data)
            else:
                segment = runofshow.segment_create(
                    session=session, by=request.user, **form.cleaned_data
                )
        except ValidationError as exc:
            attach_service_errors(form, exc)
        else:
            messages.success(request, _("Segment “%(title)s” saved.") % {"title": segment.title})
            return redirect(_editor_url(request, session, f"segment-{segment.pk}"))
    return _editor(request, session, {prefix: form})


@workspace_view("plan", action="change")
def segment_delete(request: WorkspaceRequest, pk: int) -> HttpResponse:
    session = _session(request, pk)
    segment = runofshow_queries.segment_get(session=session, pk=request.POST.get("segment_id", ""))
    if segment is None:
        messages.error(request, _("That segment no longer exists."))
    else:
        runofshow.segment_delete(segment=segment, by=request.user)
        messages.success(request, _("Segment “%(title)s” deleted.") % {"title": segment.title})
    return redirect(_editor_url(request, session, "segments"))


@workspace_view("plan", action="change")
def segment_reorder(request: WorkspaceRequest, pk: int) -> HttpResponse:
    return _reorder(request, pk, runofshow.segment_reorder)


@workspace_view("plan", action="change")
def segment_cue_save(request: WorkspaceRequest, pk: int) -> HttpResponse:
    session = _session(request, pk)
    cue_id = request.POST.get("cue_id")
    if cue_id:
        cue = runofshow_queries.cue_get(session=session, pk=cue_id)
        if cue is None:
            raise Http404
        segment = cue.segment
        prefix = f"cue{cue.pk}"
    else:
        cue = None
        found = runofshow_queries.segment_get(
            session=session, pk=request.POST.get("segment_id", "")
        )
        if found is None:
            messages.error(request, _("That segment no longer exists."))
            return redirect(_editor_url(request, session, "segments"))
        segment = found
        prefix = f"newcue{segment.pk}"
    form = CueForm(request.POST, prefix=prefix)
    if form.is_valid():
        try:
            if cue:
                runofshow.cue_update(cue=cue, by=request.user, **form.cleaned_data)
            else:
                runofshow.cue_create(segment=segment, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            attach_service_errors(form, exc)
        else:
            messages.success(request, _("Cue saved."))
            return redirect(_editor_url(request, session, f"segment-{segment.pk}"))
    return _editor(request, session, {prefix: form})


@workspace_view("plan", action="change")
def segment_cue_delete(request: WorkspaceRequest, pk: int) -> HttpResponse:
    session = _session(request, pk)
    cue = runofshow_queries.cue_get(session=session, pk=request.POST.get("cue_id", ""))
    if cue is None:
        messages.error(request, _("That cue no longer exists."))
        return redirect(_editor_url(request, session, "segments"))
    segment_pk = cue.segment_id
    runofshow.cue_delete(cue=cue, by=request.user)
    messages.success(request, _("Cue deleted."))
    return redirect(_editor_url(request, session, f"segment-{segment_pk}"))


# --- Templates and copying --------------------------------------------------------------


@workspace_view("plan", action="change")
def template_save(request: WorkspaceRequest, pk: int) -> HttpResponse:
    session = _session(request, pk)
    form = TemplateSaveForm(request.POST, prefix="tplsave")
    if form.is_valid():
        try:
            template = runofshow.template_save(
                session=session, by=request.user, name=form.cleaned_data["name"]
            )
        except ValidationError as exc:
            attach_service_errors(form, exc)
        else:
            messages.success(request, _("Saved as template “%(name)s”.") % {"name": template.name})
            return redirect(_editor_url(request, session, "templates"))
    return _editor(request, session, {"tplsave": form})


@workspace_view("plan", action="change")
def template_apply(request: WorkspaceRequest, pk: int) -> HttpResponse:
    session = _session(request, pk)
    templates = runofshow_queries.template_list(workspace=request.workspace)
    form = TemplateApplyForm(request.POST, prefix="tplapply", templates=templates)
    if form.is_valid():
        template = runofshow_queries.template_get(
            workspace=request.workspace, pk=form.cleaned_data["template"]
        )
        try:
            if template is None:
                raise ValidationError({"template": _("That template no longer exists.")})
            count = runofshow.template_apply(
                session=session, template=template, by=request.user, mode=form.cleaned_data["mode"]
            )
        except ValidationError as exc:
            attach_service_errors(form, exc)
        else:
            messages.success(request, _("Applied the template: %(n)s segments.") % {"n": count})
            return redirect(_editor_url(request, session, "segments"))
    return _editor(request, session, {"tplapply": form})


@workspace_view("plan", action="change")
def ros_copy(request: WorkspaceRequest, pk: int) -> HttpResponse:
    session = _session(request, pk)
    sources = runofshow_queries.copy_sources(session=session)
    form = CopyForm(request.POST, prefix="copy", sources=sources)
    if form.is_valid():
        source = runofshow_queries.copy_source_get(session=session, pk=form.cleaned_data["source"])
        try:
            if source is None:
                raise ValidationError({"source": _("That session no longer exists.")})
            count = runofshow.session_copy_run_of_show(
                session=session, source=source, by=request.user, mode=form.cleaned_data["mode"]
            )
        except ValidationError as exc:
            attach_service_errors(form, exc)
        else:
            messages.success(request, _("Copied %(n)s segments.") % {"n": count})
            return redirect(_editor_url(request, session, "segments"))
    return _editor(request, session, {"copy": form})


@workspace_view("plan")
def template_list(request: WorkspaceRequest) -> HttpResponse:
    templates = runofshow_queries.template_list(workspace=request.workspace)
    rows = [
        {
            "t": t,
            "count": len(t.segments) if isinstance(t.segments, list) else 0,
            "total": hms(
                sum(int(s.get("duration_s", 0)) + int(s.get("gap_s", 0)) for s in t.segments)
                if isinstance(t.segments, list)
                else 0
            ),
        }
        for t in templates
    ]
    return render(request, "planning/runofshow/template_list.html", {"rows": rows})


@workspace_view("plan", action="change")
def template_delete(request: WorkspaceRequest) -> HttpResponse:
    template = runofshow_queries.template_get(
        workspace=request.workspace, pk=request.POST.get("template_id", "")
    )
    if template is None:
        messages.error(request, _("That template no longer exists."))
    else:
        runofshow.template_delete(template=template, by=request.user)
        messages.success(request, _("Template “%(name)s” deleted.") % {"name": template.name})
    return redirect("planning:template_list", ws=request.workspace.slug)


# --- Print and export -------------------------------------------------------------------


@workspace_view("plan")
def ros_print(request: WorkspaceRequest, pk: int) -> HttpResponse:
    session = _session(request, pk)
    segments = runofshow_queries.ros_segments(session=session)
    terms = _terms(request)
    clock = _Clock(session)
    rows = [
        {
            "seg": s,
            "start": clock(s.offset_s),
            "end": clock(s.offset_s + s.duration_s),
            "duration": hms(s.duration_s),
            "talking": _checked(s.talking_points, terms),
            "host": _checked(s.host_lines, terms),
            "cues": [{"cue": c, "clock": clock(s.offset_s + c.at_s)} for c in s.cues.all()],
        }
        for s in segments
    ]
    context = {
        "session": session,
        "start_local": clock.start,
        "end_local": timezone.localtime(session.scheduled_end) if session.scheduled_end else None,
        "rows": rows,
        "products": runofshow_queries.ros_products(session=session),
        "summary": _summary(session, segments),
    }
    return render(request, "planning/runofshow/print.html", context)


@workspace_view("plan")
def ros_export(request: WorkspaceRequest, pk: int) -> HttpResponse:
    session = _session(request, pk)
    data = runofshow_queries.export_data(
        session=session,
        segments=runofshow_queries.ros_segments(session=session),
        products=runofshow_queries.ros_products(session=session),
    )
    response = HttpResponse(
        exports.run_of_show_xlsx(data),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="run-of-show-{session.pk}.xlsx"'
    return response


# --- Brand profile ----------------------------------------------------------------------


@workspace_view("plan")
def brand_profile(request: WorkspaceRequest) -> HttpResponse:
    profile = runofshow_queries.brand_profile_get(workspace=request.workspace)
    initial = {
        "positioning": profile.positioning,
        "tone": profile.tone,
        "personas": personas_to_text(profile.personas),
        "pillars": "\n".join(profile.pillars),
        "taboo_words": "\n".join(profile.taboo_words),
        "use_builtin_taboo": profile.use_builtin_taboo,
    }
    form = BrandProfileForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            runofshow.brand_profile_update(
                workspace=request.workspace, by=request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            attach_service_errors(form, exc)
        else:
            messages.success(request, _("Brand profile saved."))
            return redirect("planning:brand_profile", ws=request.workspace.slug)
    return render(
        request,
        "planning/brand/profile.html",
        {"form": form, "profile": profile, "builtin": taboo.BUILTIN},
    )
