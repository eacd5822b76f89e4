"""Taboo-word warnings for talking points and host lines (广告法极限词).

China's Advertising Law (《广告法》 art. 9(3)) forbids absolute terms such as "国家级",
"最高级" and "最佳" in advertising, and market regulators read live-commerce patter as
advertising. ``BUILTIN`` is a curated starter list with a short reason for each term; a
workspace adds its own words in its brand profile.

Matching is plain substring search after a per-character NFKC fold (full-width "１００％"
matches "100%") and lower-casing: Chinese has no word boundaries, so a term matches
wherever its characters appear. Limits, by design: no understanding of negation ("不是最好"
still warns), no pinyin or homophone evasion ("zui好", "第1"), and ordinary words that
merely contain a term are excused only when listed in the term's ``except_in`` (e.g. "最近",
"第一次", "视觉特效"). These are warnings, never errors: a person decides.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise


@dataclass(frozen=True)
class Term:
    word: str
    reason: StrOrPromise
    # Ordinary words that contain ``word`` and must not warn.
    except_in: tuple[str, ...] = ()


@dataclass(frozen=True)
class Match:
    word: str
    start: int
    end: int
    reason: str


_SUPERLATIVE = _("Superlative: absolute terms are forbidden in advertising (广告法 art. 9).")
_RANK = _("Claims a rank or a first that cannot be proven.")
_OFFICIAL = _("Claims an official or national grade.")
_ABSOLUTE = _("Absolute promise that cannot be substantiated.")
_MEDICAL = _("Medical or curative claim; only licensed drugs may claim effects.")
_SCARCITY = _("Pressure or false-scarcity wording.")

BUILTIN: tuple[Term, ...] = (
    Term(
        "最",
        _SUPERLATIVE,
        except_in=("最近", "最后", "最终", "最初", "最早", "最晚", "最少要", "最多只"),
    ),
    Term("最佳", _SUPERLATIVE),
    Term("最高级", _SUPERLATIVE),
    Term("最低价", _SUPERLATIVE),
    Term("第一", _RANK, except_in=("第一次", "第一天", "第一步", "第一眼", "第一时间", "第一件")),
    Term("首个", _RANK),
    Term("首家", _RANK),
    Term("首选", _RANK),
    Term("唯一", _RANK),
    Term("独家", _RANK),
    Term("销量冠军", _RANK),
    Term("全网", _RANK, except_in=("全网络",)),
    Term("国家级", _OFFICIAL),
    Term("世界级", _OFFICIAL),
    Term("顶级", _SUPERLATIVE),
    Term("极品", _SUPERLATIVE),
    Term("极致", _SUPERLATIVE),
    Term("王牌", _SUPERLATIVE),
    Term("史无前例", _SUPERLATIVE),
    Term("100%", _ABSOLUTE),
    Term("绝对", _ABSOLUTE),
    Term("万能", _ABSOLUTE),
    Term("永久", _ABSOLUTE),
    Term("零风险", _ABSOLUTE),
    Term("无副作用", _MEDICAL),
    Term("特效", _MEDICAL, except_in=("视觉特效", "特效妆", "特效滤镜", "礼物特效", "直播特效")),
    Term("根治", _MEDICAL),
    Term("药到病除", _MEDICAL),
    Term("包治", _MEDICAL),
    Term("秒杀全网", _RANK),
    Term("仅此一次", _SCARCITY),
    Term("再不抢就没了", _SCARCITY),
)


def _fold(text: str) -> str:
    """NFKC + lower case, one character at a time, so offsets stay those of ``text``."""
    out = []
    for ch in text:
        folded = unicodedata.normalize("NFKC", ch).lower()
        out.append(folded if len(folded) == 1 else ch)
    return "".join(out)


def _excused(folded: str, start: int, word: str, except_in: tuple[str, ...]) -> bool:
    for exc in except_in:
        exc_f = _fold(exc)
        at = exc_f.find(word)
        if at >= 0 and folded[start - at : start - at + len(exc_f)] == exc_f:
            return True
    return False


def terms_for(*, custom: Iterable[str] = (), use_builtin: bool = True) -> list[Term]:
    """The terms a workspace checks: the built-in list (if enabled) and its own words."""
    terms = list(BUILTIN) if use_builtin else []
    seen = {t.word for t in terms}
    for word in custom:
        word = word.strip()
        if word and word not in seen:
            seen.add(word)
            terms.append(Term(word, _("On this workspace's taboo list.")))
    return terms


def find(text: str, terms: Iterable[Term]) -> list[Match]:
    """Every taboo term in ``text``; overlapping hits keep the longest, in text order."""
    folded = _fold(text)
    hits: list[Match] = []
    for term in terms:
        word = _fold(term.word)
        if not word:
            continue
        start = folded.find(word)
        while start >= 0:
            if not _excused(folded, start, word, term.except_in):
                hits.append(Match(term.word, start, start + len(word), str(term.reason)))
            start = folded.find(word, start + 1)
    hits.sort(key=lambda m: (m.start, -(m.end - m.start)))
    kept: list[Match] = []
    for hit in hits:
        if kept and hit.start < kept[-1].end:
            continue
        kept.append(hit)
    return kept


def highlight(text: str, matches: list[Match]) -> SafeString:
    """``text`` escaped, with each match wrapped in <mark class="taboo" title=reason>."""
    parts: list[str] = []
    pos = 0
    for m in matches:
        parts.append(escape(text[pos : m.start]))
        parts.append(
            f'<mark class="taboo" title="{escape(m.reason)}">{escape(text[m.start : m.end])}</mark>'
        )
        pos = m.end
    parts.append(escape(text[pos:]))
    return mark_safe("".join(parts))  # noqa: S308 - every piece is escaped above
