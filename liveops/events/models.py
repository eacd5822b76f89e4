"""Live data bookkeeping in the app database.

The events themselves live in the Delta event store (``store.py``); here are what people
and pages need around them: rejected rows kept with their reason (quarantine), import
jobs with progress, imported per-minute platform statistics, saved column mappings,
per-session ingest tallies and live connectors.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from liveops.core.models import TimeStampedModel


class RejectedRow(models.Model):
    """A row that was sent or imported but not accepted, with the raw payload and why."""

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="+"
    )
    session = models.ForeignKey(
        "planning.LiveSession", on_delete=models.CASCADE, related_name="rejected_rows"
    )
    origin = models.CharField(max_length=40)  # "api" or "import:<job id>"
    event_id = models.CharField(max_length=140)  # the row's id, else a hash of its raw text
    location = models.CharField(max_length=60)  # "item 12", "line 345", "row 7"
    code = models.CharField(max_length=40)
    field = models.CharField(max_length=60, blank=True)
    message = models.CharField(max_length=400)
    raw = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["session", "created_at"])]
        constraints = [
            # A re-sent rejected row is kept once.
            models.UniqueConstraint(fields=["session", "event_id"], name="rejected_unique_id")
        ]

    def __str__(self) -> str:
        return f"{self.location}: {self.code}"


class IngestTally(models.Model):
    """Running per-session counts of what arrived: accepted, duplicate, rejected, by kind."""

    session = models.OneToOneField(
        "planning.LiveSession", on_delete=models.CASCADE, related_name="ingest_tally"
    )
    accepted = models.BigIntegerField(default=0)
    duplicate = models.BigIntegerField(default=0)
    rejected = models.BigIntegerField(default=0)
    by_kind = models.JSONField(default=dict)
    first_ts = models.DateTimeField(null=True, blank=True)
    last_ts = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"session {self.session_id}: {self.accepted} accepted"


class ImportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class ImportJob(TimeStampedModel):
    """One file import into a session (from the CLI or a web upload)."""

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="+"
    )
    session = models.ForeignKey(
        "planning.LiveSession", on_delete=models.CASCADE, related_name="import_jobs"
    )
    created_by = models.ForeignKey(
        "workspaces.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    filename = models.CharField(max_length=255)
    path = models.CharField(max_length=500, blank=True)
    format = models.CharField(max_length=40, blank=True)
    status = models.CharField(
        max_length=10, choices=ImportStatus.choices, default=ImportStatus.QUEUED
    )
    size_bytes = models.BigIntegerField(default=0)
    bytes_read = models.BigIntegerField(default=0)
    records = models.BigIntegerField(default=0)
    accepted = models.BigIntegerField(default=0)
    duplicate = models.BigIntegerField(default=0)
    rejected = models.BigIntegerField(default=0)
    by_kind = models.JSONField(default=dict)
    skipped = models.JSONField(default=dict)  # reason -> records that are not audience events
    error = models.TextField(blank=True)
    preset = models.ForeignKey(
        "events.ColumnPreset", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.filename


class PresetTarget(models.TextChoices):
    EVENTS = "events", _("Events")
    MINUTE_STATS = "minute_stats", _("Per-minute statistics")


class ColumnPreset(TimeStampedModel):
    """A saved CSV/XLSX column mapping (e.g. “抖音 罗盘 分钟数据导出”)."""

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="+"
    )
    name = models.CharField(_("name"), max_length=120)
    target = models.CharField(_("target"), max_length=20, choices=PresetTarget.choices)
    mapping = models.JSONField(default=dict)  # canonical field -> source column header
    options = models.JSONField(default=dict)  # time zone, timestamp format, default kind …

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="preset_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class MinuteStat(models.Model):
    """Imported per-minute platform statistics: the platform's own figures, labelled as such."""

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="+"
    )
    session = models.ForeignKey(
        "planning.LiveSession", on_delete=models.CASCADE, related_name="minute_stats"
    )
    minute = models.DateTimeField()
    platform = models.CharField(max_length=20, blank=True)
    online = models.IntegerField(null=True, blank=True)
    entries = models.IntegerField(null=True, blank=True)
    exits = models.IntegerField(null=True, blank=True)
    comments = models.IntegerField(null=True, blank=True)
    likes = models.IntegerField(null=True, blank=True)
    new_follows = models.IntegerField(null=True, blank=True)
    shares = models.IntegerField(null=True, blank=True)
    orders = models.IntegerField(null=True, blank=True)
    gmv = models.DecimalField(max_digits=18, decimal_places=2, null=True, blank=True)
    impressions = models.BigIntegerField(null=True, blank=True)
    extra = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["minute"]
        constraints = [
            models.UniqueConstraint(fields=["session", "minute"], name="minutestat_unique_minute")
        ]

    def __str__(self) -> str:
        return f"{self.session_id} {self.minute:%H:%M}"


class ConnectorKind(models.TextChoices):
    BILIBILI = "bilibili", "Bilibili (blivedm)"
    TIKTOK = "tiktok", "TikTok (TikTokLive)"
    TWITCH = "twitch", _("Twitch chat (IRC)")


class ConnectorState(models.TextChoices):
    IDLE = "idle", _("Idle")
    CONNECTING = "connecting", _("Connecting")
    CONNECTED = "connected", _("Connected")
    BACKOFF = "backoff", _("Reconnecting")
    ERROR = "error", _("Error")
    STOPPED = "stopped", _("Stopped")


class Connector(TimeStampedModel):
    """A live connection to a platform's chat/event feed for one session."""

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="+"
    )
    session = models.ForeignKey(
        "planning.LiveSession", on_delete=models.CASCADE, related_name="connectors"
    )
    kind = models.CharField(max_length=20, choices=ConnectorKind.choices)
    target = models.CharField(max_length=200)  # room id, unique id or channel
    state = models.CharField(
        max_length=12, choices=ConnectorState.choices, default=ConnectorState.IDLE
    )
    last_error = models.TextField(blank=True)
    last_event_at = models.DateTimeField(null=True, blank=True)
    events_received = models.BigIntegerField(default=0)
    attempts = models.IntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.target}"
