"""The demo workspace of `make run`: real objects, no invented figures.

Besides the login, accounts and planned sessions, the workspace gets live data made the
way real data arrives: four ended sessions of the past weeks (one the Douyin simulcast of
the Bilibili one) whose events were generated (``liveops.events.generator``) and stored
through the ingest service, and one session that
is live now, fed by :func:`demo_live_replay` — a generated recording sent through the real
ingest API by ``liveops replay`` with the demo's API key.

Everything is idempotent: a second run finds what the first made (sessions by title,
events by their tally, the API key by the secret kept in ``DATA_DIR/demo/api-key``).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from liveops.events.generator import generate, generate_session_file, viewers_for
from liveops.events.models import IngestTally
from liveops.events.replay import ReplayError, ReplayProgress, Totals, replay, wait_for_server
from liveops.events.services import ingest_rows
from liveops.planning.models import LiveSession, SessionStatus
from liveops.planning.selectors import session_list
from liveops.planning.services import session_create, session_set_simulcast, session_update
from liveops.workspaces.models import PlatformAccount, User, Workspace
from liveops.workspaces.roles import Role
from liveops.workspaces.selectors import account_first_for_platform, workspace_get_by_slug
from liveops.workspaces.services import (
    account_create,
    api_key_authenticate,
    api_key_create,
    membership_add,
    user_create,
    workspace_create,
)

DEMO_SLUG = "demo"
DEMO_EMAIL = "demo@liveops.local"
# A published login for local evaluation only; `liveops demo` refuses production settings.
DEMO_PASSWORD = "liveops-demo-2026"  # noqa: S105
DEMO_KEY_NAME = "demo live feed (liveops replay)"
DEMO_URL = "http://127.0.0.1:8000"


@dataclass(frozen=True)
class DemoPast:
    """An ended demo session and the generated events it holds."""

    title: str
    platform: str
    days_ago: int
    start: time
    duration_s: int
    events: int
    seed: int
    #: The title of the session this one is a simulcast of (same event, another platform).
    simulcast_of: str | None = None


#: The ended sessions (events are generated once each; the seed keeps their ids apart).
ENDED_SESSIONS: list[DemoPast] = [
    DemoPast("新品首发 · 玻尿酸保湿精华专场", "douyin", 20, time(20, 0), 3 * 3600, 45_000, 101),
    DemoPast("周末宠粉福利夜", "douyin", 13, time(19, 30), int(2.5 * 3600), 60_000, 102),
    DemoPast("产品经理面对面 · 成分答疑", "bilibili", 6, time(20, 0), int(1.5 * 3600), 22_000, 103),
    DemoPast(
        "产品经理面对面 · 成分答疑（抖音同播）",
        "douyin",
        6,
        time(20, 0),
        int(1.5 * 3600),
        14_000,
        104,
        simulcast_of="产品经理面对面 · 成分答疑",
    ),
]
#: The live session and its recording: about 40 000 events over 3 hours, replayed at real
#: time from 20 minutes in (those first minutes are sent at once as history).
LIVE_TITLE = "冬季护肤宠粉专场 · 直播中"
LIVE_RECORDING: dict[str, int] = {"duration_s": 3 * 3600, "viewers": 3500}
LIVE_HISTORY_S = 20 * 60
INGEST_BATCH = 10_000


@dataclass(frozen=True)
class DemoResult:
    workspace_slug: str
    workspace_name: str
    email: str
    password: str
    live_session_id: int | None = None
    api_key_file: str = ""
    recording: str = ""
    replay_hint: str = ""


def demo_dir() -> Path:
    return Path(settings.DATA_DIR) / "demo"


def api_key_file() -> Path:
    return demo_dir() / "api-key"


def demo_setup() -> DemoResult:
    """Create the demo workspace, owner login, accounts, sessions and live data; safe to repeat.

    The objects are created in one transaction; the events of the ended sessions are
    stored afterwards, batch by batch, and only while a session's tally has fewer than
    its planned events (so a second run stores nothing, and an interrupted run resumes).
    """
    workspace, live = _demo_objects()
    for plan in ENDED_SESSIONS:
        session = session_list(workspace=workspace).filter(title=plan.title).first()
        if session is not None:
            _ensure_events(session, plan)
    recording = live_recording(live)
    key_path = api_key_file()
    hint = (
        f"liveops replay --demo --url {DEMO_URL}   (or: LIVEOPS_API_KEY=$(cat {key_path}) "
        f"liveops replay {recording} --session {live.pk} --speed 1 --history 20m)"
    )
    return DemoResult(
        workspace.slug,
        workspace.name,
        DEMO_EMAIL,
        DEMO_PASSWORD,
        live_session_id=live.pk,
        api_key_file=str(key_path),
        recording=str(recording),
        replay_hint=hint,
    )


@transaction.atomic
def _demo_objects() -> tuple[Workspace, LiveSession]:
    user = User.objects.filter(email=DEMO_EMAIL).first()
    if user is None:
        user = user_create(email=DEMO_EMAIL, password=DEMO_PASSWORD, display_name="演示运营 Demo")
    else:
        # Keep the printed login working even if someone changed the password.
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    workspace = workspace_get_by_slug(slug=DEMO_SLUG)
    if workspace is None:
        workspace = workspace_create(name="演示品牌 Demo Brand", owner=user, slug=DEMO_SLUG)
    membership_add(workspace=workspace, user=user, role=Role.OWNER, by=user)
    accounts: dict[str, PlatformAccount] = {}
    for platform, name in [("douyin", "演示品牌官方旗舰店"), ("bilibili", "演示品牌UP主")]:
        accounts[platform] = account_first_for_platform(
            workspace=workspace, platform=platform
        ) or account_create(workspace=workspace, by=user, platform=platform, name=name)
    tz = ZoneInfo(workspace.time_zone)
    today = timezone.now().astimezone(tz).date()
    if not session_list(workspace=workspace).exists():
        plan = [
            ("douyin", "双12预热专场 · 新品首发", 1, SessionStatus.PLANNED),
            ("douyin", "周四宠粉福利夜", 3, SessionStatus.PLANNED),
            ("bilibili", "产品经理面对面 Q&A", 5, SessionStatus.DRAFT),
        ]
        for platform, title, days, status in plan:
            start = datetime.combine(today + timedelta(days=days), time(20, 0), tzinfo=tz)
            session_create(
                workspace=workspace,
                by=user,
                account=accounts[platform],
                title=title,
                scheduled_start=start,
                scheduled_end=start + timedelta(hours=2),
                status=status,
            )
    for past in ENDED_SESSIONS:
        if session_list(workspace=workspace).filter(title=past.title).exists():
            continue
        start = datetime.combine(today - timedelta(days=past.days_ago), past.start, tzinfo=tz)
        session = session_create(
            workspace=workspace,
            by=user,
            account=accounts[past.platform],
            title=past.title,
            scheduled_start=start,
            scheduled_end=start + timedelta(seconds=past.duration_s),
            status=SessionStatus.PLANNED,
        )
        actual_start = start + timedelta(minutes=2)  # lives rarely start on the minute
        _session_set(
            session,
            by=user,
            actual_start=actual_start,
            actual_end=actual_start + timedelta(seconds=past.duration_s),
            status=SessionStatus.ENDED,
        )
    for past in ENDED_SESSIONS:
        if past.simulcast_of is None:
            continue
        twin = session_list(workspace=workspace).filter(title=past.title).first()
        main = session_list(workspace=workspace).filter(title=past.simulcast_of).first()
        if twin is not None and main is not None and twin.simulcast_of_id is None:
            session_set_simulcast(session=twin, main=main, by=user)
    live = _live_session(workspace)
    if live is None:
        live = _live_session_create(workspace, accounts["douyin"], user)
    _demo_api_key(workspace, user)
    return workspace, live


def _session_set(
    session: LiveSession,
    *,
    by: User | None,
    status: str,
    actual_start: datetime | None = None,
    actual_end: datetime | None = None,
    scheduled_start: datetime | None = None,
    scheduled_end: datetime | None = None,
) -> LiveSession:
    return session_update(
        session=session,
        by=by,
        account=session.account,
        title=session.title,
        scheduled_start=scheduled_start or session.scheduled_start,
        scheduled_end=scheduled_end or session.scheduled_end,
        actual_start=actual_start or session.actual_start,
        actual_end=actual_end or session.actual_end,
        status=status,
    )


def _ensure_run_of_show(session: LiveSession, plan: DemoPast) -> None:
    """The run-of-show the generated live followed: opening, the generator's product and
    lucky-draw segments, closing — so the review can say which segment won or lost viewers."""
    from decimal import Decimal

    from liveops.events.generator import DEFAULT_PRODUCTS, default_segments
    from liveops.planning import runofshow

    if session.segments.exists():
        return
    products = {
        p.product_id: runofshow.product_create(
            session=session, by=None, name=p.name, sku=p.product_id, price=Decimal(p.price)
        )
        for p in DEFAULT_PRODUCTS
    }
    segments = default_segments(plan.duration_s, plan.seed, len(DEFAULT_PRODUCTS))
    if segments and segments[0].start_s > 0:
        runofshow.segment_create(
            session=session, by=None, kind="opening", title="开场 · 福利预告",
            duration_s=segments[0].start_s, offset_s=0,
        )  # fmt: skip
    for seg in segments:
        product = DEFAULT_PRODUCTS[seg.product]
        if seg.kind == "product":
            title, kind, linked = f"讲解：{product.name}", "product", products[product.product_id]
        else:
            title, kind, linked = "福利抽奖", "interaction", None
        runofshow.segment_create(
            session=session, by=None, kind=kind, title=title,
            duration_s=seg.end_s - seg.start_s, offset_s=seg.start_s, product=linked,
        )  # fmt: skip
    last_end = segments[-1].end_s if segments else 0
    if plan.duration_s - last_end >= 60:
        runofshow.segment_create(
            session=session, by=None, kind="closing", title="收尾 · 下场预告",
            duration_s=plan.duration_s - last_end, offset_s=last_end,
        )  # fmt: skip


def _ensure_events(session: LiveSession, plan: DemoPast) -> None:
    """Store the session's generated events unless its tally already has them all."""
    _ensure_run_of_show(session, plan)
    tally = IngestTally.objects.filter(session=session).first()
    if tally is not None and tally.accepted + tally.duplicate >= plan.events:
        return
    assert session.actual_start is not None
    platform = session.account.platform
    events = generate(
        n_events=plan.events,
        duration_s=plan.duration_s,
        viewers=viewers_for(plan.events, duration_s=plan.duration_s, platform=platform),
        start=session.actual_start,
        seed=plan.seed,
        platform=platform,
        currency=session.account.currency,
    )
    rows: list[dict[str, object]] = []
    for event in events:
        rows.append(event)
        if len(rows) == INGEST_BATCH:
            ingest_rows(session=session, rows=rows, origin="demo")
            rows = []
    if rows:
        ingest_rows(session=session, rows=rows, origin="demo")


