"""Products lineup, run-of-show (直播脚本), templates and the brand profile.

Writes are keyword-only, transactional and audited; the few reads the run-of-show pages
need sit at the bottom. Every write validates first and raises ``ValidationError`` keyed by
field, so nothing is half-saved.

Timing rule: segments are contiguous. A segment starts when the previous one ends, unless
it was given an explicit start ("starts at", an offset from the session start) later than
that — the difference is a gap that stays attached to the segment when segments are
reordered, edited or deleted. A start earlier than the previous segment's end is an
overlap and refused. Offsets are recomputed from order, gaps and durations after every
change. A run-of-show may not last longer than the session's scheduled duration.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from liveops.core.audit import changed, snapshot
from liveops.planning.exports import (
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
from liveops.workspaces.models import User, Workspace
from liveops.workspaces.services import audit_record

PRODUCT_FIELDS = ["position", "name", "sku", "price", "live_price", "stock", "selling_points"]
SEGMENT_FIELDS = [
    "position",
    "kind",
    "title",
    "offset_s",
    "duration_s",
    "talking_points",
    "host_lines",
    "product",
]
CUE_FIELDS = ["segment", "at_s", "kind", "description"]
BRAND_FIELDS = ["positioning", "tone", "personas", "pillars", "taboo_words", "use_builtin_taboo"]
MAX_TEXT = 5000


def session_duration_s(session: LiveSession) -> int | None:
    """The scheduled length in seconds, or None when start or end is not planned."""
    if session.scheduled_start and session.scheduled_end:
        return int((session.scheduled_end - session.scheduled_start).total_seconds())
    return None


# --- Products ---------------------------------------------------------------------------


def _product_validate(
    *, name: str, price: Decimal | None, live_price: Decimal | None, stock: int | None
) -> None:
    errors: dict[str, str] = {}
    if not name.strip():
        errors["name"] = _("A product needs a name.")
    if price is not None and price < 0:
        errors["price"] = _("A price cannot be negative.")
    if live_price is not None and live_price < 0:
        errors["live_price"] = _("A price cannot be negative.")
    if stock is not None and stock < 0:
        errors["stock"] = _("Stock cannot be negative.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def product_create(
    *,
    session: LiveSession,
    by: User | None,
    name: str,
    sku: str = "",
    price: Decimal | None = None,
    live_price: Decimal | None = None,
    stock: int | None = None,
    selling_points: str = "",
) -> SessionProduct:
    """Add a product at the end of the session's lineup."""
    _product_validate(name=name, price=price, live_price=live_price, stock=stock)
    last = session.products.aggregate(m=Max("position"))["m"]
    product = SessionProduct.objects.create(
        session=session,
        position=0 if last is None else last + 1,
        name=name.strip(),
        sku=sku.strip(),
        price=price,
        live_price=live_price,
        stock=stock,
        selling_points=selling_points.strip(),
    )
    audit_record(
        workspace=session.workspace,
        actor=by,
        action="product.create",
        target=product,
        after=snapshot(product, PRODUCT_FIELDS),
    )
    return product


@transaction.atomic
def product_update(
    *,
    product: SessionProduct,
    by: User | None,
    name: str,
    sku: str = "",
    price: Decimal | None = None,
    live_price: Decimal | None = None,
    stock: int | None = None,
    selling_points: str = "",
) -> SessionProduct:
    _product_validate(name=name, price=price, live_price=live_price, stock=stock)
    before = snapshot(product, PRODUCT_FIELDS)
    product.name, product.sku = name.strip(), sku.strip()
    product.price, product.live_price, product.stock = price, live_price, stock
    product.selling_points = selling_points.strip()
    product.save()
    b, a = changed(before, snapshot(product, PRODUCT_FIELDS))
    if a:
        audit_record(
            workspace=product.session.workspace,
            actor=by,
            action="product.update",
            target=product,
            before=b,
            after=a,
        )
    return product


