"""Realistic sample reviews and periodic reports as plain data (no database).

Used by the renderer tests, ``bench/bench_review_files.py`` and page tests. The data is
deterministic for a given ``seed`` and carries hostile user text on purpose: spreadsheet
formula prefixes (``=cmd|' /C calc'!A0``, ``+1``, ``-2``, ``@SUM(A1)``, a leading tab or
CR), HTML (``<script>``), emoji and long Chinese comments, so every renderer is tested
against them.
"""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from liveops.reports.formatting import display
from liveops.reports.render import is_zh
from liveops.reports.review import (
    ActionItemRow,
    CommentRow,
    CueMark,
    Figure,
    Finding,
    FunnelStep,
    MinuteSeries,
    Number,
    PeriodReport,
    PeriodRow,
    PlatformBreakdown,
    ProductRow,
    Review,
    SegmentBand,
    SourceRow,
    TrendPoint,
    Unit,
    ViewerRow,
    WordCount,
)

NASTY_TEXTS: tuple[str, ...] = (
    "=cmd|' /C calc'!A0",
    "+1",
    "-2",
    "@SUM(A1)",
    "\tTAB",
    "\rCR",
    "<script>alert(1)</script>",
    '=HYPERLINK("http://evil.example","点我")',
    "😀🔥 太好看了 👍",
    "_x000D_ literal escape",
)

LONG_COMMENT = (
    "主播你好，我上周在直播间买的那件羊毛大衣已经收到了，面料摸起来很厚实，版型也很好看，"
    "但是袖子稍微有点长，想问一下能不能换小一码？另外我妈妈也想要一件同款的驼色，"
    "她平时穿M码，身高一米六二，体重一百一十斤左右，请问选哪个码比较合适呢？"
    "还有就是今天直播间说的满三百减五十的优惠券在哪里领取，我找了半天没有找到，"
    "麻烦主播再讲一下领券的步骤，谢谢！顺便说一句，今天的开场音乐很好听，是什么歌？"
)

_ZH_NAMES = ("小鱼儿", "快乐星球", "穿搭日记", "芒果不甜", "阿杰", "甜甜圈", "夜猫子", "大白")
_EN_NAMES = ("sunny_day", "Mia", "bargain.hunter", "Leo", "night owl", "Kai", "Ava", "Sam")
_ZH_COMMENTS = (
    "这件多少钱？",
    "主播穿的是什么码？",
    "已下单 ❤",
    "可以发货到新疆吗？",
    "上链接上链接",
    "颜色好正",
    "有没有优惠券",
    "什么时候抽奖？",
    LONG_COMMENT,
)
_EN_COMMENTS = (
    "How much is this?",
    "What size are you wearing?",
    "ordered! ❤",
    "Do you ship to Canada?",
    "link please",
    "love the colour",
    "any coupon?",
    "when is the giveaway?",
    "I bought the coat last week and it arrived fine, but the sleeves are a bit long — "
    "can I swap it for a smaller size, and where do I find today's coupon? " * 2,
)

_SEGMENT_KINDS = (
    ("开场", "Opening"),
    ("讲品", "Product pitch"),
    ("互动", "Interaction"),
    ("抽奖", "Giveaway"),
    ("福利", "Deal"),
    ("答疑", "Q&A"),
    ("收尾", "Closing"),
)