# -- the live session ---------------------------------------------------------------------


def _live_session(workspace: Workspace) -> LiveSession | None:
    return (
        session_list(workspace=workspace)
        .filter(status=SessionStatus.LIVE)
        .select_related("account")
        .order_by("-id")
        .first()
    )


def _live_session_create(
    workspace: Workspace, account: PlatformAccount, by: User | None
) -> LiveSession:
    now = timezone.now().replace(microsecond=0)
    session = session_create(
        workspace=workspace,
        by=by,
        account=account,
        title=LIVE_TITLE,
        scheduled_start=now,
        scheduled_end=now + timedelta(seconds=LIVE_RECORDING["duration_s"]),
        status=SessionStatus.LIVE,
    )
    return _session_set(session, by=by, actual_start=now, status=SessionStatus.LIVE)


def live_recording(session: LiveSession) -> Path:
    """The recording that feeds ``session`` (generated once, under ``DATA_DIR/demo``)."""
    path = demo_dir() / f"live-{session.pk}.ndjson.gz"
    if not path.exists():
        start = session.actual_start or session.scheduled_start or timezone.now()
        generate_session_file(
            path,
            duration_s=LIVE_RECORDING["duration_s"],
            viewers=LIVE_RECORDING["viewers"],
            start=start,
            seed=7000 + session.pk,  # distinct event ids for every live session
            platform=session.account.platform,
            currency=session.account.currency,
        )
    return path


