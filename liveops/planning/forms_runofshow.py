"""Forms of the run-of-show pages. Field names match the service keywords, so a service's
ValidationError lands next to the right field."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from liveops.planning.exports import hms
from liveops.planning.models import CueKind, SegmentKind, SessionProduct

_HMS = re.compile(r"^\s*(-)?\s*(?:(\d+):)?(\d+):(\d{1,2})\s*$")
_MIN = re.compile(r"^\s*(-?\d+(?:[.,]\d+)?)\s*$")


def parse_duration(text: str) -> int:
    """ "H:MM:SS", "MM:SS" or a number of minutes ("5", "2.5") -> seconds (may be negative)."""
    m = _HMS.match(text)
    if m:
        sign, h, mm, ss = m.groups()
        if int(ss) >= 60:
            raise ValueError(text)
        total = int(h or 0) * 3600 + int(mm) * 60 + int(ss)
        return -total if sign else total
    m = _MIN.match(text)
    if m:
        return round(float(m.group(1).replace(",", ".")) * 60)
    raise ValueError(text)


class DurationTextField(forms.CharField):
    """A duration typed as minutes or as H:MM:SS; cleans to seconds. Range checks are the
    service's job, so negative and zero values pass through to get its message."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 12)
        kwargs.setdefault(
            "help_text", _("Minutes (e.g. 5 or 2.5) or H:MM:SS / MM:SS (e.g. 1:30:00, 04:30).")
        )
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, int):
            return hms(value)
        return value

    def clean(self, value: Any) -> int | None:
        text = super().clean(value)
        if not text:
            return None
        try:
            return parse_duration(text)
        except ValueError as exc:
            raise ValidationError(
                _("Type minutes (5) or a time such as 4:30 or 1:04:30."), code="invalid"
            ) from exc


def _text(label: Any, rows: int = 3, required: bool = False) -> forms.CharField:
    return forms.CharField(
        label=label, required=required, widget=forms.Textarea(attrs={"rows": rows})
    )


class ProductForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    sku = forms.CharField(label=_("SKU"), max_length=80, required=False)
    price = forms.DecimalField(
        label=_("List price"), max_digits=12, decimal_places=2, required=False
    )
    live_price = forms.DecimalField(
        label=_("Live price"), max_digits=12, decimal_places=2, required=False
    )
    stock = forms.IntegerField(label=_("Stock"), required=False)
    selling_points = _text(_("Selling points"))


class SegmentForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    kind = forms.ChoiceField(label=_("Type"), choices=SegmentKind.choices)
    duration_s = DurationTextField(label=_("Duration"))
    offset_s = DurationTextField(
        label=_("Starts at (optional)"),
        required=False,
        help_text=_(
            "From the session start, e.g. 0:45:00. Leave empty to start right after the "
            "previous segment; a later start leaves a gap."
        ),
    )
    product: forms.ModelChoiceField[SessionProduct] = forms.ModelChoiceField(
        label=_("Product"), queryset=SessionProduct.objects.none(), required=False
    )
    talking_points = _text(_("Talking points"), 4)
    host_lines = _text(_("Host lines"), 4)

    def __init__(self, *args: Any, products: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["product"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = products

    def clean_duration_s(self) -> int | None:
        value: int | None = self.cleaned_data.get("duration_s")
        if value is None:
            raise ValidationError(_("How long is this segment?"), code="required")
        return value


class CueForm(forms.Form):
    at_s = DurationTextField(
        label=_("At (into the segment)"),
        help_text=_("Minutes or MM:SS from the start of the segment, e.g. 0:30."),
    )
    kind = forms.ChoiceField(label=_("Type"), choices=CueKind.choices)
    description = forms.CharField(label=_("Description"), max_length=300)


class TemplateSaveForm(forms.Form):
    name = forms.CharField(label=_("Template name"), max_length=120)


MODE_CHOICES = [
    ("replace", _("Replace the current segments")),
    ("append", _("Append after the last segment")),
]


class TemplateApplyForm(forms.Form):
    template = forms.TypedChoiceField(label=_("Template"), coerce=int, choices=())
    mode = forms.ChoiceField(
        label=_("How"), choices=MODE_CHOICES, initial="replace", widget=forms.RadioSelect
    )

    def __init__(self, *args: Any, templates: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["template"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [(t.pk, t.name) for t in templates]


class CopyForm(forms.Form):
    source = forms.TypedChoiceField(label=_("Copy from session"), coerce=int, choices=())
    mode = forms.ChoiceField(
        label=_("How"), choices=MODE_CHOICES, initial="replace", widget=forms.RadioSelect
    )

    def __init__(self, *args: Any, sources: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["source"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [
            (
                s.pk,
                f"{s.title} · {s.scheduled_start:%Y-%m-%d %H:%M}" if s.scheduled_start else s.title,
            )
            for s in sources
        ]


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


PERSONA_KEYS = ("name", "age_band", "interests", "needs", "sources")


def personas_to_text(personas: list[dict[str, str]]) -> str:
    return "\n".join(" | ".join(str(p.get(k, "")) for k in PERSONA_KEYS) for p in personas)


def personas_from_text(text: str) -> list[dict[str, str]]:
    out = []
    for line in _lines(text):
        parts = [part.strip() for part in line.split("|")]
        parts += [""] * (len(PERSONA_KEYS) - len(parts))
        out.append(dict(zip(PERSONA_KEYS, parts[: len(PERSONA_KEYS)], strict=True)))
    return out


class BrandProfileForm(forms.Form):
    positioning = _text(_("Positioning"), 3)
    tone = _text(_("Tone of voice"), 3)
    personas = forms.CharField(
        label=_("Audience personas"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One per line: name | age band | interests | needs | where they come from"),
    )
    pillars = forms.CharField(
        label=_("Content pillars"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One per line."),
    )
    taboo_words = forms.CharField(
        label=_("Taboo words"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One per line, or separated by commas or 、. Matched anywhere in the text."),
    )
    use_builtin_taboo = forms.BooleanField(
        label=_("Also warn about the built-in advertising-law list"), required=False
    )

    def clean_personas(self) -> list[dict[str, str]]:
        return personas_from_text(self.cleaned_data.get("personas") or "")

    def clean_pillars(self) -> list[str]:
        return _lines(self.cleaned_data.get("pillars") or "")

    def clean_taboo_words(self) -> list[str]:
        text = self.cleaned_data.get("taboo_words") or ""
        return [w.strip() for w in re.split(r"[\n,，、;；]", text) if w.strip()]
