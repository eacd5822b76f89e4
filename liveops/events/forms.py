from __future__ import annotations

import zoneinfo
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

FORMAT_CHOICES = [
    ("", _("Detect automatically")),
    ("chat-downloader", "chat-downloader JSON (YouTube / Twitch)"),
    ("youtube-actions", _("YouTube live-chat actions (innertube)")),
    ("twitch-irc", _("Twitch IRC lines with tags")),
    ("twitch-log", _("Twitch chat text log")),
    ("bilibili-blivedm", _("Bilibili live messages (blivedm JSON lines)")),
    ("douyin-webcast", _("Douyin / TikTok webcast messages (JSON)")),
    ("ndjson", _("LiveOps events (JSON lines)")),
    ("csv", _("CSV export (events or per-minute statistics)")),
    ("xlsx", _("Excel export (events or per-minute statistics)")),
]


class ImportForm(forms.Form):
    file = forms.FileField(label=_("File"))
    format = forms.ChoiceField(label=_("Format"), choices=FORMAT_CHOICES, required=False)
    target = forms.ChoiceField(
        label=_("The file holds"),
        choices=[("events", _("Events")), ("minute_stats", _("Per-minute statistics"))],
        required=False,
        help_text=_("Only for CSV and Excel exports."),
    )
    time_zone = forms.CharField(
        label=_("Time zone of times without offset"),
        required=False,
        initial="Asia/Shanghai",
        help_text=_("Used for naive times in CSV/Excel exports and text logs."),
    )
    date = forms.DateField(
        label=_("Date of time-only logs"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("For chat logs whose lines carry only [HH:MM:SS]."),
    )

    def clean_time_zone(self) -> str:
        tz = str(self.cleaned_data.get("time_zone") or "").strip()
        if tz:
            try:
                zoneinfo.ZoneInfo(tz)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
                raise forms.ValidationError(_("Unknown time zone.")) from exc
        return tz

    def options(self) -> dict[str, Any]:
        data = self.cleaned_data
        out: dict[str, Any] = {}
        if data.get("target"):
            out["target"] = data["target"]
        if data.get("time_zone"):
            out["time_zone"] = data["time_zone"]
        if data.get("date"):
            out["date"] = data["date"].isoformat()
        return out