@transaction.atomic
def product_delete(*, product: SessionProduct, by: User | None) -> None:
    """Remove a product; segments that presented it keep their text but lose the link."""
    session = product.session
    audit_record(
        workspace=session.workspace,
        actor=by,
        action="product.delete",
        target=product,
        before=snapshot(product, PRODUCT_FIELDS),
    )
    product.delete()
    _renumber(list(session.products.order_by("position", "id")))


def _check_order(current: Sequence[int], order: Sequence[int]) -> None:
    if len(order) != len(current) or set(order) != set(current):
        raise ValidationError(
            _("The order does not match this session's current list; reload the page.")
        )


def _renumber(items: Sequence[SessionProduct | Segment]) -> None:
    for i, item in enumerate(items):
        if item.position != i:
            item.position = i
            item.save(update_fields=["position", "updated_at"])


@transaction.atomic
def product_reorder(*, session: LiveSession, by: User | None, order: Sequence[int]) -> None:
    """Set the explanation order; ``order`` lists every product id of the session."""
    products = {p.pk: p for p in session.products.select_for_update()}
    before = [p.pk for p in sorted(products.values(), key=lambda p: (p.position, p.pk))]
    _check_order(before, order)
    _renumber([products[pk] for pk in order])
    if list(order) != before:
        audit_record(
            workspace=session.workspace,
            actor=by,
            action="product.reorder",
            target=session,
            before={"order": before},
            after={"order": list(order)},
        )


# --- Segments ---------------------------------------------------------------------------


@dataclass
class _Slot:
    segment: Segment | None  # None: a segment being created
    duration_s: int
    start_at: int | None  # explicit start (offset); None: straight after the previous + gap
    gap_s: int = 0


def _gaps(segments: Sequence[Segment]) -> dict[int, int]:
    """Each segment's gap after the previous one, from the stored offsets."""
    out: dict[int, int] = {}
    end = 0
    for seg in segments:
        out[seg.pk] = max(seg.offset_s - end, 0)
        end = max(end, seg.offset_s + seg.duration_s)
    return out


def _layout(session: LiveSession, slots: Sequence[_Slot], field: str = "duration_s") -> list[int]:
    """Offsets for ``slots`` in order; refuses overlaps and a run-of-show longer than the
    session (the error goes on ``field``)."""
    offsets: list[int] = []
    end = 0
    previous: _Slot | None = None
    for slot in slots:
        if slot.start_at is not None:
            if slot.start_at < end:
                assert previous is not None
                title = previous.segment.title if previous.segment else ""
                raise ValidationError(
                    {
                        "offset_s": _(
                            "Overlaps the previous segment “%(title)s”, which ends at "
                            "+%(end)s. Start at +%(end)s or later."
                        )
                        % {"title": title, "end": hms(end)}
                    }
                )
            offset = slot.start_at
        else:
            offset = end + slot.gap_s
        offsets.append(offset)
        end = offset + slot.duration_s
        previous = slot
    limit = session_duration_s(session)
    if limit is not None and end > limit:
        raise ValidationError(
            {
                field: _(
                    "The run-of-show would last %(total)s, longer than the session's scheduled "
                    "%(limit)s. Shorten segments or extend the session."
                )
                % {"total": hms(end), "limit": hms(limit)}
            }
        )
    return offsets


def _apply_layout(slots: Sequence[_Slot], offsets: Sequence[int]) -> None:
    for i, (slot, offset) in enumerate(zip(slots, offsets, strict=True)):
        seg = slot.segment
        assert seg is not None
        if seg.offset_s != offset or seg.position != i:
            seg.offset_s, seg.position = offset, i
            seg.save(update_fields=["offset_s", "position", "updated_at"])