def _demo_api_key(workspace: Workspace, user: User | None) -> str:
    """The demo key's secret: reused from ``DATA_DIR/demo/api-key`` (mode 600) if it still
    works, else a new key whose secret is written there (keys are stored hashed)."""
    path = api_key_file()
    if path.exists():
        secret = path.read_text().strip()
        key = api_key_authenticate(secret)
        if key is not None and key.workspace_id == workspace.pk:
            path.chmod(0o600)
            return secret
    _, secret = api_key_create(workspace=workspace, name=DEMO_KEY_NAME, by=user)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(secret + "\n")
    path.chmod(0o600)
    return secret


def demo_live_prepare() -> tuple[LiveSession, Path, str]:
    """The live session to feed (a fresh one if the last was already fed), its recording
    and the demo key's secret. ``demo_setup`` must have run."""
    workspace = workspace_get_by_slug(slug=DEMO_SLUG)
    if workspace is None:
        raise ReplayError("there is no demo workspace yet; run `liveops demo` first")
    user = User.objects.filter(email=DEMO_EMAIL).first()
    with transaction.atomic():
        live = _live_session(workspace)
        tally = None if live is None else IngestTally.objects.filter(session=live).first()
        if live is not None and tally is not None and tally.accepted > 0:
            # Fed by an earlier run (stopped with the server): it has ended.
            ended = tally.last_ts or timezone.now()
            if live.actual_start is not None:
                ended = max(ended, live.actual_start + timedelta(seconds=1))
            _session_set(live, by=user, actual_end=ended, status=SessionStatus.ENDED)
            live = None
        if live is None:
            account = account_first_for_platform(workspace=workspace, platform="douyin")
            if account is None:
                raise ReplayError("the demo workspace has no Douyin account; run `liveops demo`")
            live = _live_session_create(workspace, account, user)
        secret = _demo_api_key(workspace, user)
    return live, live_recording(live), secret


