"""Planning: live sessions (grown by the planning issue into series, run-of-show, calendar)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from liveops.core.models import TimeStampedModel


class SessionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PLANNED = "planned", _("Planned")
    LIVE = "live", pgettext_lazy("session status", "Live")
    ENDED = "ended", _("Ended")


class LiveSession(TimeStampedModel):
    """One live broadcast on one platform account."""

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="live_sessions"
    )
    account = models.ForeignKey(
        "workspaces.PlatformAccount",
        on_delete=models.PROTECT,
        related_name="live_sessions",
        verbose_name=_("platform account"),
    )
    title = models.CharField(_("title"), max_length=200)
    scheduled_start = models.DateTimeField(_("scheduled start"), null=True, blank=True)
    scheduled_end = models.DateTimeField(_("scheduled end"), null=True, blank=True)
    actual_start = models.DateTimeField(_("actual start"), null=True, blank=True)
    actual_end = models.DateTimeField(_("actual end"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=SessionStatus.choices, default=SessionStatus.DRAFT
    )

    class Meta:
        ordering = ["-scheduled_start", "-id"]
        indexes = [models.Index(fields=["workspace", "scheduled_start"])]

    def __str__(self) -> str:
        return self.title