# (key, zh label, en label, unit, grain, zh definition, en definition)
_METRICS: tuple[tuple[str, str, str, Unit, str, str, str], ...] = (
    ("duration_s", "直播时长", "Duration", "seconds", "events", "结束 − 开始", "end − start"),
    (
        "pcu",
        "最高在线人数 PCU",
        "Peak concurrent viewers (PCU)",
        "count",
        "snapshots",
        "每分钟在线人数的最大值",
        "max over minutes of online(t)",
    ),
    (
        "acu",
        "平均在线人数 ACU",
        "Average concurrent viewers (ACU)",
        "count",
        "snapshots",
        "Σ 在线人数 × Δt ÷ 直播时长",
        "Σ online(t)·Δt ÷ duration",
    ),
    (
        "uv",
        "累计观看人数",
        "Unique viewers",
        "count",
        "events",
        "有任何事件的去重观众",
        "distinct viewers",
    ),
    ("pv", "观看次数 (场观)", "Views (entries)", "count", "events", "进入次数", "enter events"),
    (
        "avg_watch_s",
        "人均观看时长",
        "Average watch time",
        "seconds",
        "events",
        "总观看时长 ÷ UV",
        "total watch time ÷ UV (per viewer)",
    ),
    (
        "stay_1min_rate",
        "超1分钟停留率",
        "1-minute stay rate",
        "rate",
        "events",
        "观看 > 60 秒的观众 ÷ UV",
        "viewers watching > 60 s ÷ UV",
    ),
    (
        "bounce_rate",
        "跳出率",
        "Bounce rate",
        "rate",
        "events",
        "观看 < 10 秒的观众 ÷ UV",
        "viewers watching < 10 s ÷ UV",
    ),
    (
        "interaction_rate",
        "互动率",
        "Interaction rate",
        "rate",
        "events",
        "有互动的观众 ÷ UV",
        "viewers who interacted ÷ UV",
    ),
    ("comments", "评论次数", "Comments", "count", "events", "评论事件数", "comment events"),
    ("likes", "点赞数", "Likes", "count", "events", "点赞数之和", "Σ like counts"),
    ("follows", "新增关注", "New follows", "count", "events", "关注事件数", "follow events"),
    ("gmv", "成交金额 GMV", "GMV", "money", "events", "订单金额 − 退款", "orders − refunds"),
    ("orders", "订单数", "Orders", "count", "events", "订单事件数", "order events"),
    (
        "conversion_rate",
        "成交转化率",
        "Conversion rate",
        "rate",
        "events",
        "成交人数 ÷ UV",
        "buyers ÷ UV",
    ),
    ("uv_value", "UV价值", "UV value", "money", "events", "GMV ÷ UV", "GMV ÷ UV"),
    ("gpm", "千次观看成交金额 GPM", "GPM", "money", "events", "GMV × 1000 ÷ PV", "GMV × 1000 ÷ PV"),
    (
        "hours_watched",
        "总观看时长 (小时)",
        "Hours watched",
        "number",
        "snapshots",
        "Σ 在线人数 × Δt",
        "Σ online(t)·Δt",
    ),
    (
        "answered_60s_rate",
        "问题及时响应率",
        "Questions answered within 60 s",
        "rate",
        "events",
        "60 秒内回答的问题 ÷ 问题数",
        "answered ≤ 60 s ÷ questions",
    ),
    (
        "gift_revenue",
        "礼物收入",
        "Gift revenue",
        "money",
        "events",
        "礼物价值之和",
        "Σ gift values",
    ),
)
_KPI_KEYS = (
    "pcu",
    "acu",
    "uv",
    "avg_watch_s",
    "stay_1min_rate",
    "interaction_rate",
    "gmv",
    "conversion_rate",
)


def _display(unit: Unit, value: Number | None, language: str, currency: str) -> str:
    return display(value, unit, language=language, currency=currency)


def _ratio(value: Number | None, base: Number | None) -> float | None:
    if value is None or base is None or float(base) == 0:
        return None
    return float(value) / float(base) - 1


