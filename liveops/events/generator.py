"""Synthetic but realistic live-session event streams (demo data, load tests, replay).

:func:`generate` yields canonical event dicts (the fields of ``events.schema``) in time
order, one live session at a time, deterministically for a seed, in flat memory: state is
the viewers online now plus a few bounded pools, never the events already produced, so
10 M events stream as easily as 10 k. :func:`generate_session_file` writes them as NDJSON
(optionally gzip) at a few hundred thousand events per second.

This module imports no Django: the CLI, benchmarks and tests use it directly.

The model (one tick = one second of the live)
---------------------------------------------

Arrivals
    A non-homogeneous Poisson process. Its intensity has a bump peaking about 2.5 min
    after the start (the platform pushes a new live to the recommendation feed and the
    followers get a notification), a decaying bump at every segment start (a product
    explanation or a lucky draw draws traffic), a slow fatigue decline over the live and
    smooth per-minute noise (recommendation "traffic waves"). It is scaled so the session
    has about ``viewers`` distinct viewers (UV); 15 % of the entries are re-entries of a
    viewer who left earlier (PV > UV, as on every platform).
Watch time (per entry)
    A mixture with a heavy tail: lognormal (median 45 s, σ 1.5: about 20 % bounce in
    under 10 s and about 40 % stay longer than a minute, close to Douyin's typical 1-minute
    stay rate) and, for 12 % of the entries (mostly viewers who came from their follow
    list), Pareto (x_m 4 min, α 1.25) — the fans who watch for an hour. At least 1 s.
Leaves
    Each departure sends a ``leave`` event with probability ``leave_share`` (0.8 by
    default): real platforms often send no leave at all. Every viewer still online when
    the live ends leaves then (``leave`` at the end time, same share).
Interactions
    Per online viewer and second, at rates that depend on the segment: ``like`` events
    (each with a like count, heavy-tailed: most are 1–5 taps, some 50+), ``comment``
    (Chinese or English by platform; bursts of "上链接 / 1 / 多少钱" at a product
    explanation's start and of the passphrase at a lucky draw), ``gift`` (platform gift
    names and values in the platform's virtual unit: Douyin/TikTok diamonds, Bilibili
    gold), ``follow`` (once per viewer, never by viewers who came from their follow list;
    more during lucky draws, whose 福袋 ask for it), ``share`` and ``product_click`` (mostly
    the featured product during its explanation). Who acts is skewed like a real audience:
    each viewer has an engagement tier (8 % chatty, 27 % likers, 65 % lurkers), fixed per
    viewer, so most comments come from a few viewers.
Commerce
    A click turns into an ``order`` (1–3 items, amount = price × items, in ``currency``)
    with 7 % probability, 3–90 s later and while the viewer is still watching; 3 % of
    the orders of viewers who send leave events are refunded later in the live
    (``refund`` with the same amount).
Traffic sources
    On ``enter`` events: ``recommendation`` (推荐), ``followers`` (关注), ``search`` (搜索),
    ``short_video`` (短视频), ``ads:qianchuan`` (千川 ads; ``ads:promote`` off Douyin),
    promotion links ``link:wechat_group`` / ``link:xiaohongshu`` and a passphrase
    ``passphrase:宠粉节`` (口令). A re-entry keeps its first source 60 % of the time.
Online count
    An ``online_count`` snapshot every 10 s (at whole 10-second marks after the start)
    whose ``quantity`` is the exact number of viewers watching at that instant: entries
    minus departures with ``ts`` ≤ the snapshot's ``ts``. With ``leave_share=1`` this is
    exactly the number of open enter→leave intervals; otherwise it is that number minus
    the viewers who left silently (which is what the platform's counter shows).
Viewers
    Viewer ids are 16-digit numbers, names look like real nicknames (小橘子🍊, 追光的阿杰,
    momo酱, Sunny_88, 用户3829104). Both derive from a viewer number only, and about
    20 % of a session's viewers come from an account-wide fan pool shared by all seeds,
    so consecutive generated sessions have returning viewers.

``n_events``
    Without it the live runs ``duration_s`` at the natural rates (about 9–10 events per
    viewer). With it, the interaction rates are scaled (and re-estimated every minute from
    a fluid model of the audience) so the session ends with exactly ``n_events`` events:
    the last second tops up or the stream stops at ``n_events``, whichever applies. When
    the entries and leaves alone exceed ``n_events`` the stream is simply cut there.
"""

from __future__ import annotations

import gzip as gzip_module
import heapq
import math
import os
import queue
import random
import threading
import time
from array import array
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import chain, count
from operator import itemgetter
from pathlib import Path
from typing import Any, BinaryIO, Final

import orjson

__all__ = [
    "DEFAULT_PRODUCTS",
    "SOURCES",
    "GenerateProgress",
    "Product",
    "Segment",
    "Written",
    "default_segments",
    "generate",
    "generate_session_file",
    "viewers_for",
]

# --------------------------------------------------------------------------------------------
# Catalogue and vocabulary
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Product:
    """A product on the live's shelf; ``price`` is a decimal string in the session currency."""

    product_id: str
    name: str
    price: str


DEFAULT_PRODUCTS: Final[tuple[Product, ...]] = (
    Product("p10001", "玻尿酸保湿精华 30ml", "129.00"),
    Product("p10002", "氨基酸洁面乳 120g", "59.90"),
    Product("p10003", "清透防晒喷雾 SPF50+ 150ml", "89.00"),
    Product("p10004", "烟酰胺亮肤面膜 10片装", "99.00"),
    Product("p10005", "修护精华水 200ml", "139.00"),
    Product("p10006", "丝绒哑光口红礼盒 3支装", "199.00"),
    Product("p10007", "温和卸妆油 200ml", "79.90"),
    Product("p10008", "紧致淡纹眼霜 15g", "169.00"),
    Product("p10009", "香氛身体乳 250ml", "49.90"),
    Product("p10010", "福利款 便携化妆刷套装", "9.90"),
)


@dataclass(frozen=True, slots=True)
class Segment:
    """A run-of-show segment, in seconds from the start: ``product`` or ``lucky_draw``."""

    start_s: int
    end_s: int
    kind: str
    product: int = 0  # index of the featured product (product segments)


SEGMENT_KINDS: Final = ("product", "lucky_draw")

#: Traffic sources of entries and their shares (promotion codes per channel).
SOURCES: Final[tuple[tuple[str, float, str], ...]] = (
    ("recommendation", 0.52, "推荐"),
    ("followers", 0.12, "关注"),
    ("search", 0.05, "搜索"),
    ("short_video", 0.12, "短视频"),
    ("ads:qianchuan", 0.11, "广告/千川"),
    ("link:wechat_group", 0.04, "推广链接 (微信群)"),
    ("link:xiaohongshu", 0.02, "推广链接 (小红书)"),
    ("passphrase:宠粉节", 0.02, "口令"),
)