def _segment_validate(
    *,
    session: LiveSession,
    kind: str,
    title: str,
    duration_s: int,
    offset_s: int | None,
    product: SessionProduct | None,
    talking_points: str,
    host_lines: str,
    segment: Segment | None,
) -> None:
    errors: dict[str, str] = {}
    if kind not in SegmentKind.values:
        errors["kind"] = _("Unknown segment type.")
    if not title.strip():
        errors["title"] = _("A segment needs a title.")
    if duration_s <= 0:
        errors["duration_s"] = _("The duration must be longer than zero.")
    if offset_s is not None and offset_s < 0:
        errors["offset_s"] = _("The start cannot be before the session starts.")
    if product is not None and product.session_id != session.pk:
        errors["product"] = _("This product is not in this session's lineup.")
    if len(talking_points) > MAX_TEXT:
        errors["talking_points"] = _("Keep this under %(n)s characters.") % {"n": MAX_TEXT}
    if len(host_lines) > MAX_TEXT:
        errors["host_lines"] = _("Keep this under %(n)s characters.") % {"n": MAX_TEXT}
    if segment is not None and duration_s > 0 and "duration_s" not in errors:
        late = [c for c in segment.cues.all() if c.at_s >= duration_s]
        if late:
            errors["duration_s"] = _(
                "A cue at +%(at)s would fall outside the segment; move or delete it first."
            ) % {"at": hms(late[0].at_s)}
    if errors:
        raise ValidationError(errors)


def _ordered_segments(session: LiveSession) -> list[Segment]:
    return list(session.segments.select_for_update().order_by("position", "id"))


@transaction.atomic
def segment_create(
    *,
    session: LiveSession,
    by: User | None,
    kind: str,
    title: str,
    duration_s: int,
    offset_s: int | None = None,
    talking_points: str = "",
    host_lines: str = "",
    product: SessionProduct | None = None,
) -> Segment:
    """Append a segment; it starts when the last one ends, or at ``offset_s`` if later."""
    _segment_validate(
        session=session,
        kind=kind,
        title=title,
        duration_s=duration_s,
        offset_s=offset_s,
        product=product,
        talking_points=talking_points,
        host_lines=host_lines,
        segment=None,
    )
    existing = _ordered_segments(session)
    gaps = _gaps(existing)
    slots = [_Slot(s, s.duration_s, None, gaps[s.pk]) for s in existing]
    slots.append(_Slot(None, duration_s, offset_s))
    offsets = _layout(session, slots)
    segment = Segment.objects.create(
        session=session,
        position=len(existing),
        kind=kind,
        title=title.strip(),
        offset_s=offsets[-1],
        duration_s=duration_s,
        talking_points=talking_points.strip(),
        host_lines=host_lines.strip(),
        product=product,
    )
    audit_record(
        workspace=session.workspace,
        actor=by,
        action="segment.create",
        target=segment,
        after=snapshot(segment, SEGMENT_FIELDS),
    )
    return segment


@transaction.atomic
def segment_update(
    *,
    segment: Segment,
    by: User | None,
    kind: str,
    title: str,
    duration_s: int,
    offset_s: int | None = None,
    talking_points: str = "",
    host_lines: str = "",
    product: SessionProduct | None = None,
) -> Segment:
    """Edit a segment; later segments move with it (keeping their gaps).

    ``offset_s`` None means "straight after the previous segment"."""
    session = segment.session
    _segment_validate(
        session=session,
        kind=kind,
        title=title,
        duration_s=duration_s,
        offset_s=offset_s,
        product=product,
        talking_points=talking_points,
        host_lines=host_lines,
        segment=segment,
    )
    existing = _ordered_segments(session)
    gaps = _gaps(existing)
    slots = [
        _Slot(s, duration_s, offset_s, 0)
        if s.pk == segment.pk
        else _Slot(s, s.duration_s, None, gaps[s.pk])
        for s in existing
    ]
    offsets = _layout(session, slots)
    before = snapshot(segment, SEGMENT_FIELDS)
    target = next(s for s in existing if s.pk == segment.pk)
    target.kind, target.title, target.duration_s = kind, title.strip(), duration_s
    target.talking_points, target.host_lines = talking_points.strip(), host_lines.strip()
    target.product = product
    target.save()
    _apply_layout(slots, offsets)
    b, a = changed(before, snapshot(target, SEGMENT_FIELDS))
    if a:
        audit_record(
            workspace=session.workspace,
            actor=by,
            action="segment.update",
            target=target,
            before=b,
            after=a,
        )
    return target