def _figures(
    values: dict[str, Number | None], language: str, currency: str, rng: random.Random
) -> list[Figure]:
    zh = is_zh(language)
    out: list[Figure] = []
    for key, zh_label, en_label, unit, grain, zh_def, en_def in _METRICS:
        value = values.get(key)
        if value is None:
            out.append(
                Figure(
                    key=key,
                    label=zh_label if zh else en_label,
                    unit=unit,
                    value=None,
                    display="—",
                    definition=zh_def if zh else en_def,
                    grain=None,
                )
            )
            continue

        def near(factor: float, value: Number = value, unit: Unit = unit) -> Number:
            raw = float(value) * factor
            if unit == "money":
                return Decimal(f"{raw:.2f}")
            if unit == "count":
                return round(raw)
            return raw

        target = near(rng.uniform(0.85, 1.2)) if key in _KPI_KEYS else None
        previous = near(rng.uniform(0.7, 1.15))
        median = near(rng.uniform(0.8, 1.1)) if key != "gift_revenue" else None
        out.append(
            Figure(
                key=key,
                label=zh_label if zh else en_label,
                unit=unit,
                value=value,
                display=_display(unit, value, language, currency),
                definition=zh_def if zh else en_def,
                grain=grain,
                target=target,
                previous=previous,
                median_30d=median,
                vs_target=_ratio(value, target),
                vs_previous=_ratio(value, previous),
                vs_median=_ratio(value, median),
            )
        )
    return out


def _share_of(value: Number | None, share: float) -> Number | None:
    """A platform's part of a simulcast total: counts and money split, rates kept."""
    if isinstance(value, int):
        return round(value * share)
    if isinstance(value, Decimal):
        return (value * Decimal(str(share))).quantize(Decimal("0.01"))
    return value


