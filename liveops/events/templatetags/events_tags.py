"""Labels for event kinds in templates: ``{{ kind|kind_label }}``."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext_lazy as _

register = template.Library()

KIND_LABELS = {
    "enter": _("Entries"),
    "leave": _("Exits"),
    "comment": _("Comments"),
    "like": _("Likes"),
    "gift": _("Gifts"),
    "follow": _("Follows"),
    "share": _("Shares"),
    "order": _("Orders"),
    "refund": _("Refunds"),
    "product_click": _("Product clicks"),
    "online_count": _("Online-count snapshots"),
    "minute_stats": _("Per-minute statistics"),
}


@register.filter
def kind_label(kind: str) -> str:
    return str(KIND_LABELS.get(kind, kind))