@transaction.atomic
def segment_delete(*, segment: Segment, by: User | None) -> None:
    """Delete a segment and its cues; later segments move up (keeping their gaps)."""
    session = segment.session
    audit_record(
        workspace=session.workspace,
        actor=by,
        action="segment.delete",
        target=segment,
        before=snapshot(segment, SEGMENT_FIELDS),
    )
    existing = _ordered_segments(session)
    gaps = _gaps(existing)
    gone = segment.pk
    segment.delete()
    slots = [_Slot(s, s.duration_s, None, gaps[s.pk]) for s in existing if s.pk != gone]
    _apply_layout(slots, _layout(session, slots))


@transaction.atomic
def segment_reorder(*, session: LiveSession, by: User | None, order: Sequence[int]) -> None:
    """Put segments in ``order`` (every segment id of the session) and recompute offsets."""
    existing = _ordered_segments(session)
    before = [s.pk for s in existing]
    _check_order(before, order)
    gaps = _gaps(existing)
    by_pk = {s.pk: s for s in existing}
    slots = [_Slot(by_pk[pk], by_pk[pk].duration_s, None, gaps[pk]) for pk in order]
    try:
        offsets = _layout(session, slots)
    except ValidationError as exc:
        raise ValidationError(exc.messages) from exc
    _apply_layout(slots, offsets)
    if list(order) != before:
        audit_record(
            workspace=session.workspace,
            actor=by,
            action="segment.reorder",
            target=session,
            before={"order": before},
            after={"order": list(order)},
        )


# --- Cues -------------------------------------------------------------------------------


def _cue_validate(*, segment: Segment, at_s: int, kind: str, description: str) -> None:
    errors: dict[str, str] = {}
    if kind not in CueKind.values:
        errors["kind"] = _("Unknown cue type.")
    if not description.strip():
        errors["description"] = _("Describe the cue (track, prop, preset or overlay).")
    if at_s < 0 or at_s >= segment.duration_s:
        errors["at_s"] = _(
            "A cue must be within its segment: from +0:00:00 to before +%(end)s."
        ) % {"end": hms(segment.duration_s)}
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def cue_create(*, segment: Segment, by: User | None, at_s: int, kind: str, description: str) -> Cue:
    """Add an atmosphere cue ``at_s`` seconds into ``segment``."""
    _cue_validate(segment=segment, at_s=at_s, kind=kind, description=description)
    cue = Cue.objects.create(segment=segment, at_s=at_s, kind=kind, description=description.strip())
    audit_record(
        workspace=segment.session.workspace,
        actor=by,
        action="cue.create",
        target=cue,
        after=snapshot(cue, CUE_FIELDS),
    )
    return cue


@transaction.atomic
def cue_update(*, cue: Cue, by: User | None, at_s: int, kind: str, description: str) -> Cue:
    _cue_validate(segment=cue.segment, at_s=at_s, kind=kind, description=description)
    before = snapshot(cue, CUE_FIELDS)
    cue.at_s, cue.kind, cue.description = at_s, kind, description.strip()
    cue.save()
    b, a = changed(before, snapshot(cue, CUE_FIELDS))
    if a:
        audit_record(
            workspace=cue.segment.session.workspace,
            actor=by,
            action="cue.update",
            target=cue,
            before=b,
            after=a,
        )
    return cue


@transaction.atomic
def cue_delete(*, cue: Cue, by: User | None) -> None:
    audit_record(
        workspace=cue.segment.session.workspace,
        actor=by,
        action="cue.delete",
        target=cue,
        before=snapshot(cue, CUE_FIELDS),
    )
    cue.delete()


# --- Templates and copying --------------------------------------------------------------


class Mode:
    """How a template or a copied run-of-show lands: replace the segments or append."""

    REPLACE = "replace"
    APPEND = "append"
    VALUES = (REPLACE, APPEND)


