"""Raw YouTube live-chat actions (innertube JSON), format ``youtube-actions``.

What a capture of YouTube's ``live_chat/get_live_chat`` (or ``…_replay``) traffic holds:

* a JSON array of actions (``[{"addChatItemAction": …}, …]``), or JSON lines of them
  (yt-dlp's ``live_chat.json``: one ``replayChatItemAction`` per line);
* whole responses (``{"responseContext": …, "contents": {"liveChatRenderer": {"actions":
  […]}}}`` for the first page, ``continuationContents.liveChatContinuation.actions`` for the
  next ones), one or several per file.

Every action is one record (a ``replayChatItemAction`` wrapper is opened: each action in it
is a record). Only the ``actions`` lists of ``liveChatRenderer`` / ``liveChatContinuation``
are read: the template action inside the page's message-input panel is not an event.
Locations are ``"item N"`` (array), ``"line N"`` (JSON lines / pretty-printed objects) and
``", action K"`` is added for actions inside a response or a replay wrapper.

Mapping
-------

=================================================  ========================================
action / renderer                                  item
=================================================  ========================================
``addChatItemAction`` + liveChatTextMessage…       ``comment``
… + liveChatPaidMessageRenderer (Super Chat)       ``gift``, quantity 1, amount + currency
                                                   from ``purchaseAmountText``
… + liveChatPaidStickerRenderer (Super Sticker)    ``gift``, same
… + liveChatMembershipItemRenderer                 ``gift``, quantity 1, no amount: a new
                                                   membership or a milestone (a renewal the
                                                   member announces) is paid, so it is a
                                                   gift and not a free ``follow``; text = the
                                                   member's message, else the header
                                                   ("New member")
… + liveChatSponsorshipsGiftPurchaseAnnouncement…  ``gift``, quantity = memberships gifted
… + viewer engagement, mode change, placeholder,   Skipped (system messages); a charity
donation announcement, gift redemption …           donation goes to a nonprofit, a gift
                                                   redemption is counted at the purchase
``addLiveChatTickerItemAction``                    Skipped: repeats a paid message already
                                                   in the chat
``markChatItem(s…)AsDeletedAction``,               Skipped (moderation; the deleted message
``removeChatItem…``                                was sent and stays counted)
``replaceChatItemAction``                          the replacement when it is a message (it
                                                   keeps the id it replaces, so a message
                                                   held for review and then shown counts
                                                   once); Skipped when a placeholder
banners, polls, action panels, tooltips            Skipped
anything else                                      Problem (unknown action: worth a look)
=================================================  ========================================

Fields: renderer ``id`` → event_id, ``timestampUsec`` → ts (exact, ISO-8601 UTC),
``authorExternalChannelId`` → viewer_id, ``authorName`` → viewer_name, text from the
``runs`` (text runs; a custom emoji as its first shortcut such as ``:yougotthis:``, a
standard emoji as the character itself), platform ``youtube``. Money follows
:mod:`.money` (bare ``¥`` → JPY: YouTube writes the yuan as ``CN¥``; ``options["yen"] =
"CNY"`` overrides).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, BinaryIO, Final

import orjson

from liveops.events.importers.base import ImportFormatError, Item, Problem, Record, Skipped
from liveops.events.importers.chat_downloader import (
    JsonValue,
    decode_raw,
    iso_from_us,
    iter_json_values,
)
from liveops.events.importers.money import MoneyError, parse_money

__all__ = ["YouTubeActionsImporter", "runs_text"]

_PAID: Final = frozenset({"liveChatPaidMessageRenderer", "liveChatPaidStickerRenderer"})
_MEMBERSHIP: Final = "liveChatMembershipItemRenderer"
_GIFT_PURCHASE: Final = "liveChatSponsorshipsGiftPurchaseAnnouncementRenderer"
_TEXT: Final = "liveChatTextMessageRenderer"
_AUDIENCE: Final = frozenset({_TEXT, _MEMBERSHIP, _GIFT_PURCHASE, *_PAID})

#: chat items that are not audience events, with the reason counted for them
_SKIPPED_ITEMS: Final[dict[str, str]] = {
    "liveChatViewerEngagementMessageRenderer": "system message (engagement notice)",
    "liveChatModeChangeMessageRenderer": "system message (chat mode change)",
    "liveChatPlaceholderItemRenderer": "placeholder (message held or not loaded)",
    "liveChatDonationAnnouncementRenderer": "charity donation (goes to a nonprofit)",
    "liveChatPurchasedProductMessageRenderer": "merchandise purchase notice (no amount)",
    "liveChatSponsorshipsGiftRedemptionAnnouncementRenderer": (
        "gift membership received (counted at the purchase)"
    ),
    "liveChatAutoModMessageRenderer": "moderation",
    "liveChatModerationMessageRenderer": "moderation",
    "liveChatRestrictedParticipationRenderer": "system message (restricted participation)",
    "liveChatBannerRenderer": "pinned banner",
}
TICKER_REASON: Final = "ticker repeating a paid message or membership"
MODERATION_REASON: Final = "moderation (message deleted / author banned)"
#: actions that are not audience events, with their reason
_SKIPPED_ACTIONS: Final[dict[str, str]] = {
    "addLiveChatTickerItemAction": TICKER_REASON,
    "markChatItemAsDeletedAction": MODERATION_REASON,
    "markChatItemsByAuthorAsDeletedAction": MODERATION_REASON,
    "removeChatItemAction": MODERATION_REASON,
    "removeChatItemByAuthorAction": MODERATION_REASON,
    "moderateChatItemAction": MODERATION_REASON,
    "addBannerToLiveChatCommand": "pinned banner",
    "removeBannerForLiveChatCommand": "pinned banner",
    "updateLiveChatBannerCommand": "pinned banner",
    "showLiveChatActionPanelAction": "poll or action panel",
    "updateLiveChatPollAction": "poll or action panel",
    "closeLiveChatActionPanelAction": "poll or action panel",
    "showLiveChatTooltipCommand": "interface message (tooltip, dialog, survey)",
    "showLiveChatDialogAction": "interface message (tooltip, dialog, survey)",
    "showLiveChatSurveyCommand": "interface message (tooltip, dialog, survey)",
    "liveChatReportModerationStateCommand": "interface message (tooltip, dialog, survey)",
    "addLiveChatTextMessageFromTemplateAction": "interface message (tooltip, dialog, survey)",
}
REPLACED_REASON: Final = "chat item replaced by a placeholder"
_WRAPPERS: Final = ("liveChatRenderer", "liveChatContinuation")
_NUMBER: Final = re.compile(r"\d[\d,.]*")


def runs_text(value: Any) -> str:
    """The text of a ``{"simpleText": …}`` or ``{"runs": […]}`` object ("" when absent)."""
    if not isinstance(value, dict):
        return ""
    simple = value.get("simpleText")
    if isinstance(simple, str):
        return simple
    parts: list[str] = []
    for run in value.get("runs") or ():
        if not isinstance(run, dict):
            continue
        text = run.get("text")
        if isinstance(text, str):
            parts.append(text)
            continue
        emoji = run.get("emoji")
        if isinstance(emoji, dict):
            shortcuts = emoji.get("shortcuts") or []
            emoji_id = emoji.get("emojiId")
            custom = emoji.get("isCustomEmoji") or (isinstance(emoji_id, str) and "/" in emoji_id)
            if not custom and isinstance(emoji_id, str) and emoji_id:
                parts.append(emoji_id)
            elif shortcuts and isinstance(shortcuts[0], str):
                parts.append(shortcuts[0])
            elif isinstance(emoji_id, str):
                parts.append(emoji_id)
    return "".join(parts)


def _action_key(action: Mapping[str, Any]) -> str | None:
    for key in action:
        if key.endswith(("Action", "Command")):
            return key
    return None


class YouTubeActionsImporter:
    """YouTube innertube live-chat actions: arrays, JSON lines, or get_live_chat responses."""

    name = "youtube-actions"
    label = "YouTube live chat actions (innertube JSON)"

    def sniff(self, head: bytes, filename: str) -> bool:
        text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
        if not text.startswith((b"[", b"{")):
            return False
        return any(
            marker in text
            for marker in (
                b'"addChatItemAction"',
                b'"replayChatItemAction"',
                b'"addLiveChatTickerItemAction"',
                b'"liveChatRenderer"',
                b'"liveChatContinuation"',
                b'"markChatItemAsDeletedAction"',
            )
        )

    def parse(self, stream: BinaryIO, *, options: dict[str, Any] | None = None) -> Iterator[Item]:
        yen = (options or {}).get("yen") or "JPY"
        if yen not in ("JPY", "CNY"):
            raise ImportFormatError(f"option yen {yen!r}: expected 'JPY' or 'CNY'.")
        for value in iter_json_values(stream):
            yield from self._value(value, str(yen))

    # -- records -------------------------------------------------------------------------

    def _value(self, value: JsonValue, yen: str) -> Iterator[Item]:
        location = value.location
        raw = decode_raw(value.raw)
        if value.error is not None:
            yield Problem(location, "bad_json", "row", f"{location}: {value.error}.", raw)
            return
        try:
            obj = value.decoded[0] if value.decoded is not None else orjson.loads(value.raw)
        except orjson.JSONDecodeError as exc:
            yield Problem(
                location,
                "bad_json",
                "row",
                f"{location} is not valid JSON ({exc}); fix or remove this record.",
                raw,
            )
            return
        if not isinstance(obj, dict):
            yield Problem(
                location,
                "bad_row",
                "row",
                f"{location} is a JSON {type(obj).__name__}, not a chat action or response; "
                "remove it.",
                raw,
            )
            return
        if _action_key(obj) is not None:
            actions = self._flatten(obj)
            if len(actions) == 1 and actions[0] is obj:
                yield self._action(obj, location, raw, yen)
                return
            if not actions:
                yield Skipped(location, "empty replay wrapper", raw)
                return
        else:
            actions = []
            wrappers = 0
            for wrapper in self._action_lists(obj):
                wrappers += 1
                for action in wrapper:
                    actions.extend(self._flatten(action))
            if not actions:
                short = decode_raw(value.raw[:65536])
                if wrappers:  # a poll that brought no new messages
                    yield Skipped(location, "chat response without actions", short)
                    return
                yield Problem(
                    location,
                    "unknown_type",
                    "row",
                    f"{location} holds no live-chat actions (no addChatItemAction, no "
                    "liveChatRenderer / liveChatContinuation actions); remove it, or import "
                    "the file with its own format if it is not a YouTube live-chat capture.",
                    short,
                )
                return
        for number, action in enumerate(actions, 1):
            where = f"{location}, action {number}" if len(actions) > 1 else location
            yield self._action(action, where, orjson.dumps(action).decode(), yen)

    @staticmethod
    def _flatten(action: Any) -> list[Any]:
        """Open ``replayChatItemAction`` wrappers (recursively); other actions stay as they are."""
        if isinstance(action, dict):
            replay = action.get("replayChatItemAction")
            if isinstance(replay, dict):
                inner: list[Any] = []
                for each in replay.get("actions") or ():
                    inner.extend(YouTubeActionsImporter._flatten(each))
                return inner
        return [action]

    @staticmethod
    def _action_lists(obj: Any, depth: int = 0) -> Iterator[list[Any]]:
        """The ``actions`` lists of liveChatRenderer / liveChatContinuation, anywhere in obj."""
        if depth > 12:
            return
        if isinstance(obj, dict):
            for key, child in obj.items():
                if key in _WRAPPERS and isinstance(child, dict):
                    actions = child.get("actions")  # absent when a poll brought nothing
                    yield actions if isinstance(actions, list) else []
                elif isinstance(child, dict | list):
                    yield from YouTubeActionsImporter._action_lists(child, depth + 1)
        elif isinstance(obj, list):
            for child in obj:
                yield from YouTubeActionsImporter._action_lists(child, depth + 1)

    def _action(self, action: Any, location: str, raw: str, yen: str) -> Item:
        key = _action_key(action) if isinstance(action, dict) else None
        if key is None:
            return Problem(
                location,
                "unknown_type",
                "row",
                f"{location} is not a live-chat action (no …Action / …Command key); remove it.",
                raw,
            )
        if key in _SKIPPED_ACTIONS:
            return Skipped(location, _SKIPPED_ACTIONS[key], raw)
        body = action[key]
        if key == "addChatItemAction":
            item = body.get("item") if isinstance(body, dict) else None
        elif key == "replaceChatItemAction":
            item = body.get("replacementItem") if isinstance(body, dict) else None
            if isinstance(item, dict) and not (set(item) & _AUDIENCE):
                return Skipped(location, REPLACED_REASON, raw)
        else:
            return Problem(
                location,
                "unknown_type",
                "row",
                f"{location}: unknown action {key}; it was not imported. If it is an "
                "audience event, report it with this raw record.",
                raw,
            )
        names = [k for k in item if k.endswith("Renderer")] if isinstance(item, dict) else []
        if not names or not isinstance(item, dict):
            return Problem(
                location,
                "bad_row",
                "row",
                f"{location}: {key} has no chat item (…Renderer); the capture is incomplete: "
                "remove this action or capture the chat again.",
                raw,
            )
        renderer_name = names[0]
        renderer = item[renderer_name]
        if renderer_name in _SKIPPED_ITEMS:
            return Skipped(location, _SKIPPED_ITEMS[renderer_name], raw)
        if renderer_name not in _AUDIENCE or not isinstance(renderer, dict):
            return Problem(
                location,
                "unknown_type",
                "row",
                f"{location}: unknown chat item {renderer_name}; it was not imported. If it "
                "is an audience event, report it with this raw record.",
                raw,
            )
        return self._renderer(renderer_name, renderer, location, raw, yen)

    def _renderer(
        self, name: str, renderer: dict[str, Any], location: str, raw: str, yen: str
    ) -> Item:
        fields: dict[str, Any] = {"platform": "youtube"}
        stamp = renderer.get("timestampUsec")
        try:
            fields["ts"] = iso_from_us(int(stamp))  # type: ignore[arg-type]
        except (TypeError, ValueError, OverflowError):
            return Problem(
                location,
                "bad_timestamp",
                "ts",
                f"{location}: {name} has no readable timestampUsec ({stamp!r}); remove this "
                "action or capture the chat again.",
                raw,
            )
        event_id = renderer.get("id")
        if isinstance(event_id, str) and event_id:
            fields["event_id"] = event_id
        viewer_id = renderer.get("authorExternalChannelId")
        if isinstance(viewer_id, str) and viewer_id:
            fields["viewer_id"] = viewer_id
        author = renderer.get("authorName")
        header: Any = renderer.get("header")
        if isinstance(header, dict):
            header = header.get("liveChatSponsorshipsHeaderRenderer")
        if author is None and isinstance(header, dict):
            author = header.get("authorName")
        viewer_name = runs_text(author)
        if viewer_name:
            fields["viewer_name"] = viewer_name
        message = runs_text(renderer.get("message"))
        if name == _TEXT:
            fields.update(kind="comment", text=message)
        elif name in _PAID:
            fields.update(kind="gift", quantity=1)
            if message:
                fields["text"] = message
            price = runs_text(renderer.get("purchaseAmountText"))
            try:
                money = parse_money(price, yen=yen)
            except MoneyError as exc:
                return Problem(location, "bad_amount", "amount", f"{location}: {exc}", raw)
            fields.update(amount=money.amount_text, currency=money.currency)
        elif name == _MEMBERSHIP:
            fields.update(kind="gift", quantity=1)
            header_text = " ".join(
                part
                for part in (
                    runs_text(renderer.get("headerPrimaryText")),
                    runs_text(renderer.get("headerSubtext")),
                )
                if part
            )
            text = message or header_text
            if text:
                fields["text"] = text
        else:  # gift purchase announcement: "Gifted 5 Channel memberships"
            primary = runs_text(header.get("primaryText")) if isinstance(header, dict) else ""
            found = _NUMBER.search(primary)
            count = int(re.sub(r"\D", "", found.group())) if found else 1
            fields.update(kind="gift", quantity=count)
            if primary:
                fields["text"] = primary
        return Record(location, fields, raw)