_ZH_GENERAL: Final = (
    ("主播好", 6),
    ("来了来了", 4),
    ("主播好漂亮", 2),
    ("今天有什么福利", 3),
    ("这个多少钱", 5),
    ("上链接", 4),
    ("有没有优惠券", 4),
    ("怎么买", 2),
    ("已拍", 2),
    ("已下单", 2),
    ("发货快吗", 2),
    ("什么时候发货", 2),
    ("包邮吗", 2),
    ("还有库存吗", 1),
    ("适合油皮吗", 2),
    ("敏感肌能用吗", 2),
    ("干皮可以用吗", 1),
    ("孕妇能用吗", 1),
    ("有赠品吗", 2),
    ("能便宜点吗", 1),
    ("买过，很好用", 1),
    ("回购第三次了", 1),
    ("主播讲讲成分", 1),
    ("看看细节", 1),
    ("支持主播", 2),
    ("哈哈哈哈", 2),
    ("666", 3),
    ("1", 3),
    ("新来的，求讲解", 2),
    ("主播声音好好听", 1),
    ("福袋什么时候开", 2),
    ("关注了", 1),
    ("❤️❤️❤️", 2),
    ("👍👍", 1),
    ("🔥🔥🔥", 1),
    ("[比心]", 2),
    ("[玫瑰]", 1),
    ("", 1),  # a sticker-only comment
)
_ZH_PRODUCT: Final = (
    ("上链接", 8),
    ("1", 8),
    ("111", 4),
    ("扣1", 3),
    ("多少钱", 5),
    ("这个多少钱", 4),
    ("有没有优惠券", 4),
    ("怎么领券", 3),
    ("几号链接", 3),
    ("抢到了", 3),
    ("没抢到", 3),
    ("手慢了", 2),
    ("再上一次", 2),
    ("已拍", 3),
    ("拍了两个", 1),
    ("求讲解", 2),
    ("看看质地", 2),
    ("和上次的有什么区别", 1),
)
_ZH_LUCKY: Final = (
    ("抽我抽我", 5),
    ("我要中奖", 4),
    ("福袋福袋", 4),
    ("欧气满满", 2),
    ("求中奖🙏", 2),
    ("已关注，抽我", 3),
    ("[比心]", 1),
)
_BILIBILI_EXTRA: Final = (
    ("awsl", 3),
    ("前排", 2),
    ("打卡", 3),
    ("草", 1),
    ("好耶", 2),
    ("下次一定", 1),
)
_EN_GENERAL: Final = (
    ("hi", 4),
    ("hello from LA", 1),
    ("hello from Kuala Lumpur", 1),
    ("how much is it", 4),
    ("love this", 4),
    ("link please", 3),
    ("does it ship to Canada?", 1),
    ("first time here", 2),
    ("is it good for oily skin?", 2),
    ("so cute", 2),
    ("where can I buy", 2),
    ("price?", 2),
    ("just ordered!", 1),
    ("❤️", 3),
    ("🔥🔥", 1),
    ("lol", 2),
)
_EN_LUCKY: Final = (("pick me!", 4), ("giveaway!!", 3), ("me me me", 2), ("🙏🙏", 1))
_ZH_PRODUCT_TEMPLATES: Final = (
    ("{short}还有吗", 2),
    ("{short}多少钱", 3),
    ("{short}怎么用", 1),
    ("{short}适合什么肤质", 1),
    ("{short}上链接", 3),
    ("要{short}", 2),
    ("{short}有赠品吗", 1),
    ("{name}拍了", 1),
)
_EN_PRODUCT_TEMPLATES: Final = (("how much is the {short}?", 2), ("{short} link pls", 1))
_LUCKY_PHRASE: Final = "宠粉福利来啦"

# Gifts: (name, value of one gift in the platform's virtual unit), weight.
_GIFTS_DOUYIN: Final = (
    (("小心心", 1), 30),
    (("玫瑰", 1), 20),
    (("人气票", 1), 15),
    (("棒棒糖", 9), 10),
    (("加油鸭", 15), 8),
    (("真爱玫瑰", 66), 5),
    (("爱的纸鹤", 99), 4),
    (("礼花筒", 199), 3),
    (("嘉年华", 3000), 1),
)
_GIFTS_BILIBILI: Final = (  # gold: 1000 gold = ¥1
    (("小花花", 100), 30),
    (("牛哇牛哇", 100), 20),
    (("打call", 500), 12),
    (("干杯", 660), 8),
    (("告白气球", 5200), 3),
    (("小电视飞船", 1245000), 1),
)
_GIFTS_TIKTOK: Final = (  # diamonds
    (("Rose", 1), 30),
    (("TikTok", 1), 20),
    (("Finger Heart", 5), 15),
    (("Doughnut", 30), 8),
    (("Hand Hearts", 100), 5),
    (("Corgi", 299), 2),
    (("Galaxy", 1000), 1),
)
_GIFT_COUNTS: Final = ((1, 80), (2, 5), (5, 4), (10, 5), (66, 2), (99, 2), (520, 1), (1314, 1))

_ZH_ADJ: Final = (
    "追光的",
    "爱吃鱼的",
    "不吃香菜的",
    "快乐的",
    "会飞的",
    "熬夜的",
    "温柔的",
    "迷路的",
    "想暴富的",
    "爱笑的",
    "早睡的",
    "努力的",
    "减肥中的",
    "喝奶茶的",
)
_ZH_NOUN: Final = (
    "阿杰",
    "小鹿",
    "猫咪",
    "橙子",
    "兔兔",
    "小熊",
    "鱼丸",
    "星星",
    "少女",
    "打工人",
    "宝妈",
    "小王",
    "阿珍",
    "大橘",
    "豆豆",
    "老李",
)
_ZH_CUTE: Final = (
    "小橘子🍊",
    "草莓味的云🍓",
    "柠檬精🍋",
    "水蜜桃🍑",
    "奶茶续命🧋",
    "小太阳☀️",
    "月亮不睡🌙",
    "樱花季🌸",
    "小猫咪🐱",
    "兔子先生🐰",
    "向日葵🌻",
    "小确幸✨",
)
_ZH_JIANG: Final = ("momo", "糖糖", "嘟嘟", "CC", "lulu", "小鱼", "悠悠", "甜甜", "kiki", "团子")
_ZH_JIANG_END: Final = ("酱", "呀", "宝", "", "同学")
_ZH_SURNAME: Final = ("陈", "王", "李", "张", "刘", "杨", "黄", "赵", "周", "吴", "徐", "孙")
_ZH_TITLE: Final = ("小姐", "先生", "姐", "哥", "老师", "阿姨")
_EN_NAME: Final = (
    "Sunny",
    "Momo",
    "Coco",
    "Kiki",
    "Leo",
    "Amy",
    "Jason",
    "Vivian",
    "Tony",
    "Lily",
    "Kevin",
    "Grace",
    "Emma",
    "Mike",
    "Chloe",
    "Ryan",
    "Jen",
    "Nina",
)
_EN_WORD: Final = ("beauty", "glow", "daily", "skin", "happy", "lazy", "sweet", "night")