def _as_plain(segments: Iterable[Segment]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    end = 0
    for s in segments:
        out.append(
            {
                "kind": s.kind,
                "title": s.title,
                "gap_s": max(s.offset_s - end, 0),
                "duration_s": s.duration_s,
                "talking_points": s.talking_points,
                "host_lines": s.host_lines,
                "product_sku": s.product.sku if s.product else "",
                "product_name": s.product.name if s.product else "",
                "cues": [
                    {"at_s": c.at_s, "kind": c.kind, "description": c.description}
                    for c in s.cues.all()
                ],
            }
        )
        end = max(end, s.offset_s + s.duration_s)
    return out


def _clean_plain(raw: Any) -> list[dict[str, Any]]:
    """Template JSON, checked; a malformed template is refused whole."""
    bad = ValidationError(_("This template is damaged and cannot be applied."))
    if not isinstance(raw, list):
        raise bad
    out = []
    for item in raw:
        if not isinstance(item, dict):
            raise bad
        try:
            seg: dict[str, Any] = {
                "kind": str(item.get("kind") or SegmentKind.OTHER),
                "title": str(item.get("title") or "").strip() or "—",
                "gap_s": max(int(item.get("gap_s") or 0), 0),
                "duration_s": int(item["duration_s"]),
                "talking_points": str(item.get("talking_points") or ""),
                "host_lines": str(item.get("host_lines") or ""),
                "product_sku": str(item.get("product_sku") or ""),
                "product_name": str(item.get("product_name") or ""),
                "cues": [
                    {
                        "at_s": int(c["at_s"]),
                        "kind": str(c["kind"]),
                        "description": str(c.get("description") or ""),
                    }
                    for c in item.get("cues") or []
                ],
            }
        except (KeyError, TypeError, ValueError) as exc:
            raise bad from exc
        if seg["kind"] not in SegmentKind.values or seg["duration_s"] <= 0:
            raise bad
        for c in seg["cues"]:
            if c["kind"] not in CueKind.values or not 0 <= c["at_s"] < seg["duration_s"]:
                raise bad
        out.append(seg)
    return out


def _land(
    *, session: LiveSession, plain: list[dict[str, Any]], mode: str, by: User | None, action: str
) -> int:
    """Create ``plain`` segments in ``session`` (replacing or appending); returns the count."""
    if mode not in Mode.VALUES:
        raise ValidationError({"mode": _("Choose replace or append.")})
    existing = _ordered_segments(session)
    kept = [] if mode == Mode.REPLACE else existing
    gaps = _gaps(kept)
    slots = [_Slot(s, s.duration_s, None, gaps[s.pk]) for s in kept]
    slots += [_Slot(None, p["duration_s"], None, p["gap_s"]) for p in plain]
    try:
        offsets = _layout(session, slots)
    except ValidationError as exc:
        raise ValidationError(exc.messages) from exc
    products = list(session.products.all())
    by_sku = {p.sku: p for p in products if p.sku}
    by_name = {p.name: p for p in products}
    removed = len(existing) if mode == Mode.REPLACE else 0
    if mode == Mode.REPLACE:
        session.segments.all().delete()
    for i, (p, offset) in enumerate(zip(plain, offsets[len(kept) :], strict=True)):
        product = by_sku.get(p["product_sku"]) if p["product_sku"] else None
        product = product or (by_name.get(p["product_name"]) if p["product_name"] else None)
        seg = Segment.objects.create(
            session=session,
            position=len(kept) + i,
            kind=p["kind"],
            title=p["title"][:200],
            offset_s=offset,
            duration_s=p["duration_s"],
            talking_points=p["talking_points"],
            host_lines=p["host_lines"],
            product=product,
        )
        Cue.objects.bulk_create(
            Cue(segment=seg, at_s=c["at_s"], kind=c["kind"], description=c["description"][:300])
            for c in p["cues"]
        )
    audit_record(
        workspace=session.workspace,
        actor=by,
        action=action,
        target=session,
        after={"mode": mode, "segments_added": len(plain), "segments_removed": removed},
    )
    return len(plain)


@transaction.atomic
def template_save(*, session: LiveSession, by: User | None, name: str) -> RunOfShowTemplate:
    """Save the session's run-of-show (segments, gaps and cues) as a named template."""
    name = name.strip()
    segments = list(
        session.segments.select_related("product").prefetch_related("cues").order_by("position")
    )
    if not name:
        raise ValidationError({"name": _("Give the template a name.")})
    if RunOfShowTemplate.objects.filter(workspace=session.workspace, name=name).exists():
        raise ValidationError({"name": _("A template with this name already exists.")})
    if not segments:
        raise ValidationError({"name": _("This run-of-show has no segments to save.")})
    template = RunOfShowTemplate.objects.create(
        workspace=session.workspace, name=name[:120], segments=_as_plain(segments)
    )
    audit_record(
        workspace=session.workspace,
        actor=by,
        action="template.create",
        target=template,
        after={"name": template.name, "from_session": session.pk, "segments": len(segments)},
    )
    return template


@transaction.atomic
def template_apply(
    *, session: LiveSession, template: RunOfShowTemplate, by: User | None, mode: str
) -> int:
    """Apply a template to ``session``: replace its segments or append after the last one."""
    if template.workspace_id != session.workspace_id:
        raise ValidationError({"template": _("This template belongs to another workspace.")})
    return _land(
        session=session,
        plain=_clean_plain(template.segments),
        mode=mode,
        by=by,
        action="template.apply",
    )


@transaction.atomic
def template_delete(*, template: RunOfShowTemplate, by: User | None) -> None:
    audit_record(
        workspace=template.workspace,
        actor=by,
        action="template.delete",
        target=template,
        before={"name": template.name},
    )
    template.delete()


@transaction.atomic
def session_copy_run_of_show(
    *, session: LiveSession, source: LiveSession, by: User | None, mode: str
) -> int:
    """Copy another session's segments and cues; product links follow by SKU, then name."""
    if source.workspace_id != session.workspace_id or source.pk == session.pk:
        raise ValidationError({"source": _("Choose another session of this workspace.")})
    segments = source.segments.select_related("product").prefetch_related("cues")
    plain = _as_plain(segments.order_by("position", "id"))
    if not plain:
        raise ValidationError({"source": _("That session has no run-of-show to copy.")})
    return _land(session=session, plain=plain, mode=mode, by=by, action="segment.copy")


# --- Brand profile ----------------------------------------------------------------------


@transaction.atomic
def brand_profile_update(
    *,
    workspace: Workspace,
    by: User | None,
    positioning: str,
    tone: str,
    personas: list[dict[str, str]],
    pillars: list[str],
    taboo_words: list[str],
    use_builtin_taboo: bool,
) -> BrandProfile:
    """Create or update the workspace's brand profile."""
    errors: dict[str, str] = {}
    if any(not str(p.get("name", "")).strip() for p in personas):
        errors["personas"] = _("Every persona needs a name.")
    if len(taboo_words) > 500:
        errors["taboo_words"] = _("Keep the taboo list under 500 words.")
    if errors:
        raise ValidationError(errors)
    profile, _created = BrandProfile.objects.select_for_update().get_or_create(workspace=workspace)
    before = snapshot(profile, BRAND_FIELDS)
    profile.positioning, profile.tone = positioning.strip(), tone.strip()
    profile.personas = personas
    profile.pillars = [p.strip() for p in pillars if p.strip()]
    words: list[str] = []
    for w in taboo_words:
        w = w.strip()
        if w and w not in words:
            words.append(w)
    profile.taboo_words = words
    profile.use_builtin_taboo = use_builtin_taboo
    profile.save()
    b, a = changed(before, snapshot(profile, BRAND_FIELDS))
    if a:
        audit_record(
            workspace=workspace,
            actor=by,
            action="brand_profile.update",
            target=profile,
            before=b,
            after=a,
        )
    return profile
