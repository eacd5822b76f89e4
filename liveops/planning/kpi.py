"""KPI targets of a series or session, keyed like METRICS.md (uv, pcu, avg_watch_s, follows,
gmv, interaction_rate). Forms show them as optional fields; the models keep a small dict."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

# key -> (label, help). Rates are stored as fractions (0.05) and typed as percentages (5).
KPI_FIELDS: dict[str, tuple[Any, Any]] = {
    "uv": (_("Target UV (累计观看人数)"), _("Distinct viewers.")),
    "pcu": (_("Target PCU (最高在线)"), _("Peak concurrent viewers.")),
    "avg_watch_s": (_("Target average watch time (s)"), _("Per viewer, in seconds.")),
    "follows": (_("Target new follows"), ""),
    "gmv": (_("Target GMV"), _("In the account's currency.")),
    "interaction_rate": (_("Target interaction rate (%)"), _("Viewers who interacted ÷ UV.")),
}


def add_kpi_fields(form: forms.BaseForm) -> None:
    for key, (label, help_text) in KPI_FIELDS.items():
        if key in ("gmv",):
            field: forms.Field = forms.DecimalField(min_value=0, decimal_places=2, max_digits=14)
        elif key == "interaction_rate":
            field = forms.DecimalField(min_value=0, max_value=100, decimal_places=2, max_digits=5)
        else:
            field = forms.IntegerField(min_value=0)
        field.required = False
        field.label = label
        field.help_text = help_text
        form.fields[f"kpi_{key}"] = field


def split_kpi(data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The form data without KPI fields, and the KPI targets as stored (rates as fractions)."""
    rest = {k: v for k, v in data.items() if not k.startswith("kpi_")}
    targets: dict[str, Any] = {}
    for key in KPI_FIELDS:
        value = data.get(f"kpi_{key}")
        if value is None or value == "":
            continue
        if key == "interaction_rate":
            targets[key] = float(Decimal(value) / 100)
        elif key == "gmv":
            targets[key] = str(Decimal(value).quantize(Decimal("0.01")))
        else:
            targets[key] = int(value)
    return rest, targets


def kpi_initial(targets: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in (targets or {}).items():
        if key in KPI_FIELDS:
            out[f"kpi_{key}"] = (
                (Decimal(str(value)) * 100).normalize() if (key == "interaction_rate") else value
            )
    return out
