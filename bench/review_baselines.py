# ruff: noqa: S608 - the baselines build SQL from numbers and fixed names, as an analyst would
"""Two reference implementations of a live review's core figures, for bench_review.py.

Both read the event store's Parquet files directly and follow METRICS.md and the rules in
``liveops/analytics/metrics.py`` (module docstring), written the way an analyst would:

* :func:`sql_baseline` — plain DuckDB SQL, one query per figure family; the merged watch
  intervals are materialised once as a temp table (as one would in a notebook).
* :func:`pandas_baseline` — pandas: read the needed columns, groupby / sort / cummin / merge.

Rules implemented (shared with the runner, so results can be identical):

* live window [start, end], both inclusive; counts and sums use events inside it.
* watch intervals: an enter pairs with the viewer's next leave strictly after it (a leave
  in the enter's own millisecond is a reconnect, not its leave), else closes at
  min(viewer's last event (any time) + 60 s, end); clipped to the window; overlapping
  intervals merged; zero-length ones dropped.
* UV: viewers (non-null id) with an event in the window or watch time > 0.
* online(t): Σ overlap of the intervals with minute t ÷ the minute's length in the live;
  minutes from start // 1 min to (end − 1 ms) // 1 min.
* segments: bounds clipped to the live; online at start/end = intervals containing the
  instant; avg online = Σ overlap ÷ length; orders/GMV by whole second in
  [lo // 1 s, hi // 1 s) (+1 s when the segment ends at the live's end).

Returned dict: the core summary keys plus ``online_series``, ``retention`` and
``segments`` (list of dicts: online_start, online_end, avg_online, orders, gmv).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import duckdb
import numpy as np
import pandas as pd

MINUTE_MS = 60_000
CLOSE_MS = 60_000
STAY_MS = 60_000
BOUNCE_MS = 10_000
RETENTION_MINUTES = 60
INTERACTION_KINDS = ("comment", "like", "share", "follow", "gift")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

CORE_KEYS = (
    "uv",
    "pv",
    "pcu",
    "acu",
    "avg_watch_s",
    "hours_watched",
    "stay_1min_rate",
    "bounce_rate",
    "comments",
    "commenters",
    "likes",
    "shares",
    "follows",
    "interaction_rate",
    "gmv",
    "orders",
    "buyers",
    "conversion_rate",
)


def _ms(value: datetime) -> int:
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def _money(value: Decimal) -> Decimal:
    return Decimal(value).quantize(Decimal("0.0001"), rounding=ROUND_HALF_EVEN)


def _ratio(part: float, whole: float) -> float | None:
    return None if not whole else part / whole


def _segment_bounds(segments: Sequence[Any], s: int, e: int) -> list[tuple[int, int]]:
    out = []
    for seg in segments:
        lo_dt = seg.actual_start or seg.planned_start
        hi_dt = seg.actual_end or seg.planned_end
        out.append((max(_ms(lo_dt), s), min(_ms(hi_dt), e)))
    return out


def _finish(
    *,
    s: int,
    e: int,
    uv: int,
    watch_ms: int,
    stayed: int,
    bounced: int,
    hist: dict[int, int],
    counts: dict[str, int],
    commenters: int,
    interactors: int,
    buyers: int,
    gmv: Decimal,
    online: list[float],
    segments: list[dict[str, Any]],
) -> dict[str, Any]:
    at_least = 0
    retention = [0.0] * RETENTION_MINUTES
    for k in range(RETENTION_MINUTES, 0, -1):
        at_least += hist.get(k, 0)
        retention[k - 1] = at_least / uv
    return {
        "uv": uv,
        "pv": counts["pv"],
        "pcu": max(online) if online else None,
        "acu": _ratio(watch_ms, e - s),
        "avg_watch_s": _ratio(watch_ms / 1000, uv),
        "hours_watched": watch_ms / 1000,
        "stay_1min_rate": _ratio(stayed, uv),
        "bounce_rate": _ratio(bounced, uv),
        "comments": counts["comments"],
        "commenters": commenters,
        "likes": counts["likes"],
        "shares": counts["shares"],
        "follows": counts["follows"],
        "interaction_rate": _ratio(interactors, uv),
        "gmv": _money(gmv),
        "orders": counts["orders"],
        "buyers": buyers,
        "conversion_rate": _ratio(buyers, uv),
        "online_series": online,
        "retention": retention,
        "segments": segments,
    }


# --------------------------------------------------------------------------------------------
# DuckDB SQL
# --------------------------------------------------------------------------------------------


def sql_baseline(
    files: Sequence[str],
    start: datetime,
    end: datetime,
    segments: Sequence[Any],
    currency: str = "CNY",
    threads: int | None = None,
) -> dict[str, Any]:
    S, E = _ms(start), _ms(end)
    con = duckdb.connect()
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    paths = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
    con.execute(
        f"""CREATE VIEW ev AS
        SELECT ts, epoch_ms(ts) AS ts_ms, kind, viewer_id, quantity, amount, currency
        FROM read_parquet([{paths}], hive_partitioning = true)"""
    )
    # watch intervals: enter -> next leave after it (window function), else last event
    # + 1 min (capped at the end); clipped; then merged per viewer (gaps and islands).
    con.execute(
        f"""CREATE TEMP TABLE iv AS
        WITH el AS (
            SELECT viewer_id, ts_ms, kind FROM ev
            WHERE kind IN ('enter', 'leave') AND viewer_id IS NOT NULL
        ), last_event AS (
            SELECT viewer_id, max(ts_ms) AS last_ms FROM ev
            WHERE viewer_id IS NOT NULL GROUP BY viewer_id
        ), paired AS (
            SELECT viewer_id, ts_ms, kind,
                   min(CASE WHEN kind = 'leave' THEN ts_ms END) OVER (
                       PARTITION BY viewer_id
                       ORDER BY ts_ms, CASE WHEN kind = 'leave' THEN 0 ELSE 1 END
                       ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) AS next_leave
            FROM el
        ), clipped AS (
            SELECT p.viewer_id,
                   greatest(p.ts_ms, {S}) AS s,
                   least(coalesce(p.next_leave, least(l.last_ms + {CLOSE_MS}, {E})), {E}) AS e
            FROM paired p JOIN last_event l USING (viewer_id)
            WHERE p.kind = 'enter'
        ), ordered AS (
            SELECT *, max(e) OVER (PARTITION BY viewer_id ORDER BY s, e
                                   ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_end
            FROM clipped WHERE e > s
        ), islands AS (
            SELECT *, sum(CASE WHEN prev_end IS NULL OR s > prev_end THEN 1 ELSE 0 END)
                      OVER (PARTITION BY viewer_id ORDER BY s, e
                            ROWS UNBOUNDED PRECEDING) AS island
            FROM ordered
        )
        SELECT viewer_id, min(s) AS s, max(e) AS e FROM islands GROUP BY viewer_id, island"""
    )
    # audience: per viewer, then aggregate
    kinds = ", ".join(f"'{k}'" for k in INTERACTION_KINDS)
    aud = con.execute(
        f"""WITH act AS (
            SELECT viewer_id,
                   count(*) FILTER (WHERE kind = 'comment') AS comments,
                   count(*) FILTER (WHERE kind IN ({kinds})) AS interactions,
                   count(*) FILTER (WHERE kind = 'order') AS orders
            FROM ev WHERE viewer_id IS NOT NULL AND ts_ms BETWEEN {S} AND {E}
            GROUP BY viewer_id
        ), w AS (
            SELECT viewer_id, sum(e - s) AS watch_ms FROM iv GROUP BY viewer_id
        ), v AS (
            SELECT coalesce(w.watch_ms, 0) AS watch_ms, coalesce(a.comments, 0) AS comments,
                   coalesce(a.interactions, 0) AS interactions, coalesce(a.orders, 0) AS orders
            FROM act a FULL OUTER JOIN w USING (viewer_id)
        )
        SELECT count(*), sum(watch_ms)::BIGINT,
               count(*) FILTER (WHERE watch_ms > {STAY_MS}),
               count(*) FILTER (WHERE watch_ms < {BOUNCE_MS}),
               count(*) FILTER (WHERE comments > 0),
               count(*) FILTER (WHERE interactions > 0),
               count(*) FILTER (WHERE orders > 0)
        FROM v"""
    ).fetchone()
    uv, watch_ms, stayed, bounced, commenters, interactors, buyers = (int(x or 0) for x in aud)
    hist = dict(
        con.execute(
            f"""WITH w AS (SELECT viewer_id, sum(e - s) AS watch_ms FROM iv GROUP BY viewer_id)
            SELECT least(watch_ms // {MINUTE_MS}, {RETENTION_MINUTES}) AS m, count(*)
            FROM w GROUP BY m"""
        ).fetchall()
    )
    # event counts
    row = con.execute(
        f"""SELECT count(*) FILTER (WHERE kind = 'enter'),
                   count(*) FILTER (WHERE kind = 'comment'),
                   coalesce(sum(coalesce(quantity, 1)) FILTER (WHERE kind = 'like'), 0),
                   count(*) FILTER (WHERE kind = 'share'),
                   count(*) FILTER (WHERE kind = 'follow'),
                   count(*) FILTER (WHERE kind = 'order')
            FROM ev WHERE ts_ms BETWEEN {S} AND {E}"""
    ).fetchone()
    counts = dict(
        zip(("pv", "comments", "likes", "shares", "follows", "orders"), map(int, row), strict=True)
    )
    # commerce
    ccy = currency.replace("'", "''")
    gmv = con.execute(
        f"""SELECT coalesce(sum(CASE WHEN kind = 'order' THEN amount ELSE -amount END), 0)
            FROM ev WHERE kind IN ('order', 'refund') AND ts_ms BETWEEN {S} AND {E}
              AND (currency IS NULL OR currency = '{ccy}')"""
    ).fetchone()[0]
    # online per minute: overlap of intervals with each minute
    first, last = S // MINUTE_MS, (E - 1) // MINUTE_MS
    online_rows = con.execute(
        f"""WITH minutes AS (
            SELECT m, greatest(m * {MINUTE_MS}, {S}) AS lo, least((m + 1) * {MINUTE_MS}, {E}) AS hi
            FROM range({first}, {last + 1}) t(m)
        )
        SELECT m, coalesce(sum(least(iv.e, hi) - greatest(iv.s, lo)), 0)::BIGINT, any_value(hi - lo)
        FROM minutes LEFT JOIN iv ON iv.s < hi AND iv.e > lo
        GROUP BY m ORDER BY m"""
    ).fetchall()
    online = [int(w) / int(length) for _, w, length in online_rows]
    # segments
    bounds = _segment_bounds(segments, S, E)
    seg_out = []
    if bounds:
        values = ", ".join(
            f"({i}, {lo}, {hi}, {lo // 1000}, {hi // 1000 + (1 if hi == E else 0)})"
            for i, (lo, hi) in enumerate(bounds)
        )
        rows = con.execute(
            f"""WITH seg(idx, lo, hi, s0, s1) AS (VALUES {values}),
            pres AS (
                SELECT idx, count(*) FILTER (WHERE iv.s <= lo AND iv.e >= lo) AS at_start,
                       count(*) FILTER (WHERE iv.s <= hi AND iv.e >= hi) AS at_end,
                       coalesce(sum(least(iv.e, hi) - greatest(iv.s, lo)), 0)::BIGINT AS watch
                FROM seg LEFT JOIN iv ON iv.s <= hi AND iv.e >= lo GROUP BY idx
            ), money AS (
                SELECT idx, count(*) FILTER (WHERE kind = 'order') AS orders,
                       coalesce(sum(CASE WHEN kind = 'order' THEN amount ELSE -amount END)
                           FILTER (WHERE currency IS NULL OR currency = '{ccy}'), 0) AS gmv
                FROM seg LEFT JOIN ev ON ev.kind IN ('order', 'refund')
                     AND ev.ts_ms BETWEEN {S} AND {E}
                     AND ev.ts_ms // 1000 >= s0 AND ev.ts_ms // 1000 < s1
                GROUP BY idx
            )
            SELECT seg.idx, seg.lo, seg.hi, at_start, at_end, watch, orders, gmv
            FROM seg JOIN pres USING (idx) JOIN money USING (idx) ORDER BY seg.idx"""
        ).fetchall()
        for _, lo, hi, a0, a1, watch, orders, sgmv in rows:
            seg_out.append(
                {
                    "online_start": int(a0),
                    "online_end": int(a1),
                    "avg_online": _ratio(int(watch), hi - lo),
                    "orders": int(orders),
                    "gmv": _money(sgmv),
                }
            )
    con.close()
    return _finish(
        s=S, e=E, uv=uv, watch_ms=watch_ms, stayed=stayed, bounced=bounced, hist=hist,
        counts=counts, commenters=commenters, interactors=interactors, buyers=buyers,
        gmv=Decimal(gmv), online=online, segments=seg_out,
    )  # fmt: skip


# --------------------------------------------------------------------------------------------
# pandas
# --------------------------------------------------------------------------------------------


def pandas_baseline(
    files: Sequence[str],
    start: datetime,
    end: datetime,
    segments: Sequence[Any],
    currency: str = "CNY",
) -> dict[str, Any]:
    S, E = _ms(start), _ms(end)
    columns = ["ts", "kind", "viewer_id", "quantity", "amount", "currency"]
    df = pd.concat([pd.read_parquet(f, columns=columns) for f in files], ignore_index=True)
    df["ts_ms"] = df["ts"].astype("int64") // 1000  # ts is µs
    in_win = df[(df.ts_ms >= S) & (df.ts_ms <= E)]

    # --- watch intervals -------------------------------------------------------------------
    last_ms = df.dropna(subset=["viewer_id"]).groupby("viewer_id").ts_ms.max().rename("last_ms")
    el = df.loc[
        df.kind.isin(["enter", "leave"]) & df.viewer_id.notna(), ["viewer_id", "ts_ms", "kind"]
    ]
    el = el.assign(enter_last=(el.kind == "enter").astype(int))
    el = el.sort_values(["viewer_id", "ts_ms", "enter_last"])  # a leave first on a tie
    el["leave_ts"] = el.ts_ms.where(el.kind == "leave", np.inf)  # inf: not a leave
    # next leave after each enter: reverse cumulative min within the viewer (a leave in the
    # same millisecond sorts before the enter, so it is not its leave)
    rev = el.iloc[::-1]
    el["next_leave"] = rev.groupby("viewer_id").leave_ts.cummin().replace(np.inf, np.nan)
    enters = el[el.kind == "enter"].join(last_ms, on="viewer_id")
    no_leave_end = np.minimum(enters.last_ms + CLOSE_MS, E)
    iv = pd.DataFrame(
        {
            "viewer_id": enters.viewer_id,
            "s": np.maximum(enters.ts_ms, S),
            "e": np.minimum(enters.next_leave.fillna(no_leave_end), E).astype("int64"),
        }
    )
    iv = iv[iv.e > iv.s].sort_values(["viewer_id", "s", "e"])
    prev_end = iv.groupby("viewer_id").e.cummax().groupby(iv.viewer_id).shift()
    iv["island"] = (prev_end.isna() | (iv.s > prev_end)).cumsum()
    iv = iv.groupby(["viewer_id", "island"], as_index=False).agg(s=("s", "min"), e=("e", "max"))
    iv["length"] = iv.e - iv.s

    # --- audience --------------------------------------------------------------------------
    watch = iv.groupby("viewer_id").length.sum().rename("watch_ms")
    active = in_win.dropna(subset=["viewer_id"])
    per_viewer = pd.DataFrame(
        {
            "comments": active.kind.eq("comment").groupby(active.viewer_id).sum(),
            "interactions": active.kind.isin(INTERACTION_KINDS).groupby(active.viewer_id).sum(),
            "orders": active.kind.eq("order").groupby(active.viewer_id).sum(),
        }
    )
    viewers = per_viewer.join(watch, how="outer").fillna(0)
    viewers = viewers[(viewers.index.isin(per_viewer.index)) | (viewers.watch_ms > 0)]
    uv = len(viewers)
    watch_ms = int(viewers.watch_ms.sum())
    minutes_watched = np.minimum(viewers.watch_ms.astype("int64") // MINUTE_MS, RETENTION_MINUTES)
    hist = {int(k): int(v) for k, v in minutes_watched.value_counts().items()}

    # --- counts and money ------------------------------------------------------------------
    kind = in_win.kind
    counts = {
        "pv": int((kind == "enter").sum()),
        "comments": int((kind == "comment").sum()),
        "likes": int(in_win.loc[kind == "like", "quantity"].fillna(1).sum()),
        "shares": int((kind == "share").sum()),
        "follows": int((kind == "follow").sum()),
        "orders": int((kind == "order").sum()),
    }
    money = in_win[
        in_win.kind.isin(["order", "refund"])
        & (in_win.currency.isna() | (in_win.currency == currency))
    ].copy()
    money["signed"] = [
        a if k == "order" else -a for a, k in zip(money.amount, money.kind, strict=True)
    ]
    gmv = sum(money.signed, Decimal(0))

    # --- online per minute -----------------------------------------------------------------
    s_arr, e_arr = iv.s.to_numpy(), iv.e.to_numpy()
    online = []
    for m in range(S // MINUTE_MS, (E - 1) // MINUTE_MS + 1):
        lo, hi = max(m * MINUTE_MS, S), min((m + 1) * MINUTE_MS, E)
        overlap = np.clip(np.minimum(e_arr, hi) - np.maximum(s_arr, lo), 0, None)
        online.append(int(overlap.sum()) / (hi - lo))

    # --- segments --------------------------------------------------------------------------
    seconds = money.ts_ms // 1000
    order_seconds = in_win.loc[in_win.kind == "order", "ts_ms"] // 1000
    seg_out = []
    for lo, hi in _segment_bounds(segments, S, E):
        s0, s1 = lo // 1000, hi // 1000 + (1 if hi == E else 0)
        overlap = np.clip(np.minimum(e_arr, hi) - np.maximum(s_arr, lo), 0, None)
        seg_out.append(
            {
                "online_start": int(((s_arr <= lo) & (e_arr >= lo)).sum()),
                "online_end": int(((s_arr <= hi) & (e_arr >= hi)).sum()),
                "avg_online": _ratio(int(overlap.sum()), hi - lo),
                "orders": int(((order_seconds >= s0) & (order_seconds < s1)).sum()),
                "gmv": _money(sum(money.signed[(seconds >= s0) & (seconds < s1)], Decimal(0))),
            }
        )

    return _finish(
        s=S, e=E, uv=uv, watch_ms=watch_ms,
        stayed=int((viewers.watch_ms > STAY_MS).sum()),
        bounced=int((viewers.watch_ms < BOUNCE_MS).sum()),
        hist=hist, counts=counts,
        commenters=int((viewers.comments > 0).sum()),
        interactors=int((viewers.interactions > 0).sum()),
        buyers=int((viewers.orders > 0).sum()),
        gmv=gmv, online=online, segments=seg_out,
    )  # fmt: skip