# --------------------------------------------------------------------------------------------
# Model constants (see the module docstring)
# --------------------------------------------------------------------------------------------

REENTRY_SHARE: Final = 0.15
FAN_POOL_SHARE: Final = 0.20  # new viewers drawn from the account-wide fan pool
WATCH_MEDIAN_S: Final = 45.0
WATCH_SIGMA: Final = 1.5
LONG_XM_S: Final = 240.0
LONG_ALPHA: Final = 1.25
LONG_SHARE_FOLLOWERS: Final = 0.70
LONG_SHARE_OTHERS: Final = 0.04
START_PEAK_S: Final = 150.0
SNAPSHOT_EVERY_S: Final = 10
ORDER_SHARE: Final = 0.07
REFUND_SHARE: Final = 0.03
RING_SIZE: Final = 20_000  # recently departed viewers who may come back

#: Interaction kinds, their base rate per online viewer and second, and per segment type
#: ("none" outside segments) a multiplier.
_KINDS: Final = ("like", "comment", "product_click", "gift", "follow", "share")
_BASE_RATE: Final = (1 / 50, 1 / 400, 1 / 700, 1 / 2400, 1 / 2500, 1 / 6000)
_MULT: Final[dict[str, tuple[float, ...]]] = {
    "none": (1.0, 1.0, 0.4, 1.0, 1.0, 1.0),
    "product": (1.0, 1.6, 3.0, 0.8, 0.8, 1.2),
    "lucky_draw": (2.5, 5.0, 0.5, 2.5, 4.0, 2.0),
}
#: Which engagement tier (0 lurker, 1 liker, 2 chatty) acts, per kind.
_TIER_SHARE: Final = (
    (0.05, 0.60, 0.35),
    (0.04, 0.16, 0.80),
    (0.45, 0.35, 0.20),
    (0.05, 0.25, 0.70),
    (0.55, 0.35, 0.10),
    (0.30, 0.40, 0.30),
)
_TIER_OF_VIEWER: Final = (0.65, 0.27, 0.08)

_MASK64: Final = (1 << 64) - 1
_MASK52: Final = (1 << 52) - 1
_NONFAN_BASE: Final = 1 << 51
_ID_BASE: Final = 10**15
_EN_PLATFORMS: Final = frozenset({"tiktok", "twitch", "youtube"})
_KNOWN_ZH: Final = frozenset(
    {"douyin", "kuaishou", "taobao", "wechat_channels", "bilibili", "xiaohongshu"}
)
_TABLE: Final = 1024  # size of the weighted lookup tables


def _rng(seed: int) -> random.Random:
    """Deterministic pseudo-randomness for synthetic data (never for secrets)."""
    return random.Random(seed)  # noqa: S311


def _mix64(x: int) -> int:
    """splitmix64's finaliser: a fixed, well-spread hash of a viewer number."""
    x = (x + 0x9E3779B97F4A7C15) & _MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
    return x ^ (x >> 31)


def _viewer_id(idx: int) -> str:
    """A 16-digit id, distinct for distinct viewer numbers (a bijection on 52 bits)."""
    x = idx & _MASK52
    x = (x * 0x5DEECE66D1) & _MASK52  # odd multiplier: a bijection mod 2^52
    x ^= x >> 26
    x = (x * 0x2545F4914F6CDD1D) & _MASK52
    x ^= x >> 23
    return str(_ID_BASE + x)


def _viewer_name(idx: int, english: bool) -> str:
    h = _mix64(idx * 31 + 7)
    style = h % 100
    h >>= 7
    if english:
        style = 40 + style * 60 // 100  # mostly the Latin styles below
    if style < 22:
        return _ZH_ADJ[h % len(_ZH_ADJ)] + _ZH_NOUN[(h >> 8) % len(_ZH_NOUN)]
    if style < 38:
        name = _ZH_CUTE[h % len(_ZH_CUTE)]
        return name if (h >> 8) % 3 else f"{name}{(h >> 12) % 1000}"
    if style < 48:
        return _ZH_JIANG[h % len(_ZH_JIANG)] + _ZH_JIANG_END[(h >> 8) % len(_ZH_JIANG_END)]
    if style < 55:
        return _ZH_SURNAME[h % len(_ZH_SURNAME)] + _ZH_TITLE[(h >> 8) % len(_ZH_TITLE)]
    if style < 80:
        first = _EN_NAME[h % len(_EN_NAME)]
        variant = (h >> 8) % 4
        number = (h >> 12) % 100
        if variant == 0:
            return f"{first}_{number:02d}"
        if variant == 1:
            return f"{first.lower()}.{_EN_WORD[(h >> 20) % len(_EN_WORD)]}"
        if variant == 2:
            return f"{_EN_WORD[(h >> 20) % len(_EN_WORD)]}by{first.lower()}"
        return f"{first}{1985 + (h >> 24) % 25}"
    if style < 88 and english:
        return f"user{(h % 90_000_000) + 10_000_000}"
    return f"用户{(h % 9_000_000) + 1_000_000}"


def _table(weighted: Sequence[tuple[Any, float]], size: int = _TABLE) -> list[Any]:
    """A lookup table: ``table[int(random() * len(table))]`` is a weighted choice."""
    total = float(sum(w for _, w in weighted))
    out: list[Any] = []
    acc = 0.0
    for value, weight in weighted:
        acc += weight
        upto = round(acc / total * size)
        out.extend([value] * (upto - len(out)))
    while len(out) < size:
        out.append(weighted[-1][0])
    return out


def _like_counts() -> list[int]:
    """A heavy-tailed like-count table: most events carry 1–5 taps, a few 50–300."""
    rng = _rng(20_260_101)
    out: list[int] = []
    for i in range(_TABLE):
        u = i / _TABLE
        if u < 0.35:
            out.append(1)
        elif u < 0.65:
            out.append(rng.randint(2, 5))
        elif u < 0.85:
            out.append(rng.randint(6, 15))
        elif u < 0.97:
            out.append(rng.randint(16, 50))
        else:
            out.append(int(50 * rng.paretovariate(1.5)) if u < 0.995 else rng.randint(200, 300))
    rng.shuffle(out)
    return out


def _short_name(name: str) -> str:
    """ "玻尿酸保湿精华 30ml" → "玻尿酸保湿精华" (what viewers type)."""
    head = name.split(" ")[0]
    return head[-6:] if len(head) > 8 else head


