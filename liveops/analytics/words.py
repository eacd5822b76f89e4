"""Hot words and top questions of a live's comments (jieba for Chinese; no Django).

Input is the distinct comment texts with their counts (``events.selectors.
comment_text_counts``), so a word's count is the number of comments it appears in, over
every comment, without segmenting the same "666" a million times.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Iterable
from typing import Final

from liveops.analytics.metrics import QUESTION_HINTS

_STOP: Final = frozenset(
    " ".join(
        (
            "的 了 是 我 你 他 她 它 们 这 那 就 都 也 还 在 有 和 吗 呢 吧 啊 呀 哦 嗯 哈",
            "哈哈 哈哈哈 么 个 一个 不 没 没有 很 太 好 要 会 能 可以 什么 怎么 多少",
            "为什么 一下 一点 给 看 说 来 去 想 让 把 被 主播 直播 直播间 宝宝 家人",
            "家人们 姐妹 姐妹们 the a an and or to of in on is are was it i you he she",
            "we they this that for with be do does did can so just my your lol haha",
        )
    ).split()
)
_WORD: Final = re.compile(r"[\w\u4e00-\u9fff]", re.UNICODE)
_QUESTION_HINTS: Final = QUESTION_HINTS  # one definition: analytics.metrics
_jieba_lock = threading.Lock()


def _cut(text: str) -> list[str]:
    import jieba  # type: ignore[import-untyped]

    with _jieba_lock:  # jieba's lazy dictionary load is not thread-safe
        jieba.setLogLevel(60)
        return list(jieba.lcut(text))


def is_question(text: str) -> bool:
    """A comment that asks something (punctuation or a Chinese/English question word)."""
    lowered = text.strip().lower()
    return len(lowered) >= 2 and any(hint in lowered for hint in _QUESTION_HINTS)


def hot_words(texts: Iterable[tuple[str, int]], top: int = 50) -> list[tuple[str, int]]:
    """The most used words: each word counted once per comment, weighted by the text's count.

    Single characters, numbers-only tokens ("666" stays: it is chat's applause), stop words
    and punctuation are left out.
    """
    counts: Counter[str] = Counter()
    for text, n in texts:
        seen = set()
        for token in _cut(text):
            word = token.strip().lower()
            if len(word) < 2 or word in _STOP or not _WORD.search(word) or word in seen:
                continue
            seen.add(word)
            counts[word] += n
    return counts.most_common(top)


def top_questions(texts: Iterable[tuple[str, int]], top: int = 20) -> list[tuple[str, int]]:
    """The questions asked most often (identical texts after trimming), with their counts."""
    counts: Counter[str] = Counter()
    for text, n in texts:
        cleaned = " ".join(text.split())
        if is_question(cleaned):
            counts[cleaned[:200]] += n
    return counts.most_common(top)
