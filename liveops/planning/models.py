"""Planning (直播内容策划): brand profile, series with recurrence, live sessions with products
and KPI targets, run-of-show segments with atmosphere cues, templates, rooms, calendar feeds."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from liveops.core.models import TimeStampedModel


class SessionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PLANNED = "planned", _("Planned")
    READY = "ready", _("Ready")
    LIVE = "live", pgettext_lazy("session status", "Live")
    ENDED = "ended", _("Ended")
    REVIEWED = "reviewed", _("Reviewed")


class SeriesFormat(models.TextChoices):
    ECOMMERCE = "ecommerce", _("E-commerce (带货)")
    TALK = "talk", _("Talk")
    TUTORIAL = "tutorial", _("Tutorial")
    QA = "qa", _("Q&A")
    LAUNCH = "launch", _("Launch")
    BEHIND = "behind_the_scenes", _("Behind the scenes")
    GAME = "game", _("Game")
    OTHER = "other", _("Other")


class BrandProfile(TimeStampedModel):
    """Who the brand is on camera: positioning, tone, personas, pillars and taboo words."""

    workspace = models.OneToOneField(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="brand_profile"
    )
    positioning = models.TextField(_("positioning"), blank=True)
    tone = models.TextField(_("tone of voice"), blank=True)
    # [{"name", "age_band", "interests", "needs", "sources"}]
    personas = models.JSONField(_("audience personas"), default=list, blank=True)
    pillars = models.JSONField(_("content pillars"), default=list, blank=True)  # [str]
    taboo_words = models.JSONField(_("taboo words"), default=list, blank=True)  # [str]
    use_builtin_taboo = models.BooleanField(
        _("also use the built-in advertising-law list"), default=True
    )

    def __str__(self) -> str:
        return f"brand profile of {self.workspace_id}"


class Room(TimeStampedModel):
    """A studio or room where lives are produced; two lives cannot share it at once."""

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="rooms"
    )
    name = models.CharField(_("name"), max_length=80)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="room_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class RunOfShowTemplate(TimeStampedModel):
    """A reusable run-of-show: segments (and their cues) as plain data."""

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="ros_templates"
    )
    name = models.CharField(_("name"), max_length=120)
    # [{"kind", "title", "duration_s", "talking_points", "host_lines",
    #   "cues": [{"at_s", "kind", "description"}]}]
    segments = models.JSONField(default=list)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="template_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class Series(TimeStampedModel):
    """A recurring programme (栏目): e.g. every Tue and Thu at 20:00 for 8 weeks."""

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="series"
    )
    title = models.CharField(_("title"), max_length=200)
    theme = models.TextField(_("theme"), blank=True)
    format = models.CharField(
        _("format"), max_length=20, choices=SeriesFormat.choices, default=SeriesFormat.ECOMMERCE
    )
    accounts = models.ManyToManyField(
        "workspaces.PlatformAccount", related_name="series", verbose_name=_("platform accounts")
    )
    hosts = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="hosted_series", blank=True, verbose_name=_("hosts")
    )
    field_controller = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="controlled_series",
        verbose_name=_("field controller"),
    )
    room = models.ForeignKey(
        Room,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="series",
        verbose_name=_("room"),
    )
    # RFC 5545 RRULE (without DTSTART), e.g. "FREQ=WEEKLY;BYDAY=TU,TH;COUNT=16"; the first
    # occurrence's local date and time is dtstart, in the workspace time zone.
    rrule = models.CharField(_("recurrence (RRULE)"), max_length=500, blank=True)
    dtstart = models.DateTimeField(_("first start"))
    default_duration_min = models.PositiveIntegerField(_("default duration (minutes)"), default=120)
    template = models.ForeignKey(
        RunOfShowTemplate,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="series",
        verbose_name=_("default run-of-show template"),
    )
    # {"uv", "pcu", "avg_watch_s", "follows", "gmv", "interaction_rate"}
    kpi_targets = models.JSONField(_("KPI targets"), default=dict, blank=True)

    class Meta:
        ordering = ["title"]
        verbose_name_plural = _("series")

    def __str__(self) -> str:
        return self.title


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
    series = models.ForeignKey(
        Series,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="sessions",
        verbose_name=_("series"),
    )
    #: Simulcast: this session is the same event streamed on another platform account as
    #: the session it points to (the group's main session, which points nowhere).
    simulcast_of = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="simulcasts",
        verbose_name=_("simulcast of"),
    )
    title = models.CharField(_("title"), max_length=200)
    scheduled_start = models.DateTimeField(_("scheduled start"), null=True, blank=True)
    scheduled_end = models.DateTimeField(_("scheduled end"), null=True, blank=True)
    actual_start = models.DateTimeField(_("actual start"), null=True, blank=True)
    actual_end = models.DateTimeField(_("actual end"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=SessionStatus.choices, default=SessionStatus.DRAFT
    )
    hosts = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        related_name="hosted_sessions",
        blank=True,
        verbose_name=_("hosts"),
    )
    field_controller = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="controlled_sessions",
        verbose_name=_("field controller"),
    )
    room = models.ForeignKey(
        Room,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="sessions",
        verbose_name=_("room"),
    )
    kpi_targets = models.JSONField(_("KPI targets"), default=dict, blank=True)

    class Meta:
        ordering = ["-scheduled_start", "-id"]
        indexes = [models.Index(fields=["workspace", "scheduled_start"])]

    def __str__(self) -> str:
        return self.title


class SessionProduct(TimeStampedModel):
    """A product in a session's lineup, in explanation order."""

    session = models.ForeignKey(LiveSession, on_delete=models.CASCADE, related_name="products")
    position = models.PositiveIntegerField(_("explanation order"), default=0)
    name = models.CharField(_("name"), max_length=200)
    sku = models.CharField(_("SKU"), max_length=80, blank=True)
    price = models.DecimalField(
        _("list price"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    live_price = models.DecimalField(
        _("live price"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    stock = models.PositiveIntegerField(_("stock"), null=True, blank=True)
    selling_points = models.TextField(_("selling points"), blank=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class SegmentKind(models.TextChoices):
    OPENING = "opening", _("Opening")
    WARM_UP = "warm_up", _("Warm-up")
    PRODUCT = "product", _("Product explanation")
    INTERACTION = "interaction", _("Interaction / lucky draw")
    QA = "qa", _("Q&A")
    CLOSING = "closing", _("Closing")
    OTHER = "other", _("Other")


class Segment(TimeStampedModel):
    """One run-of-show segment (直播脚本): planned offset from the start and duration."""

    session = models.ForeignKey(LiveSession, on_delete=models.CASCADE, related_name="segments")
    position = models.PositiveIntegerField(default=0)
    kind = models.CharField(
        _("type"), max_length=20, choices=SegmentKind.choices, default=SegmentKind.OTHER
    )
    title = models.CharField(_("title"), max_length=200)
    offset_s = models.PositiveIntegerField(_("planned offset (s)"), default=0)
    duration_s = models.PositiveIntegerField(_("planned duration (s)"))
    talking_points = models.TextField(_("talking points"), blank=True)
    host_lines = models.TextField(_("host lines"), blank=True)
    product = models.ForeignKey(
        SessionProduct,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="segments",
        verbose_name=_("product"),
    )

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.title


class CueKind(models.TextChoices):
    MUSIC = "music", _("Music track")
    PROPS = "props", _("Props")
    LIGHTING = "lighting", _("Lighting preset")
    OVERLAY = "overlay", _("On-screen overlay")


class Cue(TimeStampedModel):
    """An atmosphere cue at a time within its segment."""

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="cues")
    at_s = models.PositiveIntegerField(_("at (s into the segment)"), default=0)
    kind = models.CharField(_("type"), max_length=12, choices=CueKind.choices)
    description = models.CharField(_("description"), max_length=300)

    class Meta:
        ordering = ["at_s", "id"]

    def __str__(self) -> str:
        return f"{self.kind} @{self.at_s}s"


class PlanningSettings(TimeStampedModel):
    """Workspace-wide planning rules: the minimum gap between sessions on an account."""

    workspace = models.OneToOneField(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="planning_settings"
    )
    min_gap_minutes = models.PositiveIntegerField(
        _("minimum gap between sessions (minutes)"), default=30
    )

    def __str__(self) -> str:
        return f"planning settings of {self.workspace_id}"


class FrequencyTarget(TimeStampedModel):
    """How many lives a week an account should have."""

    account = models.OneToOneField(
        "workspaces.PlatformAccount", on_delete=models.CASCADE, related_name="frequency_target"
    )
    lives_per_week = models.PositiveIntegerField(_("lives per week"))

    def __str__(self) -> str:
        return f"{self.account_id}: {self.lives_per_week}/week"


class CalendarFeed(TimeStampedModel):
    """A secret-token iCalendar feed of a workspace, or of one host in it."""

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="calendar_feeds"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="calendar_feeds",
    )
    token_hash = models.CharField(max_length=64, unique=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"feed {self.pk}"