# --------------------------------------------------------------------------------------------
# The plan: everything fixed before the first event (and the fluid model used by n_events)
# --------------------------------------------------------------------------------------------


def _normalise_products(products: Sequence[Any] | None) -> tuple[Product, ...]:
    if not products:
        return DEFAULT_PRODUCTS
    out: list[Product] = []
    for item in products:
        if isinstance(item, Product):
            out.append(item)
        elif isinstance(item, Mapping):
            out.append(Product(str(item["product_id"]), str(item["name"]), str(item["price"])))
        else:
            product_id, name, price = item
            out.append(Product(str(product_id), str(name), str(price)))
    for p in out:
        _cents(p.price)  # validates
    return tuple(out)


def _cents(price: str) -> int:
    text = price.strip()
    whole, _, frac = text.partition(".")
    if not whole.isdigit() or (frac and (not frac.isdigit() or len(frac) > 2)):
        raise ValueError(f"product price {price!r} must look like '129.00'")
    return int(whole) * 100 + int((frac + "00")[:2])


def _money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def default_segments(duration_s: int, seed: int, n_products: int) -> list[Segment]:
    """A plausible run-of-show: product explanations of 4–8 min, every 4th a lucky draw."""
    rng = _rng(seed * 1_000_003 + 17)
    out: list[Segment] = []
    t = 300 + rng.randint(0, 120)
    product = 0
    while t < duration_s - 240:
        if len(out) % 4 == 3:
            length, kind = 180, "lucky_draw"
        else:
            length, kind = rng.randint(240, 480), "product"
        end = min(t + length, duration_s)
        out.append(Segment(t, end, kind, product % max(n_products, 1)))
        if kind == "product":
            product += 1
        t = end + rng.randint(60, 240)
    return out


def _normalise_segments(
    segments: Sequence[Any] | None, duration_s: int, seed: int, n_products: int
) -> tuple[Segment, ...]:
    if segments is None:
        return tuple(default_segments(duration_s, seed, n_products))
    out: list[Segment] = []
    product = 0
    for i, item in enumerate(segments):
        if isinstance(item, Segment):
            segment = item
        else:
            start_s, end_s = int(item[0]), int(item[1])
            kind = str(item[2]) if len(item) > 2 else ("lucky_draw" if i % 4 == 3 else "product")
            segment = Segment(start_s, end_s, kind, product % n_products)
        if segment.kind not in SEGMENT_KINDS:
            raise ValueError(f"segment kind {segment.kind!r} is not one of {SEGMENT_KINDS}")
        if not 0 <= segment.start_s < segment.end_s <= duration_s:
            raise ValueError(
                f"segment ({segment.start_s}, {segment.end_s}) must satisfy "
                f"0 <= start < end <= duration_s ({duration_s})"
            )
        if segment.kind == "product":
            product += 1
        out.append(segment)
    return tuple(sorted(out, key=lambda s: s.start_s))


def _survival(w: float) -> float:
    """P(watch time > w seconds) of the entry mixture."""
    if w <= 1:
        return 1.0
    long_share = _LONG_SHARE
    lognormal = 0.5 * math.erfc((math.log(w) - _MU) / (WATCH_SIGMA * math.sqrt(2)))
    pareto = 1.0 if w <= LONG_XM_S else (LONG_XM_S / w) ** LONG_ALPHA
    return (1 - long_share) * lognormal + long_share * pareto


_FOLLOWER_SHARE: Final = next(w for s, w, _ in SOURCES if s == "followers")
_LONG_SHARE: Final = _FOLLOWER_SHARE * LONG_SHARE_FOLLOWERS + (1 - _FOLLOWER_SHARE) * (
    LONG_SHARE_OTHERS
)
_MU: Final = math.log(WATCH_MEDIAN_S)


