"""Materialised analytics results: what pages read instead of scanning raw events.

``analytics.services.session_materialize`` writes them (idempotent: a fingerprint of the
inputs says whether anything changed; resumable: one transaction per session). Money is
kept as exact decimals (JSON: strings), times in UTC.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from liveops.core.models import TimeStampedModel


class SessionResult(models.Model):
    """A session's figures as last computed: summary, series shapes and top lists."""

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="session_results"
    )
    session = models.OneToOneField(
        "planning.LiveSession", on_delete=models.CASCADE, related_name="analytics_result"
    )
    computed_at = models.DateTimeField()
    fingerprint = models.CharField(max_length=64)  # inputs it was computed from
    engine = models.CharField(max_length=16)
    compute_ms = models.PositiveIntegerField(default=0)
    start = models.DateTimeField(null=True)
    end = models.DateTimeField(null=True)
    currency = models.CharField(max_length=3)
    summary = models.JSONField(default=dict)  # METRICS.md key -> number | "decimal" | null
    grains = models.JSONField(default=dict)
    unavailable = models.JSONField(default=dict)  # key -> why it is not available
    retention = models.JSONField(null=True)  # r(1)…r(60) or null
    funnel = models.JSONField(default=list)
    sources = models.JSONField(default=list)
    products = models.JSONField(default=list)
    channels = models.JSONField(default=list)
    top_viewers = models.JSONField(default=dict)
    hot_words = models.JSONField(default=list)  # [[word, comments], …]
    questions = models.JSONField(default=list)  # [[question, times asked], …]
    notes = models.JSONField(default=list)

    class Meta:
        indexes = [models.Index(fields=["workspace", "start"])]

    def __str__(self) -> str:
        return f"result of session {self.session_id}"


class SessionMinute(models.Model):
    """One UTC minute of a session's per-minute series."""

    session = models.ForeignKey(
        "planning.LiveSession", on_delete=models.CASCADE, related_name="analytics_minutes"
    )
    minute = models.DateTimeField()
    online = models.FloatField(null=True)
    entries = models.IntegerField(null=True)
    exits = models.IntegerField(null=True)
    comments = models.IntegerField(null=True)
    likes = models.IntegerField(null=True)
    gifts = models.IntegerField(default=0)
    orders = models.IntegerField(null=True)
    gmv = models.DecimalField(max_digits=18, decimal_places=4, null=True)
    #: The host account's chat replies (null: the account's id is not set).
    host_replies = models.IntegerField(null=True)

    class Meta:
        ordering = ["minute"]
        constraints = [
            models.UniqueConstraint(fields=["session", "minute"], name="analytics_minute_unique")
        ]

    def __str__(self) -> str:
        return f"{self.session_id} {self.minute:%H:%M}"


class SegmentFigures(models.Model):
    """A run-of-show segment's figures in one session (planned vs actual, online, sales)."""

    session = models.ForeignKey(
        "planning.LiveSession", on_delete=models.CASCADE, related_name="analytics_segments"
    )
    segment = models.ForeignKey(
        "planning.Segment", on_delete=models.SET_NULL, null=True, related_name="figures"
    )
    position = models.PositiveIntegerField(default=0)
    title = models.CharField(max_length=200)
    start = models.DateTimeField(null=True)
    end = models.DateTimeField(null=True)
    figures = models.JSONField(default=dict)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.title


class ActionStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")


class ActionItem(TimeStampedModel):
    """Something to change next time, usually made from a review finding."""

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="action_items"
    )
    session = models.ForeignKey(
        "planning.LiveSession", on_delete=models.CASCADE, related_name="action_items"
    )
    finding_key = models.CharField(max_length=60, blank=True)
    title = models.CharField(_("title"), max_length=200)
    detail = models.TextField(_("detail"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="action_items",
        verbose_name=_("owner"),
    )
    due = models.DateField(_("due"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=8, choices=ActionStatus.choices, default=ActionStatus.OPEN
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        ordering = ["status", "due", "id"]

    def __str__(self) -> str:
        return self.title


class AnalyticsSettings(TimeStampedModel):
    """Workspace settings of the analysis: gift currency rates (platform unit → currency)."""

    workspace = models.OneToOneField(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="analytics_settings"
    )
    #: platform -> value of one gift unit in the session currency, e.g. {"douyin": "0.1"}
    gift_rates = models.JSONField(default=dict, blank=True)
