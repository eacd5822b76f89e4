"""Taboo-word matching: Chinese without word boundaries, the workspace list, no false alarms
on ordinary words. Known limits (documented in taboo.py): negation and homophones."""

from __future__ import annotations

import pytest

from liveops.planning import taboo

BUILTIN = taboo.terms_for()


def words(text: str, terms: list[taboo.Term] = BUILTIN) -> list[str]:
    return [m.word for m in taboo.find(text, terms)]


def test_builtin_list_is_curated_with_reasons() -> None:
    assert len(taboo.BUILTIN) >= 30
    assert all(str(t.reason) for t in taboo.BUILTIN)
    for word in ["最", "第一", "国家级", "最高级", "最佳", "首个", "唯一", "顶级", "极品",
                 "100%", "绝对", "万能", "特效", "根治"]:  # fmt: skip
        assert word in {t.word for t in taboo.BUILTIN}


def test_matches_inside_chinese_text_without_word_boundaries() -> None:
    assert words("这款是全网最低价的口红") == ["全网", "最低价"]
    assert words("国家级配方，绝对有效") == ["国家级", "绝对"]
    assert words("我们是行业第一品牌") == ["第一"]


def test_longest_overlapping_term_wins() -> None:
    matches = taboo.find("最高级面料", BUILTIN)
    assert [(m.word, m.start, m.end) for m in matches] == [("最高级", 0, 3)]


def test_full_width_and_case_are_folded() -> None:
    assert words("１００％纯天然") == ["100%"]
    custom = taboo.terms_for(custom=["OMG"], use_builtin=False)
    assert words("omg 买它", custom) == ["OMG"]


@pytest.mark.parametrize(
    "ordinary",
    [
        "最近很多朋友问",
        "最后三分钟",
        "最终解释权",
        "第一次来直播间的宝宝",
        "第一时间下单",
        "加上视觉特效",
        "美颜特效滤镜",
        "这个颜色很百搭",
        "今天给大家讲成分",
        "一百块以内",
    ],
)
def test_no_false_positive_on_ordinary_words(ordinary: str) -> None:
    assert words(ordinary) == []


def test_excused_word_next_to_a_real_hit_still_warns() -> None:
    assert words("最近最火的单品") == ["最"]


def test_workspace_list_is_added_and_builtin_can_be_switched_off() -> None:
    terms = taboo.terms_for(custom=["神器", " ", "秒杀"], use_builtin=True)
    assert words("美妆神器，秒杀价，最低价", terms) == ["神器", "秒杀", "最低价"]
    own_only = taboo.terms_for(custom=["神器"], use_builtin=False)
    assert words("最低价神器", own_only) == ["神器"]


def test_highlight_escapes_text_and_marks_the_word() -> None:
    text = "<b>绝对</b>好"
    html = taboo.highlight(text, taboo.find(text, BUILTIN))
    assert html.startswith('&lt;b&gt;<mark class="taboo"')
    assert ">绝对</mark>&lt;/b&gt;好" in html


def test_known_limit_negation_still_warns() -> None:
    # A person reads the warning and decides; the matcher does not parse sentences.
    assert words("我们不说最好") == ["最"]