@dataclass(slots=True)
class _Plan:
    duration_s: int
    viewers: int
    seed: int
    platform: str
    currency: str
    start_ms: int
    segments: tuple[Segment, ...]
    products: tuple[Product, ...]
    leave_share: float
    arrivals: array[float]  # expected entries in each second
    seg_of: array[int]  # segment index of each second, -1 outside segments
    bin_s: int
    fluid_online: list[float]  # expected average online per bin
    fluid_interactions: list[float]  # expected interactions per bin at intensity 1
    fluid_entries: list[float]  # expected entries per bin

    @property
    def expected_entries(self) -> float:
        return sum(self.fluid_entries)

    def expected_structural(self) -> float:
        return self.expected_entries * (1 + self.leave_share) + self.snapshots

    @property
    def snapshots(self) -> int:
        return max(0, (self.duration_s - 1) // SNAPSHOT_EVERY_S)

    def expected_total(self, intensity: float = 1.0) -> float:
        return self.expected_structural() + intensity * sum(self.fluid_interactions)


def _interaction_rate(segment: Segment | None, since_start_s: int) -> tuple[float, ...]:
    """Per online viewer and second, per kind in ``_KINDS`` order."""
    kind = "none" if segment is None else segment.kind
    mult = _MULT[kind]
    rates = [base * m for base, m in zip(_BASE_RATE, mult, strict=True)]
    if segment is not None:
        burst = math.exp(-since_start_s / 45.0)
        rates[1] *= 1 + 3 * burst  # comment burst at the segment's start
        if segment.kind == "lucky_draw":
            rates[0] *= 1 + 2 * burst
    return tuple(rates)


def _plan(
    *,
    duration_s: int,
    viewers: int,
    start: datetime,
    seed: int,
    platform: str,
    segments: Sequence[Any] | None,
    currency: str,
    products: Sequence[Any] | None,
    leave_share: float,
) -> _Plan:
    if isinstance(duration_s, bool) or not isinstance(duration_s, int) or duration_s < 10:
        raise ValueError("duration_s must be a whole number of seconds, at least 10")
    if isinstance(viewers, bool) or not isinstance(viewers, int) or viewers < 1:
        raise ValueError("viewers must be a positive whole number")
    if not isinstance(start, datetime) or start.tzinfo is None or start.utcoffset() is None:
        raise ValueError("start must be a datetime with a time zone")
    if not isinstance(platform, str) or not 0 < len(platform) <= 32:
        raise ValueError("platform must be a non-empty string of at most 32 characters")
    if not (isinstance(currency, str) and len(currency) == 3 and currency.isalpha()):
        raise ValueError("currency must be a 3-letter ISO 4217 code")
    if not 0.0 <= leave_share <= 1.0:
        raise ValueError("leave_share must be between 0 and 1")
    catalogue = _normalise_products(products)
    segs = _normalise_segments(segments, duration_s, seed, len(catalogue))
    delta = start.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    start_ms = (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000

    seg_of = array("i", [-1]) * duration_s
    for i, seg in enumerate(segs):
        for t in range(seg.start_s, seg.end_s):
            seg_of[t] = i
    # smooth per-minute traffic waves (AR(1) in log space)
    noise_rng = _rng(seed * 7919 + 1)
    minutes = duration_s // 60 + 1
    waves: list[float] = []
    level = 0.0
    for _ in range(minutes):
        level = 0.7 * level + noise_rng.gauss(0.0, 0.18)
        waves.append(math.exp(level))
    shape = array("d", [0.0]) * duration_s
    starts = [s.start_s for s in segs]
    next_seg = 0
    recent: list[Segment] = []
    for t in range(duration_s):
        while next_seg < len(segs) and starts[next_seg] <= t:
            recent = [*recent[-1:], segs[next_seg]]
            next_seg += 1
        x = t / START_PEAK_S
        value = 1.0 + 4.0 * x * math.exp(1.0 - x)
        for seg in recent:
            bump = 3.0 if seg.kind == "lucky_draw" else 1.5
            value += bump * math.exp(-(t - seg.start_s) / 150.0)
        value *= 1.0 - 0.3 * t / duration_s
        shape[t] = value * waves[t // 60]
    total_entries = viewers / (1.0 - REENTRY_SHARE)
    scale = total_entries / sum(shape)
    arrivals = array("d", (v * scale for v in shape))

    # fluid model, in bins: expected online and interactions at intensity 1
    bin_s = max(60, math.ceil(duration_s / 1200))
    n_bins = math.ceil(duration_s / bin_s)
    entries = [0.0] * n_bins
    rate_sum = [0.0] * n_bins
    for t in range(duration_s):
        j = t // bin_s
        entries[j] += arrivals[t]
        i = seg_of[t]
        current = segs[i] if i >= 0 else None
        rates = _interaction_rate(current, t - current.start_s if current else 0)
        # a click brings an order (and rarely a refund) with it
        rate_sum[j] += sum(rates) + rates[2] * ORDER_SHARE * (1 + REFUND_SHARE * leave_share)
    kernel = [0.5 * _survival(bin_s / 2)] + [_survival(m * bin_s) for m in range(1, n_bins)]
    online: list[float] = []
    interactions: list[float] = []
    for j in range(n_bins):
        o = sum(entries[i] * kernel[j - i] for i in range(j + 1))
        online.append(o)
        interactions.append(o * rate_sum[j])
    return _Plan(
        duration_s=duration_s,
        viewers=viewers,
        seed=seed,
        platform=platform,
        currency=currency.upper(),
        start_ms=start_ms,
        segments=segs,
        products=catalogue,
        leave_share=leave_share,
        arrivals=arrivals,
        seg_of=seg_of,
        bin_s=bin_s,
        fluid_online=online,
        fluid_interactions=interactions,
        fluid_entries=entries,
    )


def viewers_for(
    n_events: int,
    *,
    duration_s: int,
    seed: int = 0,
    platform: str = "douyin",
    leave_share: float = 0.8,
) -> int:
    """How many viewers a session of ``duration_s`` needs for about ``n_events`` events."""
    probe = 10_000
    plan = _plan(
        duration_s=duration_s,
        viewers=probe,
        start=datetime(2026, 1, 1, tzinfo=UTC),
        seed=seed,
        platform=platform,
        segments=None,
        currency="CNY",
        products=None,
        leave_share=leave_share,
    )
    per_viewer = (plan.expected_total() - plan.snapshots) / probe
    return max(1, round(max(0, n_events - plan.snapshots) / per_viewer))


# --------------------------------------------------------------------------------------------
# generate
# --------------------------------------------------------------------------------------------


def _poisson(lam: float, rnd: Callable[[], float], gauss: Callable[[float, float], float]) -> int:
    if lam <= 0.0:
        return 0
    if lam < 30.0:
        limit = math.exp(-lam)
        k = 0
        p = rnd()
        while p > limit:
            k += 1
            p *= rnd()
        return k
    return max(0, int(gauss(lam, math.sqrt(lam)) + 0.5))


def _next_prime(n: int) -> int:
    n = max(n, 2)
    while True:
        if (n % 2 or n == 2) and all(n % d for d in range(3, math.isqrt(n) + 1, 2)):
            return n
        n += 1


def _iso(ms: int) -> str:
    return (
        (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms))
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


def generate(
    *,
    n_events: int | None = None,
    duration_s: int,
    viewers: int,
    start: datetime,
    seed: int,
    platform: str = "douyin",
    segments: Sequence[Any] | None = None,
    currency: str = "CNY",
    products: Sequence[Any] | None = None,
    leave_share: float = 0.8,
    ts_format: str = "ms",
    id_prefix: str | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield one live session's events in time order (see the module docstring).

    ``segments`` are ``(start_s, end_s)`` pairs (seconds from ``start``; every 4th is a
    lucky draw, the others explain the next product) or ``(start_s, end_s, kind)`` triples
    with kind ``product`` / ``lucky_draw``; ``None`` plans a plausible run-of-show.
    ``products`` are :class:`Product` s, ``(product_id, name, price)`` tuples or dicts
    with those keys. ``ts`` is epoch milliseconds (``ts_format="ms"``) or an ISO-8601 UTC
    string (``"iso"``). Event ids are ``f"{id_prefix}{n}"`` (default ``gen-{seed}-``),
    numbered as the events are made, so they are stable for a seed; they are unique per seed,
    and the event store deduplicates per workspace, so give sessions of one workspace
    different seeds or prefixes. Arguments are checked now (``ValueError``); events are
    produced lazily.
    """
    return chain.from_iterable(
        _ticks(
            *_prepare(
                n_events=n_events,
                duration_s=duration_s,
                viewers=viewers,
                start=start,
                seed=seed,
                platform=platform,
                segments=segments,
                currency=currency,
                products=products,
                leave_share=leave_share,
                ts_format=ts_format,
                id_prefix=id_prefix,
            )
        )
    )


def _prepare(
    *,
    n_events: int | None = None,
    duration_s: int,
    viewers: int,
    start: datetime,
    seed: int,
    platform: str = "douyin",
    segments: Sequence[Any] | None = None,
    currency: str = "CNY",
    products: Sequence[Any] | None = None,
    leave_share: float = 0.8,
    ts_format: str = "ms",
    id_prefix: str | None = None,
) -> tuple[_Plan, int | None, bool, str]:
    if n_events is not None and (
        isinstance(n_events, bool) or not isinstance(n_events, int) or n_events < 0
    ):
        raise ValueError("n_events must be a whole number, 0 or more")
    if ts_format not in ("ms", "iso"):
        raise ValueError("ts_format must be 'ms' or 'iso'")
    plan = _plan(
        duration_s=duration_s,
        viewers=viewers,
        start=start,
        seed=seed,
        platform=platform,
        segments=segments,
        currency=currency,
        products=products,
        leave_share=leave_share,
    )
    prefix = f"gen-{seed}-" if id_prefix is None else id_prefix
    return plan, n_events, ts_format == "iso", prefix


def _ticks(
    plan: _Plan, n_events: int | None, iso: bool, prefix: str
) -> Iterator[list[dict[str, Any]]]:
    """The events of each second of the live, in time order (``generate`` flattens them)."""
    rng = _rng(plan.seed)
    rnd = rng.random
    gauss = rng.gauss
    lognorm = rng.lognormvariate
    pareto = rng.paretovariate
    platform = plan.platform
    currency = plan.currency
    english = platform in _EN_PLATFORMS or (platform not in _KNOWN_ZH and platform != "other")
    leave_share = plan.leave_share
    duration = plan.duration_s
    start_ms = plan.start_ms
    end_ms = start_ms + duration * 1000
    segments = plan.segments
    seg_of = plan.seg_of
    arrivals = plan.arrivals
    products = plan.products
    prices = [_cents(p.price) for p in products]
    n_products = len(products)

    # -- lookup tables ------------------------------------------------------------------------
    templates: Sequence[tuple[str, float]]
    if english:
        general = _table([*_EN_GENERAL, *((t, w * 0.1) for t, w in _ZH_GENERAL)])
        product_talk = general
        lucky = _table([*_EN_LUCKY, (_LUCKY_PHRASE, 2)])
        templates = _EN_PRODUCT_TEMPLATES
    else:
        zh = [*_ZH_GENERAL, *((t, w * 0.05) for t, w in _EN_GENERAL)]
        if platform == "bilibili":
            zh.extend(_BILIBILI_EXTRA)
        general = _table(zh)
        product_talk = _table([*_ZH_PRODUCT, *((t, w * 0.3) for t, w in zh)])
        lucky = _table([(_LUCKY_PHRASE, 12), *_ZH_LUCKY, *((t, w * 0.1) for t, w in zh)])
        templates = _ZH_PRODUCT_TEMPLATES
    featured_talk: list[list[str]] = []
    for item in products:
        short = _short_name(item.name)
        own = [(tpl.format(short=short, name=item.name), w) for tpl, w in templates]
        featured_talk.append(_table([*own, *((t, 0.4 * w) for t, w in _ZH_PRODUCT)]))
    seg_talk: list[list[str]] = []
    for seg in segments:
        if seg.kind == "lucky_draw":
            seg_talk.append(lucky)
        else:
            mix = featured_talk[seg.product]
            seg_talk.append([mix[i] if i % 5 < 2 else product_talk[i] for i in range(_TABLE)])
    gifts = _table(
        _GIFTS_BILIBILI if platform == "bilibili" else (_GIFTS_TIKTOK if english else _GIFTS_DOUYIN)
    )
    gift_counts = _table(_GIFT_COUNTS)
    like_counts = _like_counts()
    source_keys = [
        (s if s != "ads:qianchuan" or platform == "douyin" else "ads:promote", w)
        for s, w, _ in SOURCES
    ]
    sources = _table(source_keys)
    tier_pick = [_table([(0, a), (1, b), (2, c)]) for a, b, c in _TIER_SHARE]
    tier_of_viewer = _table([(0, _TIER_OF_VIEWER[0]), (1, _TIER_OF_VIEWER[1]), (2, 0.08)])
    order_qty = _table([(1, 80), (2, 15), (3, 5)])

    # -- viewer pools ---------------------------------------------------------------------------
    fan_pool = max(1000, int(plan.viewers * FAN_POOL_SHARE * 3))
    fan_prime = _next_prime(fan_pool + 1)
    fan_mult = 1 + rng.randrange(fan_prime - 1)
    fan_add = rng.randrange(fan_prime)
    fan_counter = 0
    nonfan_base = _NONFAN_BASE + ((_mix64(plan.seed) & 0xFFFFF) << 30)
    new_viewers = 0
    max_new = plan.viewers
    # record: [vid, name, source, tier, enter_ms, leave_ms, emits_leave, pos, idx]
    tiers: list[list[list[Any]]] = [[], [], []]
    departures: list[tuple[int, int, list[Any]]] = []  # heap of (leave_ms, idx, record)
    ring: list[list[Any]] = []  # recently departed (may re-enter)
    departed: list[list[Any]] = []  # departed in this second (join the ring after arrivals)
    followed: set[int] = set()
    pending: list[tuple[int, int, dict[str, Any]]] = []  # heap of (ts, seq, order/refund)
    pending_seq = count()
    next_id = map(f"{prefix}{{}}".format, count()).__next__
    size = _TABLE

    # -- n_events: intensity from the fluid model, corrected every bin -------------------------
    bin_s = plan.bin_s
    int_cum_after: list[float] = []  # expected interactions from bin j on (intensity 1)
    acc = 0.0
    for v in reversed(plan.fluid_interactions):
        acc += v
        int_cum_after.append(acc)
    int_cum_after.reverse()
    int_cum_after.append(0.0)
    entries_after: list[float] = []
    acc = 0.0
    for v in reversed(plan.fluid_entries):
        acc += v
        entries_after.append(acc)
    entries_after.reverse()
    entries_after.append(0.0)
    intensity = 1.0
    if n_events is not None:
        total1 = int_cum_after[0]
        intensity = max(0.0, (n_events - plan.expected_structural()) / total1) if total1 else 0.0
    base_intensity = intensity
    limit = n_events if n_events is not None else -1
    emitted = 0
    rates_cache: dict[tuple[int, int], tuple[float, ...]] = {}

    def depart(until_ms: int, append: Callable[[dict[str, Any]], None]) -> None:
        """Take the viewers whose watch ends by ``until_ms`` off the audience."""
        while departures and departures[0][0] <= until_ms:
            leave_ms, _, rec = heapq.heappop(departures)
            group = tiers[rec[3]]
            moved = group.pop()
            if moved is not rec:
                group[rec[7]] = moved
                moved[7] = rec[7]
            if rec[6]:
                append(
                    {
                        "event_id": next_id(),
                        "ts": leave_ms if leave_ms < end_ms else end_ms,
                        "kind": "leave",
                        "viewer_id": rec[0],
                        "viewer_name": rec[1],
                        "platform": platform,
                    }
                )
            departed.append(rec)  # may come back from the next second on

    for t in range(duration):
        base = start_ms + t * 1000 + 1
        tick_end = base + 999
        last = t == duration - 1
        events: list[dict[str, Any]] = []
        append = events.append

        if n_events is not None and t % SNAPSHOT_EVERY_S == 0 and t:
            # re-aim every 10 s: what is left to emit ÷ what the fluid model expects is left,
            # keeping a margin of two standard deviations for the last second to top up
            j = t // bin_s
            left_in_bin = (min((j + 1) * bin_s, duration) - t) / min(bin_s, duration - j * bin_s)
            online_now = len(tiers[0]) + len(tiers[1]) + len(tiers[2])
            structural = (
                (entries_after[j + 1] + plan.fluid_entries[j] * left_in_bin) * (1 + leave_share)
                + online_now * leave_share
                + (duration - t) // SNAPSHOT_EVERY_S
            )
            fluid = plan.fluid_online[j]
            ratio = min(2.0, max(0.5, online_now / fluid)) if fluid > 0 else 1.0
            expected_rest = (
                int_cum_after[j + 1] + plan.fluid_interactions[j] * left_in_bin
            ) * ratio
            if expected_rest > 0:
                margin = 2 * math.sqrt(max(1.0, expected_rest * intensity))
                wanted = (n_events - emitted - structural - margin) / expected_rest
                intensity = min(max(wanted, 0.0), max(4 * base_intensity, 1.0))

        # 1. departures due in this tick
        depart(tick_end, append)

        # 2. arrivals (none in the last second: the live is closing)
        n_arrivals = 0 if last else _poisson(arrivals[t], rnd, gauss)
        for _ in range(n_arrivals):
            if ring and (rnd() < REENTRY_SHARE or new_viewers >= max_new):
                k = int(rnd() * len(ring))
                rec = ring[k]
                ring[k] = ring[-1]
                ring.pop()
                if rnd() >= 0.6:
                    rec[2] = sources[int(rnd() * _TABLE)]
            elif new_viewers < max_new:
                new_viewers += 1
                idx = nonfan_base + new_viewers
                if rnd() < FAN_POOL_SHARE:
                    while fan_counter < fan_prime:  # walk the permutation into [0, fan_pool)
                        candidate = (fan_mult * fan_counter + fan_add) % fan_prime
                        fan_counter += 1
                        if candidate < fan_pool:
                            idx = candidate
                            break
                h = _mix64(idx)
                tier = tier_of_viewer[h % _TABLE]
                rec = [
                    _viewer_id(idx),
                    _viewer_name(idx, english),
                    sources[int(rnd() * _TABLE)],
                    tier,
                    0,
                    0,
                    True,
                    0,
                    idx,
                ]
            else:
                continue
            enter_ms = base + int(rnd() * 999)
            long_share = LONG_SHARE_FOLLOWERS if rec[2] == "followers" else LONG_SHARE_OTHERS
            if rnd() < long_share:
                watch = LONG_XM_S * pareto(LONG_ALPHA)
            else:
                watch = lognorm(_MU, WATCH_SIGMA)
            leave_ms = enter_ms + max(1000, int(watch * 1000))
            rec[4] = enter_ms
            rec[5] = leave_ms
            rec[6] = rnd() < leave_share
            group = tiers[rec[3]]
            rec[7] = len(group)
            group.append(rec)
            heapq.heappush(departures, (leave_ms, rec[8], rec))
            append(
                {
                    "event_id": next_id(),
                    "ts": enter_ms,
                    "kind": "enter",
                    "viewer_id": rec[0],
                    "viewer_name": rec[1],
                    "source": rec[2],
                    "platform": platform,
                }
            )

        for rec in departed:
            if len(ring) < RING_SIZE:
                ring.append(rec)
            else:
                ring[int(rnd() * RING_SIZE)] = rec
        departed.clear()

        # 3. interactions of the viewers online now
        g0, g1, g2 = tiers
        online = len(g0) + len(g1) + len(g2)
        if online:
            seg_index = seg_of[t]
            since = t - segments[seg_index].start_s if seg_index >= 0 else 0
            key = (seg_index, since if since < 600 else 600)
            rates = rates_cache.get(key)
            if rates is None:
                rates = _interaction_rate(segments[seg_index] if seg_index >= 0 else None, key[1])
                rates_cache[key] = rates
            scale = online * intensity
            featured = segments[seg_index].product if seg_index >= 0 else -1
            talk = seg_talk[seg_index] if seg_index >= 0 else general
            like_mult = 2 if seg_index >= 0 and segments[seg_index].kind == "lucky_draw" else 1
            if g0 and g1 and g2:
                groups = tiers
            else:  # an empty tier: its share goes to the biggest one
                biggest = max(tiers, key=len)
                groups = [g if g else biggest for g in tiers]

            # likes (half of all events): their own tight loop
            picks = tier_pick[0]
            for _ in range(_poisson(rates[0] * scale, rnd, gauss)):
                group = groups[picks[int(rnd() * size)]]
                rec = group[int(rnd() * len(group))]
                ts = base + int(rnd() * 1000)
                append(
                    {
                        "event_id": next_id(),
                        "ts": ts if ts > rec[4] else rec[4] + 1,
                        "kind": "like",
                        "viewer_id": rec[0],
                        "viewer_name": rec[1],
                        "quantity": like_counts[int(rnd() * size)] * like_mult,
                        "platform": platform,
                    }
                )
            picks = tier_pick[1]
            for _ in range(_poisson(rates[1] * scale, rnd, gauss)):
                group = groups[picks[int(rnd() * size)]]
                rec = group[int(rnd() * len(group))]
                ts = base + int(rnd() * 1000)
                append(
                    {
                        "event_id": next_id(),
                        "ts": ts if ts > rec[4] else rec[4] + 1,
                        "kind": "comment",
                        "viewer_id": rec[0],
                        "viewer_name": rec[1],
                        "text": talk[int(rnd() * size)],
                        "platform": platform,
                    }
                )
            for kind_i in (2, 3, 4, 5):
                picks = tier_pick[kind_i]
                for _ in range(_poisson(rates[kind_i] * scale, rnd, gauss)):
                    group = groups[picks[int(rnd() * size)]]
                    rec = group[int(rnd() * len(group))]
                    ts = base + int(rnd() * 1000)
                    if ts <= rec[4]:
                        ts = rec[4] + 1
                    if kind_i == 2:
                        p = featured if featured >= 0 and rnd() < 0.7 else int(rnd() * n_products)
                        product_id = products[p].product_id
                        append(
                            {
                                "event_id": next_id(),
                                "ts": ts,
                                "kind": "product_click",
                                "viewer_id": rec[0],
                                "viewer_name": rec[1],
                                "product_id": product_id,
                                "platform": platform,
                            }
                        )
                        if rnd() >= ORDER_SHARE:
                            continue
                        due = min(ts + 3000 + int(rnd() * 87_000), rec[5] - 1)
                        if not ts < due <= end_ms:
                            continue
                        qty = order_qty[int(rnd() * size)]
                        amount = _money(prices[p] * qty)
                        order = {
                            "event_id": next_id(),
                            "ts": due,
                            "kind": "order",
                            "viewer_id": rec[0],
                            "viewer_name": rec[1],
                            "quantity": qty,
                            "amount": amount,
                            "currency": currency,
                            "product_id": product_id,
                            "platform": platform,
                        }
                        heapq.heappush(pending, (due, next(pending_seq), order))
                        if rec[6] and rnd() < REFUND_SHARE:
                            refund_at = due + 60_000 + int(rnd() * 1_140_000)
                            if refund_at <= end_ms:
                                refund = {
                                    **order,
                                    "event_id": next_id(),
                                    "ts": refund_at,
                                    "kind": "refund",
                                }
                                heapq.heappush(pending, (refund_at, next(pending_seq), refund))
                    elif kind_i == 3:
                        name, unit = gifts[int(rnd() * size)]
                        n_gifts = gift_counts[int(rnd() * size)] if unit < 100 else 1
                        append(
                            {
                                "event_id": next_id(),
                                "ts": ts,
                                "kind": "gift",
                                "viewer_id": rec[0],
                                "viewer_name": rec[1],
                                "text": name,
                                "quantity": n_gifts,
                                "amount": unit * n_gifts,
                                "platform": platform,
                            }
                        )
                    elif kind_i == 4:
                        if rec[2] == "followers" or rec[8] in followed:
                            continue
                        followed.add(rec[8])
                        append(
                            {
                                "event_id": next_id(),
                                "ts": ts,
                                "kind": "follow",
                                "viewer_id": rec[0],
                                "viewer_name": rec[1],
                                "platform": platform,
                            }
                        )
                    else:
                        append(
                            {
                                "event_id": next_id(),
                                "ts": ts,
                                "kind": "share",
                                "viewer_id": rec[0],
                                "viewer_name": rec[1],
                                "platform": platform,
                            }
                        )

        # 4. the live ends: with n_events, top up with likes first; then everyone leaves
        if last:
            if n_events is not None and online:
                leaving = sum(1 for d in departures if d[2][6])
                due_now = sum(1 for d in pending if d[0] <= tick_end)
                deficit = n_events - emitted - len(events) - leaving - due_now
                everyone = [*g0, *g1, *g2]
                for _ in range(max(0, deficit)):
                    rec = everyone[int(rnd() * online)]
                    ts = base + int(rnd() * 1000)
                    append(
                        {
                            "event_id": next_id(),
                            "ts": ts if ts > rec[4] else rec[4] + 1,
                            "kind": "like",
                            "viewer_id": rec[0],
                            "viewer_name": rec[1],
                            "quantity": like_counts[int(rnd() * size)],
                            "platform": platform,
                        }
                    )
            depart(1 << 62, append)

        # 5. orders and refunds that fall due
        while pending and pending[0][0] <= tick_end:
            append(heapq.heappop(pending)[2])

        if len(events) > 1:
            events.sort(key=_BY_TS)
        # 6. the platform's online count at whole 10-second marks (state after this tick)
        if (t + 1) % SNAPSHOT_EVERY_S == 0 and not last:
            append(
                {
                    "event_id": next_id(),
                    "ts": tick_end,
                    "kind": "online_count",
                    "quantity": len(g0) + len(g1) + len(g2),
                    "platform": platform,
                }
            )
        if not events:
            continue
        if limit >= 0 and emitted + len(events) >= limit:
            del events[limit - emitted :]
            emitted = limit
            if iso:
                for event in events:
                    event["ts"] = _iso(event["ts"])
            if events:
                yield events
            return
        emitted += len(events)
        if iso:
            for event in events:
                event["ts"] = _iso(event["ts"])
        yield events


_BY_TS: Final = itemgetter("ts")


# --------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GenerateProgress:
    """Passed to the progress callback: events so far, and how far into the live."""

    events: int
    live_s: float
    duration_s: int
    target_events: int | None


@dataclass(frozen=True, slots=True)
class Written:
    path: Path
    events: int
    bytes: int
    seconds: float

    @property
    def events_per_s(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0


_CHUNK: Final = 16_384


def _writer(out: BinaryIO, chunks: queue.Queue[bytes | None], failure: list[BaseException]) -> None:
    try:
        while True:
            chunk = chunks.get()
            if chunk is None:
                return
            out.write(chunk)  # gzip compression happens here, off the generating thread
    except BaseException as exc:  # reported by the producer
        failure.append(exc)
        while chunks.get() is not None:  # drain so the producer never blocks
            pass


def generate_session_file(
    path: str | os.PathLike[str],
    *,
    gzip: bool | None = None,
    progress: Callable[[GenerateProgress], None] | None = None,
    compresslevel: int = 1,
    **kw: Any,
) -> Written:
    """Write :func:`generate` (``**kw``) to ``path`` as NDJSON; gzip if asked or ``*.gz``.

    The file appears complete or not at all (written to ``path + ".part"``, then renamed;
    an error or Ctrl-C removes the part file). Compressing and writing run in a second
    thread (zlib releases the GIL), so on two cores generating is the only bottleneck.
    ``progress`` is called about every 16 000 events and once at the end.
    """
    target = Path(path)
    use_gzip = target.suffix == ".gz" if gzip is None else gzip
    ticks = _ticks(*_prepare(**kw))  # validates the arguments before any file is touched
    duration_s = int(kw["duration_s"])
    target_events = kw.get("n_events")
    start_ms = _ms_of(kw["start"])
    partial = target.with_name(target.name + ".part")
    target.parent.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    written = 0
    dumps = orjson.dumps
    newline = orjson.OPT_APPEND_NEWLINE
    chunks: queue.Queue[bytes | None] = queue.Queue(maxsize=4)
    failure: list[BaseException] = []
    try:
        with open(partial, "wb") as raw:
            sink: Any = (
                gzip_module.GzipFile(
                    str(target), mode="wb", compresslevel=compresslevel, fileobj=raw, mtime=0
                )
                if use_gzip
                else raw
            )
            worker = threading.Thread(target=_writer, args=(sink, chunks, failure), daemon=True)
            worker.start()
            try:
                lines: list[bytes] = []
                for tick in ticks:
                    lines.extend([dumps(event, option=newline) for event in tick])
                    if len(lines) >= _CHUNK:
                        chunks.put(b"".join(lines))
                        written += len(lines)
                        lines = []
                        if failure:
                            break
                        if progress is not None:
                            live_s = (_ms_of(tick[-1]["ts"]) - start_ms) / 1000
                            progress(GenerateProgress(written, live_s, duration_s, target_events))
                if lines and not failure:
                    chunks.put(b"".join(lines))
                    written += len(lines)
            finally:
                chunks.put(None)
                worker.join()
            if use_gzip:
                sink.close()
        if failure:
            raise failure[0]
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, target)
    if progress is not None:
        progress(GenerateProgress(written, float(duration_s), duration_s, target_events))
    return Written(target, written, target.stat().st_size, time.perf_counter() - began)


def _ms_of(value: Any) -> int:
    if isinstance(value, datetime):
        delta = value.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
        return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000
    if isinstance(value, int):
        return value
    return _ms_of(datetime.fromisoformat(str(value)))