def demo_live_replay(
    *,
    base_url: str = DEMO_URL,
    speed: float = 1.0,
    wait_s: float = 120.0,
    progress: Callable[[ReplayProgress], None] | None = None,
    stop: threading.Event | None = None,
) -> tuple[LiveSession, Totals]:
    """Feed the demo's live session through the real ingest API until the recording ends.

    Waits up to ``wait_s`` for the server (``make run`` starts this next to it), then
    replays the session's recording at ``speed`` × real time, starting 20 minutes in (the
    first 20 minutes are sent at once, in the past). The session ends when the recording
    does; a replay stopped early (Ctrl-C, SIGTERM, ``stop``) leaves it live, and the next
    run ends it and starts a new live session. Raises ``ReplayError``.
    """
    if wait_s > 0 and not wait_for_server(base_url, timeout_s=wait_s):
        raise ReplayError(f"no LiveOps server answered at {base_url} within {wait_s:.0f} s")
    live, recording, secret = demo_live_prepare()
    history = min(LIVE_HISTORY_S, LIVE_RECORDING["duration_s"] // 2)
    now = timezone.now().replace(microsecond=0)
    started = now - timedelta(seconds=history / speed)
    live = _session_set(
        live,
        by=None,
        scheduled_start=started,
        scheduled_end=started + timedelta(seconds=LIVE_RECORDING["duration_s"] / speed),
        actual_start=started,
        status=SessionStatus.LIVE,
    )
    totals = replay(
        recording,
        base_url=base_url,
        api_key=secret,
        session_id=live.pk,
        speed=speed,
        history_s=history,
        progress=progress,
        stop=stop,
    )
    if not totals.interrupted:
        ended = max(timezone.now(), started + timedelta(seconds=1))
        live = _session_set(live, by=None, actual_end=ended, status=SessionStatus.ENDED)
    return live, totals
