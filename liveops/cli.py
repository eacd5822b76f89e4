"""The `liveops` command. Signatures here are stable: scripts and checks call them.

liveops serve [--host H] [--port P]
liveops demo
liveops workspace create --name N [--owner EMAIL]          prints the slug
liveops session create --workspace SLUG --title T --platform P [--start ISO] [--end ISO]
                                                           prints the new session's id
liveops connect --session ID --kind twitch|bilibili|tiktok --target CHANNEL_OR_ROOM
                [--host H --port P --no-tls]              runs until Ctrl-C, prints totals
liveops generate --out FILE [--events N | --duration 4h] [--viewers N] [--start ISO]
                 [--seed N] [--platform P] [--gzip]       prints what it wrote as JSON
liveops replay FILE --session ID --speed 10 [--url URL] [--api-key KEY | $LIVEOPS_API_KEY]
liveops replay --demo                                      feeds the demo's live session;
                                                           both print totals as JSON
liveops metrics SESSION_ID --json                          one JSON object keyed by the
                                                           METRICS.md keys; null = not available
liveops review SESSION_ID [--pdf FILE] [--xlsx FILE] [--language zh-hans|en]
                                                           writes the review; prints the paths
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

Handler = Callable[[argparse.Namespace], int]


class CliError(Exception):
    """A user mistake: printed as one line on stderr, exit code 2."""


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    import django

    django.setup()


def _parse_time(value: str | None, tz_name: str, flag: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise CliError(
            f"{flag}: “{value}” is not an ISO date-time (e.g. 2026-12-01T20:00+08:00)"
        ) from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ZoneInfo(tz_name))
    return parsed


def cmd_serve(args: argparse.Namespace) -> int:
    _setup()
    import uvicorn
    from django.conf import settings
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    try:
        call_command("check", deploy=not settings.DEBUG, fail_level="ERROR")
    except SystemCheckError as exc:
        raise CliError(" ".join(str(exc).split())) from exc
    if not settings.DEBUG:
        call_command("collectstatic", "--noinput", verbosity=0)
    from liveops.analytics.runtime import start_refresher

    start_refresher()  # keeps live and freshly imported sessions' results current
    uvicorn.run(
        "config.asgi:application",
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level="info",
        proxy_headers=True,
    )
    return 0


def cmd_refresh(args: argparse.Namespace) -> int:
    _setup()
    from liveops.analytics.runtime import refresh_forever
    from liveops.analytics.services import sessions_refresh

    if args.once:
        print(sessions_refresh())
        return 0
    with contextlib.suppress(KeyboardInterrupt):
        refresh_forever(every=args.every, parent=args.parent)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    _setup()
    from django.conf import settings

    from liveops.demo import demo_setup

    if not settings.DEBUG:
        raise CliError("demo creates a published login; run it only with development settings")

    result = demo_setup()
    print("LiveOps demo workspace is ready.")
    print(f"  workspace: {result.workspace_name} ({result.workspace_slug})")
    print(f"  sign in:   {result.email} / {result.password}")
    print("  open:      http://127.0.0.1:8000/")
    if result.replay_hint:
        print(f"  live feed: {result.replay_hint}")
    return 0


def cmd_workspace_create(args: argparse.Namespace) -> int:
    _setup()
    from django.core.exceptions import ValidationError

    from liveops.workspaces.models import User
    from liveops.workspaces.services import workspace_create

    owner = None
    if args.owner:
        owner = User.objects.filter(email=args.owner.lower()).first()
        if owner is None:
            raise CliError(f"--owner: no user with email {args.owner}")
    try:
        workspace = workspace_create(
            name=args.name, owner=owner, time_zone=args.time_zone, currency=args.currency
        )
    except ValidationError as exc:
        raise CliError("; ".join(exc.messages)) from exc
    print(workspace.slug)
    return 0


def cmd_session_create(args: argparse.Namespace) -> int:
    _setup()
    from django.core.exceptions import ValidationError
    from django.db import transaction

    from liveops.planning.services import session_create
    from liveops.workspaces.models import Platform
    from liveops.workspaces.selectors import account_first_for_platform, workspace_get_by_slug
    from liveops.workspaces.services import account_create

    workspace = workspace_get_by_slug(slug=args.workspace)
    if workspace is None:
        raise CliError(f"--workspace: no workspace with slug “{args.workspace}”")
    if args.platform not in Platform.values:
        raise CliError(f"--platform: “{args.platform}” is not one of {', '.join(Platform.values)}")
    start = _parse_time(args.start, workspace.time_zone, "--start")
    end = _parse_time(args.end, workspace.time_zone, "--end")
    try:
        # One transaction: a session that fails validation leaves no new account behind.
        with transaction.atomic():
            account = account_first_for_platform(workspace=workspace, platform=args.platform)
            if account is None:
                # Scripts name only the platform; its first use creates the workspace's account.
                account = account_create(
                    workspace=workspace,
                    by=None,
                    platform=args.platform,
                    name=str(Platform(args.platform).label),
                )
            session = session_create(
                workspace=workspace,
                by=None,
                account=account,
                title=args.title,
                scheduled_start=start,
                scheduled_end=end,
                status="planned" if start else "draft",
            )
    except ValidationError as exc:
        raise CliError(
            "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
        ) from exc
    print(session.pk)
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    _setup()
    import json
    from pathlib import Path

    from liveops.core.progress import Progress
    from liveops.events.models import ImportJob
    from liveops.events.services import import_file
    from liveops.planning.models import LiveSession

    path = Path(args.file)
    if not path.is_file():
        raise CliError(f"FILE: {args.file} does not exist or is not a file")
    session = (
        LiveSession.objects.select_related("account", "workspace").filter(pk=args.session).first()
    )
    if session is None:
        raise CliError(f"--session: no live session with id {args.session}")
    options: dict[str, Any] = {}
    if args.time_zone:
        options["time_zone"] = args.time_zone
    if args.date:
        options["date"] = args.date
    if args.target:
        options["target"] = args.target
    if args.base_ts:
        options["base_ts"] = args.base_ts
    bar = Progress(path.stat().st_size, "import")

    def progress(job: ImportJob) -> None:
        bar.update(job.bytes_read, f"{job.records:,} records · {job.accepted:,} accepted")

    job = import_file(
        session=session, path=str(path), fmt=args.format, options=options, progress=progress
    )
    bar.close()
    if job.error:
        raise CliError(job.error)
    print(
        json.dumps(
            {
                "job": job.pk,
                "format": job.format,
                "records": job.records,
                "accepted": job.accepted,
                "duplicate": job.duplicate,
                "rejected": job.rejected,
                "skipped": sum(job.skipped.values()),
                "by_kind": job.by_kind,
                "skipped_by_reason": job.skipped,
            },
            ensure_ascii=False,
        )
    )
    return 0


def _json_number(value: Any) -> Any:
    """Decimals as JSON numbers when exact as a float (money in scripts), else as text."""
    from decimal import Decimal

    if isinstance(value, Decimal):
        as_float = float(value)
        return as_float if Decimal(repr(as_float)) == value else str(value)
    if isinstance(value, dict):
        return {k: _json_number(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_number(v) for v in value]
    return value


def _session_arg(session_id: int) -> Any:
    from liveops.planning.models import LiveSession

    session = (
        LiveSession.objects.select_related("account", "workspace", "series")
        .filter(pk=session_id)
        .first()
    )
    if session is None:
        raise CliError(f"SESSION_ID: no live session with id {session_id}")
    return session


def cmd_metrics(args: argparse.Namespace) -> int:
    _setup()
    import json

    from liveops.analytics.selectors import metrics_document
    from liveops.analytics.services import session_materialize

    session = _session_arg(args.session_id)
    result = session_materialize(session=session)
    doc = metrics_document(session=session, result=result)
    if args.json:
        print(json.dumps(_json_number(doc), ensure_ascii=False))
    else:
        width = max(len(k) for k in doc)
        for key, value in doc.items():
            if not isinstance(value, list | dict):
                print(f"{key:<{width}}  {'—' if value is None else value}")
    return 0


def cmd_review(args: argparse.Namespace) -> int:
    _setup()
    import json
    from pathlib import Path

    from liveops.reports.services import review_files

    session = _session_arg(args.session_id)
    if not args.pdf and not args.xlsx:
        raise CliError("give --pdf FILE and/or --xlsx FILE")
    written = review_files(
        session=session,
        pdf=Path(args.pdf) if args.pdf else None,
        xlsx=Path(args.xlsx) if args.xlsx else None,
        language=args.language,
    )
    print(json.dumps({k: str(v) for k, v in written.items()}, ensure_ascii=False))
    return 0


def cmd_compact(args: argparse.Namespace) -> int:
    _setup()
    import json

    from liveops.events.runtime import event_store
    from liveops.planning.models import LiveSession

    workspace_id = session_id = None
    if args.session is not None:
        session = LiveSession.objects.filter(pk=args.session).first()
        if session is None:
            raise CliError(f"--session: no live session with id {args.session}")
        workspace_id, session_id = session.workspace_id, session.pk
    result = event_store().compact(workspace_id, session_id)
    if session_id is not None and workspace_id is not None:
        from liveops.events.services import tally_reconcile

        tally_reconcile(workspace_id=workspace_id, session_id=session_id)
    print(
        json.dumps(
            {
                "files_before": result.files_before,
                "files_after": result.files_after,
                "files_vacuumed": result.files_vacuumed,
                "seconds": round(result.seconds, 3),
            }
        )
    )
    return 0


def cmd_connect(args: argparse.Namespace) -> int:
    _setup()
    import asyncio
    import json
    import signal

    from liveops.events.connectors import ConnectorError, make_connector
    from liveops.events.connectors.runner import Totals, django_sink, django_state, run
    from liveops.events.models import Connector, ConnectorState
    from liveops.planning.models import LiveSession

    session = (
        LiveSession.objects.select_related("account", "workspace").filter(pk=args.session).first()
    )
    if session is None:
        raise CliError(f"--session: no live session with id {args.session}")
    options: dict[str, Any] = {}
    if args.kind == "twitch":
        options = {"tls": not args.no_tls, "port": args.port}
        if args.host:
            options["host"] = args.host
    elif args.host or args.port is not None or args.no_tls:
        raise CliError("--host, --port and --no-tls are for --kind twitch only")
    try:
        connector = make_connector(args.kind, args.target, **options)
    except ConnectorError as exc:
        raise CliError(f"--target: {exc}") from exc
    row, _ = Connector.objects.update_or_create(
        session=session,
        kind=args.kind,
        target=connector.target,
        defaults={
            "workspace_id": session.workspace_id,
            "state": ConnectorState.IDLE,
            "attempts": 0,
            "last_error": "",
        },
    )
    sink = django_sink(session, origin=f"connector:{row.pk}")

    async def until_stopped() -> Totals:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        signals = (signal.SIGINT, signal.SIGTERM)
        for sig in signals:
            loop.add_signal_handler(sig, stop.set)
        try:
            return await run(connector, sink=sink, on_state=django_state(row), stop=stop)
        finally:
            for sig in signals:
                loop.remove_signal_handler(sig)

    totals = asyncio.run(until_stopped())
    print(json.dumps({"connector": row.pk, **totals.as_dict()}, ensure_ascii=False), flush=True)
    if totals.state == ConnectorState.ERROR:
        raise CliError(f"{args.kind} {connector.target}: {totals.last_error}")
    return 0


def _duration(value: str) -> int:
    """argparse type: "4h", "90m", "1h30m", "45s" or plain seconds → seconds."""
    import re

    text = value.strip().lower()
    if text.isdigit():
        return int(text)
    match = re.fullmatch(r"(?:(\d+)h)?\s*(?:(\d+)m(?:in)?)?\s*(?:(\d+)s)?", text)
    if not text or match is None:
        raise argparse.ArgumentTypeError(f"“{value}” is not a duration (e.g. 4h, 90m, 1h30m)")
    hours, minutes, seconds = (int(g) if g else 0 for g in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def _reporter(
    label: str, total: int | None
) -> tuple[Callable[[int, str], None], Callable[[], None]]:
    """A progress bar on a terminal; otherwise a plain line on stderr every 5 seconds."""
    import time

    from liveops.core.progress import Progress

    bar = Progress(total, label)
    if bar.enabled:
        return bar.update, bar.close
    last = [time.monotonic()]

    def line(done: int, note: str) -> None:
        now = time.monotonic()
        if now - last[0] >= 5:
            last[0] = now
            print(f"{label}: {note}", file=sys.stderr, flush=True)

    return line, lambda: None


def cmd_generate(args: argparse.Namespace) -> int:
    import json

    from liveops.events.generator import GenerateProgress, generate_session_file, viewers_for

    if args.events is not None and args.events < 0:
        raise CliError("--events must be 0 or more")
    duration = args.duration if args.duration is not None else 2 * 3600
    if duration < 10:
        raise CliError("--duration must be at least 10 seconds")
    viewers = args.viewers
    if viewers is None:
        viewers = (
            viewers_for(args.events, duration_s=duration, seed=args.seed, platform=args.platform)
            if args.events is not None
            else 5000
        )
    if args.start:
        start = _parse_time(args.start, "Asia/Shanghai", "--start")
    else:  # today 20:00 in China, the prime time of a live
        tz = ZoneInfo("Asia/Shanghai")
        start = datetime.now(tz).replace(hour=20, minute=0, second=0, microsecond=0)
    total = args.events if args.events is not None else duration
    update, close = _reporter("generate", total)

    def progress(p: GenerateProgress) -> None:
        done = p.events if p.target_events is not None else int(p.live_s)
        minutes = f"{p.live_s / 60:.0f} of {p.duration_s / 60:.0f} min"
        update(done, f"{p.events:,} events · {minutes} of the live")

    try:
        written = generate_session_file(
            args.out,
            gzip=True if args.gzip else None,
            progress=progress,
            n_events=args.events,
            duration_s=duration,
            viewers=viewers,
            start=start,
            seed=args.seed,
            platform=args.platform,
            ts_format="iso" if args.iso else "ms",
        )
    except (ValueError, OSError) as exc:
        raise CliError(str(exc)) from exc
    except KeyboardInterrupt:
        close()
        print("liveops: generate interrupted; nothing was written", file=sys.stderr)
        return 130
    finally:
        close()
    print(
        json.dumps(
            {
                "path": str(written.path),
                "events": written.events,
                "bytes": written.bytes,
                "seconds": round(written.seconds, 3),
                "events_per_s": round(written.events_per_s),
                "viewers": viewers,
                "duration_s": duration,
                "start": start.isoformat() if start else None,
                "seed": args.seed,
                "platform": args.platform,
            },
            ensure_ascii=False,
        )
    )
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    import json
    import signal
    from types import FrameType

    from liveops.events.replay import ReplayError, ReplayProgress, Totals, replay

    def terminate(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt  # SIGTERM (e.g. from `make run` stopping) stops cleanly too

    update, close = _reporter("replay", 1000)

    def progress(p: ReplayProgress) -> None:
        t = p.totals
        update(
            int(p.fraction * 1000),
            f"{t.sent:,} sent · {t.accepted:,} new · {t.duplicate:,} dup · "
            f"{t.rejected:,} rejected · {t.retries} retries · live {p.live_s / 60:.1f} min",
        )

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        if args.demo:
            _setup()
            from liveops.demo import demo_live_replay

            live, totals = demo_live_replay(
                base_url=args.url, speed=args.speed, wait_s=args.wait, progress=progress
            )
            session_id = live.pk
        else:
            if not args.file or args.session is None:
                raise CliError("give FILE and --session ID (or --demo)")
            api_key = args.api_key or os.environ.get("LIVEOPS_API_KEY", "")
            if not api_key:
                raise CliError("--api-key: give the key or set LIVEOPS_API_KEY")
            if args.wait:
                from liveops.events.replay import wait_for_server

                if not wait_for_server(args.url, timeout_s=args.wait):
                    raise CliError(f"--url: no server answered at {args.url} in {args.wait:.0f} s")
            session_id = args.session
            totals = replay(
                args.file,
                base_url=args.url,
                api_key=api_key,
                session_id=args.session,
                speed=args.speed,
                batch_size=args.batch_size,
                max_wait_s=args.max_wait,
                progress=progress,
                history_s=args.history,
                id_prefix=args.id_prefix,
            )
    except ReplayError as exc:
        raise CliError(str(exc)) from exc
    except KeyboardInterrupt:  # before the replay began (e.g. while waiting for the server)
        session_id, totals = args.session, Totals(interrupted=True)
    finally:
        signal.signal(signal.SIGTERM, previous)
        close()
    print(json.dumps({"session": session_id, **totals.to_dict()}, ensure_ascii=False), flush=True)
    return 130 if totals.interrupted else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="liveops", description="LiveOps workbench")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the workbench (ASGI)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.set_defaults(handler=cmd_serve)

    refresh = sub.add_parser(
        "refresh",
        help="keep sessions' materialised results current (serve starts one in its own process)",
    )
    refresh.add_argument("--every", type=float, default=None, help="seconds between rounds")
    refresh.add_argument("--once", action="store_true", help="one round; prints how many")
    refresh.add_argument("--parent", type=int, default=None, help=argparse.SUPPRESS)
    refresh.set_defaults(handler=cmd_refresh)
    demo = sub.add_parser("demo", help="create (idempotently) the demo workspace and login")
    demo.set_defaults(handler=cmd_demo)

    ws = sub.add_parser("workspace", help="workspaces").add_subparsers(dest="action", required=True)
    ws_create = ws.add_parser("create", help="create a workspace; prints its slug")
    ws_create.add_argument("--name", required=True)
    ws_create.add_argument("--owner", help="email of an existing user who becomes owner")
    ws_create.add_argument("--time-zone", default="Asia/Shanghai")
    ws_create.add_argument("--currency", default="CNY")
    ws_create.set_defaults(handler=cmd_workspace_create)

    sess = sub.add_parser("session", help="live sessions").add_subparsers(
        dest="action", required=True
    )
    s_create = sess.add_parser("create", help="create a live session; prints its id")
    s_create.add_argument("--workspace", required=True, help="workspace slug")
    s_create.add_argument("--title", required=True)
    s_create.add_argument("--platform", required=True)
    s_create.add_argument("--start", help="ISO date-time; without offset: workspace time zone")
    s_create.add_argument("--end", help="ISO date-time; without offset: workspace time zone")
    s_create.set_defaults(handler=cmd_session_create)

    imp = sub.add_parser("import", help="import a recording or export into a session")
    imp.add_argument("file")
    imp.add_argument("--session", type=int, required=True, help="live session id")
    imp.add_argument("--format", help="format key; detected from the content when omitted")
    imp.add_argument(
        "--target",
        choices=["events", "minute_stats"],
        help="CSV/XLSX: events or per-minute statistics",
    )
    imp.add_argument("--time-zone", help="IANA zone for times without offset")
    imp.add_argument("--date", help="YYYY-MM-DD for chat logs with time-only lines")
    imp.add_argument(
        "--base-ts",
        help="ISO start time for recordings that carry only offsets (default: session start)",
    )
    imp.set_defaults(handler=cmd_import)

    compact = sub.add_parser(
        "compact", help="merge small event files (run after a live and from cron, e.g. hourly)"
    )
    compact.add_argument("--session", type=int, help="only this session (default: everything)")
    compact.set_defaults(handler=cmd_compact)

    conn = sub.add_parser(
        "connect", help="record a live feed into a session until Ctrl-C; prints totals as JSON"
    )
    conn.add_argument("--session", type=int, required=True, help="live session id")
    conn.add_argument("--kind", required=True, choices=["twitch", "bilibili", "tiktok"])
    conn.add_argument(
        "--target", required=True, help="Twitch channel, Bilibili room id or TikTok @handle"
    )
    conn.add_argument("--host", help="Twitch: IRC server (default irc.chat.twitch.tv)")
    conn.add_argument("--port", type=int, help="Twitch: IRC port (default 6697, 6667 plain)")
    conn.add_argument("--no-tls", action="store_true", help="Twitch: plain TCP instead of TLS")
    conn.set_defaults(handler=cmd_connect)
    gen = sub.add_parser("generate", help="write a realistic generated live session (NDJSON)")
    gen.add_argument("--out", required=True, help="output file; .gz (or --gzip) compresses")
    gen.add_argument("--events", type=int, help="exactly this many events")
    gen.add_argument("--duration", type=_duration, help="length of the live: 4h, 90m … (2h)")
    gen.add_argument("--viewers", type=int, help="distinct viewers (default: fits --events)")
    gen.add_argument("--start", help="ISO date-time; without offset: Asia/Shanghai")
    gen.add_argument("--seed", type=int, default=1, help="same seed, same file")
    gen.add_argument("--platform", default="douyin")
    gen.add_argument("--gzip", action="store_true", help="gzip the output")
    gen.add_argument("--iso", action="store_true", help="ts as ISO strings (else epoch ms)")
    gen.set_defaults(handler=cmd_generate)

    rep = sub.add_parser(
        "replay", help="send a recording through the ingest API as a live feed; prints totals"
    )
    rep.add_argument("file", nargs="?", help="NDJSON / JSON array / gzip, or an importer format")
    rep.add_argument("--session", type=int, help="live session id")
    rep.add_argument("--speed", type=float, default=1.0, help="× real time (default 1)")
    rep.add_argument("--url", default="http://127.0.0.1:8000", help="the LiveOps server")
    rep.add_argument("--api-key", help="workspace API key (default: $LIVEOPS_API_KEY)")
    rep.add_argument("--batch-size", type=int, default=1000)
    rep.add_argument("--max-wait", type=float, default=1.0, help="seconds an event may wait")
    rep.add_argument(
        "--history", type=_duration, default=0, help="send the first 20m … at once, in the past"
    )
    rep.add_argument("--id-prefix", default="", help="prefix event ids (one file, many sessions)")
    rep.add_argument("--wait", type=float, default=0, help="wait this long for the server first")
    rep.add_argument(
        "--demo", action="store_true", help="feed the demo workspace's live session (make run)"
    )
    rep.set_defaults(handler=cmd_replay)

    met = sub.add_parser("metrics", help="a session's metrics (METRICS.md keys)")
    met.add_argument("session_id", type=int, metavar="SESSION_ID")
    met.add_argument("--json", action="store_true", help="one JSON object (for scripts)")
    met.set_defaults(handler=cmd_metrics)

    rev = sub.add_parser("review", help="write a session's review as PDF and/or Excel")
    rev.add_argument("session_id", type=int, metavar="SESSION_ID")
    rev.add_argument("--pdf", metavar="FILE", help="write the review as PDF")
    rev.add_argument("--xlsx", metavar="FILE", help="write the review as Excel")
    rev.add_argument(
        "--language", choices=["zh-hans", "en"], default="zh-hans", help="default zh-hans"
    )
    rev.set_defaults(handler=cmd_review)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except CliError as exc:
        print(f"liveops: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