def _online_curve(minutes: int, rng: random.Random, peak: int) -> list[int | None]:
    online: list[int | None] = []
    level = peak * 0.15
    for t in range(minutes):
        ramp = min(1.0, (t + 1) / 20)
        wave = 0.75 + 0.2 * math.sin(t / 17) + 0.1 * math.sin(t / 5.3)
        tail = 1.0 if t < minutes * 0.85 else max(0.35, 1 - (t - minutes * 0.85) / (minutes * 0.3))
        level = 0.7 * level + 0.3 * peak * ramp * wave * tail * rng.uniform(0.92, 1.08)
        online.append(max(0, round(level)))
    if minutes > 30:
        for t in (minutes // 3, minutes // 3 + 1):  # a sampling gap: not available, not 0
            online[t] = None
    return online


def sample_review(
    language: str = "zh-hans",
    *,
    minutes: int = 240,
    viewers: int = 60,
    comments: int = 400,
    comments_total: int | None = None,
    segments: int = 12,
    peak_online: int = 12_000,
    platforms: int = 1,
    currency: str = "CNY",
    time_zone: str = "Asia/Shanghai",
    seed: int = 7,
) -> Review:
    """A post-live review of a ``minutes``-long live, with ``viewers`` viewer rows and the
    first ``comments`` of ``comments_total`` comments (default: 8× as many in total)."""
    rng = random.Random(seed)  # noqa: S311 - sample data, not secrets
    zh = is_zh(language)
    start = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)  # 20:00 in Shanghai
    end = start + timedelta(minutes=minutes)
    stamps = [start + timedelta(minutes=t) for t in range(minutes)]

    online = _online_curve(minutes, rng, peak_online)
    entries: list[int] = []
    exits: list[int] = []
    previous = 0
    for value in online:
        now = previous if value is None else value
        churn = round(now * rng.uniform(0.04, 0.09))
        delta = now - previous
        entries.append(max(0, churn + max(delta, 0)))
        exits.append(max(0, churn + max(-delta, 0)))
        previous = now
    level = [0 if v is None else v for v in online]
    comment_series = [round(v * rng.uniform(0.004, 0.012)) for v in level]
    like_series = [round(v * rng.uniform(0.2, 0.6)) for v in level]
    gift_series = [round(v * rng.uniform(0.0005, 0.002)) for v in level]
    order_series = [round(v * rng.uniform(0.0005, 0.003)) for v in level]
    gmv_series = [Decimal(o * rng.randint(89, 399)).quantize(Decimal("0.01")) for o in order_series]
    series = MinuteSeries(
        minutes=stamps,
        online=online,
        entries=entries,
        exits=exits,
        comments=comment_series,
        likes=like_series,
        gifts=gift_series,
        orders=order_series,
        gmv=gmv_series,
    )

    retention: list[float | None] = [0.92 * math.exp(-t / 22) + 0.05 for t in range(1, 61)]

    bands: list[SegmentBand] = []
    cues: list[CueMark] = []
    seg_len = max(1, minutes // max(1, segments))
    seg_titles_zh = ("开场暖场", "爆款羊毛大衣讲解", "福袋抽奖", "答疑：尺码与退换", "限时秒杀")
    seg_titles_en = (
        "Warm-up",
        "Wool coat pitch",
        "Giveaway",
        "Q&A: sizes and returns",
        "Flash deal",
    )
    for i in range(segments):
        s0 = i * seg_len
        s1 = minutes if i == segments - 1 else min(minutes, (i + 1) * seg_len)
        if s0 >= minutes:
            break
        kind_zh, kind_en = _SEGMENT_KINDS[i % len(_SEGMENT_KINDS)]
        if i == 3:
            title = NASTY_TEXTS[0]
        elif i == 5:
            title = "<script>alert(1)</script>"
        else:
            titles = seg_titles_zh if zh else seg_titles_en
            title = f"{titles[i % len(titles)]} {i + 1}"
        o_start = online[s0]
        o_end = online[s1 - 1]
        window = [v for v in online[s0:s1] if v is not None]
        seg_minutes = s1 - s0
        bands.append(
            SegmentBand(
                position=i + 1,
                title=title,
                kind=kind_zh if zh else kind_en,
                planned_start=stamps[s0],
                planned_end=start + timedelta(minutes=s1),
                planned_s=seg_minutes * 60,
                actual_s=None if i == 7 else seg_minutes * 60 + rng.randint(-90, 240),
                online_start=o_start,
                online_end=o_end,
                delta_online=None if o_start is None or o_end is None else o_end - o_start,
                avg_online=sum(window) / len(window) if window else None,
                retention=rng.uniform(0.35, 0.8),
                comments_per_min=sum(comment_series[s0:s1]) / seg_minutes,
                likes_per_min=sum(like_series[s0:s1]) / seg_minutes,
                orders=sum(order_series[s0:s1]),
                gmv=sum(gmv_series[s0:s1], Decimal(0)),
            )
        )
        cue_text = (
            ("音乐: 开场曲", "道具: 秒杀牌", "口播: 关注有礼")
            if zh
            else (
                "Music: intro",
                "Prop: flash-deal sign",
                "Callout: follow gift",
            )
        )
        cues.append(CueMark(at=stamps[s0], label=cue_text[i % 3]))
        if seg_minutes > 4 and i % 2 == 0:
            cues.append(CueMark(at=stamps[s0 + seg_minutes // 2], label=cue_text[(i + 1) % 3]))

    uv = max(level) * 6 if level else 0
    stayed = round(uv * 0.58)
    clicked = round(stayed * 0.31)
    ordered = sum(order_series)
    paid = round(ordered * 0.93)
    funnel_raw = (
        ("entered", "进入直播间", "Entered", uv),
        ("stayed_1min", "停留超过1分钟", "Stayed > 1 min", stayed),
        ("clicked_product", "点击商品", "Clicked a product", clicked),
        ("ordered", "下单", "Ordered", ordered),
        ("paid", "支付", "Paid", paid),
    )
    funnel: list[FunnelStep] = []
    for idx, (key, label_zh, label_en, count) in enumerate(funnel_raw):
        prev_count = funnel_raw[idx - 1][3] if idx else None
        funnel.append(
            FunnelStep(
                key=key,
                label=label_zh if zh else label_en,
                count=count,
                of_previous=count / prev_count if prev_count else None,
                of_first=count / uv if uv else None,
            )
        )

    total_entries = sum(entries)
    source_raw = (
        ("推荐 recommendation" if zh else "Recommendation", 0.46),
        ("关注 followers" if zh else "Followers", 0.18),
        ("短视频引流" if zh else "Short video", 0.14),
        ("搜索" if zh else "Search", 0.08),
        ("千川广告" if zh else "Ads", 0.07),
        ("口令: =SUM(A1)", 0.04),
        ("其他" if zh else "Other", 0.03),
    )
    sources = [
        SourceRow(source=name, entries=round(total_entries * share), share=share)
        for name, share in source_raw
    ]

    product_names = (
        ("秋冬双面羊毛大衣 驼色", "Double-face wool coat, camel"),
        ("@SUM(A1) 保温杯", "@SUM(A1) thermos"),
        ("-2 折叠伞", "-2 folding umbrella"),
        ("羊绒围巾 🧣", "Cashmere scarf 🧣"),
        ("+1 加绒打底裤", "+1 fleece leggings"),
        ("=1+1 赠品", "=1+1 free gift"),
    )
    products: list[ProductRow] = []
    total_orders = max(1, ordered)
    for idx in range(12):
        name_zh, name_en = product_names[idx % len(product_names)]
        orders_p = max(0, round(total_orders * (0.35 / (idx + 1))))
        gmv_p = Decimal(orders_p * rng.randint(59, 699)).quantize(Decimal("0.01"))
        clicks_p = orders_p * rng.randint(4, 12) + rng.randint(0, 50)
        products.append(
            ProductRow(
                product_id=f"P{1000 + idx}",
                name=f"{name_zh if zh else name_en} #{idx + 1}",
                clicks=clicks_p,
                orders=orders_p,
                buyers=max(0, orders_p - rng.randint(0, 3)),
                gmv=gmv_p,
                gpm=(gmv_p * 1000 / total_entries).quantize(Decimal("0.01"))
                if total_entries
                else None,
            )
        )

    names = _ZH_NAMES if zh else _EN_NAMES
    viewer_rows: list[ViewerRow] = []
    for idx in range(viewers):
        nasty = idx < len(NASTY_TEXTS)
        name = NASTY_TEXTS[idx] if nasty else f"{names[idx % len(names)]}{idx}"
        viewer_rows.append(
            ViewerRow(
                viewer_id=f"v{100000 + idx}",
                name=name,
                watch_s=max(30, round(minutes * 60 * 0.9 / (1 + idx * 0.05))),
                comments=max(0, 60 - idx // 4),
                likes=rng.randint(0, 3000),
                orders=rng.randint(0, 4),
                spend=Decimal(rng.randint(0, 250_000)) / 100,
            )
        )

    texts = _ZH_COMMENTS if zh else _EN_COMMENTS
    total_comments = comments_total if comments_total is not None else comments * 8
    comment_rows: list[CommentRow] = []
    span = max(1, minutes * 60)
    for idx in range(comments):
        body = NASTY_TEXTS[idx] if idx < len(NASTY_TEXTS) else texts[idx % len(texts)]
        at = start + timedelta(seconds=(idx * span) // max(1, comments))
        comment_rows.append(
            CommentRow(
                ts=at,
                viewer_name=NASTY_TEXTS[idx % len(NASTY_TEXTS)]
                if idx % 50 == 0
                else f"{names[idx % len(names)]}{idx % 997}",
                text=body,
                is_question=body.endswith(("？", "?")),
            )
        )

    words: tuple[str, ...]
    question_texts: tuple[str, ...]
    if zh:
        words = ("大衣", "链接", "尺码", "优惠券", "好看", "抽奖", "发货", "颜色", "主播", "羊毛")
        question_texts = ("这件多少钱？", "主播穿的是什么码？", "可以发货到新疆吗？", "=1+2？")
    else:
        words = ("coat", "link", "size", "coupon", "love", "giveaway", "ship", "colour", "wool")
        question_texts = ("How much is this?", "What size are you wearing?", "=1+2?")
    hot_words = [WordCount(word=w, count=900 // (i + 1)) for i, w in enumerate(words)]
    hot_words.append(WordCount(word="@SUM(A1)", count=3))
    questions = [WordCount(word=q, count=120 // (i + 1)) for i, q in enumerate(question_texts)]

    worst = min(
        (b for b in bands if b.delta_online is not None),
        key=lambda b: b.delta_online or 0,
        default=None,
    )
    if zh:
        finding_texts = (
            (
                "环节在线大幅下滑",
                f"“{worst.title if worst else '—'}”环节在线人数下降最多，观众在讲解中途离开。",
                "把讲解拆成 3 分钟一段，中间穿插福袋或问答；开场 30 秒先给价格和福利。",
            ),
            (
                "评论提问未及时回复",
                "高峰期有 41% 的提问超过 60 秒才被回复，集中在尺码和发货问题。",
                "安排专人场控答疑，提前准备尺码表和发货说明的口播稿。",
            ),
            (
                "<b>加粗</b> 与 =cmd|' /C calc'!A0",
                "这条发现的文字来自用户输入，用于测试转义：<script>alert(1)</script>",
                "+1 -2 @SUM(A1)",
            ),
        )
    else:
        finding_texts = (
            (
                "Steep drop in one segment",
                f"“{worst.title if worst else '—'}” lost the most viewers; people left mid-pitch.",
                "Split the pitch into 3-minute blocks with a giveaway or Q&A in between.",
            ),
            (
                "Questions answered late",
                "41% of questions at peak waited more than 60 s, mostly sizes and shipping.",
                "Give one moderator the Q&A and prepare a size chart and shipping script.",
            ),
            (
                "<b>bold</b> and =cmd|' /C calc'!A0",
                "User-supplied text to test escaping: <script>alert(1)</script>",
                "+1 -2 @SUM(A1)",
            ),
        )
    severities = ("high", "medium", "low")
    findings = [
        Finding(
            key=("steepest_drop", "slow_answers", "escaping")[i],
            severity=severities[i],  # type: ignore[arg-type]
            title=title,
            detail=detail,
            suggestion=suggestion,
            evidence=[
                ("Δ online" if not zh else "在线变化", f"{worst.delta_online if worst else 0:+,}"),
                ("retention" if not zh else "环节留存", "38.0%"),
            ],
            chart=("online", "interaction", "segments")[i],
            action_item=title if i < 2 else None,
        )
        for i, (title, detail, suggestion) in enumerate(finding_texts)
    ]
    actions = [
        ActionItemRow(
            title=f.title,
            owner=("阿杰" if zh else "Leo") if i == 0 else "@SUM(A1)",
            due=end + timedelta(days=3 + i),
            status="待处理" if zh else "open",
            finding_key=f.key,
        )
        for i, f in enumerate(findings[:2])
    ]

    watch_total_s = sum(level) * 60
    gmv_total = sum(gmv_series, Decimal(0))
    values: dict[str, Number | None] = {
        "duration_s": minutes * 60,
        "pcu": max(level) if level else None,
        "acu": round(sum(level) / max(1, minutes)),
        "uv": uv,
        "pv": total_entries,
        "avg_watch_s": watch_total_s / uv if uv else None,
        "stay_1min_rate": stayed / uv if uv else None,
        "bounce_rate": 0.21,
        "interaction_rate": 0.137,
        "comments": total_comments,
        "likes": sum(like_series),
        "follows": round(uv * 0.012),
        "gmv": gmv_total,
        "orders": ordered,
        "conversion_rate": paid / uv if uv else None,
        "uv_value": (gmv_total / uv).quantize(Decimal("0.01")) if uv else None,
        "gpm": (gmv_total * 1000 / total_entries).quantize(Decimal("0.01"))
        if total_entries
        else None,
        "hours_watched": watch_total_s / 3600,
        "answered_60s_rate": None,  # no question/answer grain in this sample
        "gift_revenue": Decimal(sum(gift_series) * 3).quantize(Decimal("0.01")),
    }
    figures = _figures(values, language, currency, rng)
    by_key = {f.key: f for f in figures}
    kpis = [by_key[k] for k in _KPI_KEYS]

    platform_names = ["抖音", "视频号", "快手"] if zh else ["Douyin", "Channels", "TikTok"]
    platform_list = platform_names[: max(1, platforms)]
    per_platform = (
        [
            PlatformBreakdown(
                platform=p,
                session_title=f"{p} · {'周五上新' if zh else 'Friday drop'}",
                figures=_figures(
                    {k: _share_of(v, 0.6 if i == 0 else 0.4) for k, v in values.items()},
                    language,
                    currency,
                    rng,
                )[:8],
            )
            for i, p in enumerate(platform_list)
        ]
        if platforms > 1
        else []
    )

    title = (
        "周五上新专场｜秋冬羊毛大衣 😀 <script>" if zh else "Friday drop: wool coats 😀 <script>"
    )
    notes = (
        ["PCU 来自 1 分钟采样，可能低于真实峰值。", "问题及时响应率：缺少问答数据，不可用。"]
        if zh
        else [
            "PCU from 1-minute samples; the true peak may be higher.",
            "Questions answered within 60 s: no Q&A data, not available.",
        ]
    )
    return Review(
        language=language,
        workspace_name="+星河直播运营部 <Ops> & Co" if zh else "+Galaxy Live Ops <Ops> & Co",
        title=title,
        platforms=platform_list,
        account="@xinghe_official",
        series="周五上新" if zh else "Friday drop",
        start=start,
        end=end,
        time_zone=time_zone,
        currency=currency,
        generated_at=end + timedelta(hours=1),
        computed_at=end + timedelta(minutes=20),
        kpis=kpis,
        figures=figures,
        series_data=series,
        retention=retention,
        segments=bands,
        cues=cues,
        funnel=funnel,
        sources=sources,
        products=products,
        viewers=viewer_rows,
        comments=comment_rows,
        comments_total=max(total_comments, comments),
        hot_words=hot_words,
        questions=questions,
        findings=findings,
        actions=actions,
        per_platform=per_platform,
        labels={},
        notes=notes,
    )


_PERIOD_COLUMNS: tuple[tuple[str, str, str, Unit], ...] = (
    ("pcu", "最高在线", "PCU", "count"),
    ("uv", "累计观看", "UV", "count"),
    ("avg_watch_s", "人均观看时长", "Avg watch time", "seconds"),
    ("stay_1min_rate", "超1分钟停留率", "1-min stay rate", "rate"),
    ("interaction_rate", "互动率", "Interaction rate", "rate"),
    ("orders", "订单数", "Orders", "count"),
    ("gmv", "成交金额", "GMV", "money"),
    ("conversion_rate", "成交转化率", "Conversion rate", "rate"),
)


def sample_period_report(
    language: str = "zh-hans",
    *,
    kind: str = "month",
    sessions: int = 16,
    currency: str = "CNY",
    time_zone: str = "Asia/Shanghai",
    seed: int = 11,
) -> PeriodReport:
    """A periodic report over ``sessions`` sessions, two a week from 2026-09-04."""
    rng = random.Random(seed)  # noqa: S311 - sample data, not secrets
    zh = is_zh(language)
    first = datetime(2026, 9, 4, 12, 0, tzinfo=UTC)
    columns = [(key, zh_l if zh else en_l, unit) for key, zh_l, en_l, unit in _PERIOD_COLUMNS]
    rows: list[PeriodRow] = []
    for idx in range(sessions):
        start = first + timedelta(days=(idx // 2) * 7 + (idx % 2) * 3)
        uv = rng.randint(20_000, 90_000)
        orders = rng.randint(200, 1500)
        figures: dict[str, Number | None] = {
            "pcu": round(uv / rng.uniform(5, 8)),
            "uv": uv,
            "avg_watch_s": rng.uniform(60, 300),
            "stay_1min_rate": rng.uniform(0.3, 0.7),
            "interaction_rate": rng.uniform(0.05, 0.2),
            "orders": orders,
            "gmv": Decimal(orders * rng.randint(90, 260)),
            "conversion_rate": None if idx == 3 else orders / uv,
        }
        if idx % 5 == 2:
            title = NASTY_TEXTS[idx % len(NASTY_TEXTS)]
        else:
            title = f"{'周五上新' if zh else 'Friday drop'} #{idx + 1}"
        rows.append(
            PeriodRow(
                session_id=1000 + idx,
                title=title,
                start=start,
                platform=("抖音" if zh else "Douyin")
                if idx % 3
                else ("视频号" if zh else "Channels"),
                figures=figures,
            )
        )

    def bucket(label_of: str) -> list[TrendPoint]:
        groups: dict[str, list[PeriodRow]] = {}
        for row in rows:
            assert row.start is not None
            if label_of == "week":
                year, week, _ = row.start.isocalendar()
                label = f"{year}-W{week:02d}"
            else:
                label = row.start.strftime("%Y-%m")
            groups.setdefault(label, []).append(row)
        points: list[TrendPoint] = []
        for label, members in sorted(groups.items()):
            agg: dict[str, Number | None] = {}
            for key, _zh, _en, unit in _PERIOD_COLUMNS:
                vals = [v for r in members if (v := r.figures.get(key)) is not None]
                if not vals:
                    agg[key] = None
                elif unit == "money":
                    agg[key] = sum((Decimal(v) for v in vals), Decimal(0))
                elif unit == "count":
                    agg[key] = sum(int(v) for v in vals)
                else:
                    floats = sorted(float(v) for v in vals)
                    agg[key] = floats[len(floats) // 2]
            points.append(TrendPoint(period=label, sessions=len(members), figures=agg))
        return points

    weekly = bucket("week")
    monthly = bucket("month")
    last = rows[-1].start if rows and rows[-1].start else first
    totals_values: dict[str, Number | None] = {
        "uv": sum(int(r.figures["uv"] or 0) for r in rows),
        "pcu": max(int(r.figures["pcu"] or 0) for r in rows) if rows else None,
        "avg_watch_s": sum(float(r.figures["avg_watch_s"] or 0) for r in rows) / max(1, len(rows)),
        "stay_1min_rate": 0.52,
        "interaction_rate": 0.12,
        "orders": sum(int(r.figures["orders"] or 0) for r in rows),
        "gmv": sum((Decimal(r.figures["gmv"] or 0) for r in rows), Decimal(0)),
        "conversion_rate": 0.011,
    }
    totals = [f for f in _figures(totals_values, language, currency, rng) if f.key in totals_values]
    totals = [
        Figure(
            key=f.key,
            label=f.label,
            unit=f.unit,
            value=f.value,
            display=f.display,
            definition=f.definition,
            grain=f.grain,
            previous=f.previous,
            vs_previous=f.vs_previous,
        )
        for f in totals
    ]
    if kind == "week":
        title = "周报 2026-W47" if zh else "Weekly report 2026-W47"
    elif kind == "series":
        title = "系列: 周五上新" if zh else "Series: Friday drop"
    else:
        title = "月报 2026-10" if zh else "Monthly report 2026-10"
    findings = sample_review(language, minutes=30, viewers=5, comments=5, segments=3).findings
    return PeriodReport(
        language=language,
        workspace_name="+星河直播运营部 <Ops> & Co" if zh else "+Galaxy Live Ops <Ops> & Co",
        title=title,
        kind=kind,  # type: ignore[arg-type]
        start=first,
        end=last + timedelta(hours=4),
        time_zone=time_zone,
        currency=currency,
        generated_at=last + timedelta(days=1),
        columns=columns,
        sessions=rows,
        totals=totals,
        weekly=weekly,
        monthly=monthly,
        findings=findings,
        labels={},
    )
