"""Message text: the rich-text subset, and recognising a bare acknowledgement."""
from __future__ import annotations

import re
import unicodedata

import nh3

# The safe rich-text subset: emphasis, lists, quotes, code, links. Nothing else
# survives nh3 (no script, style, event handlers, images or iframes).
RICH_TAGS = {"p", "br", "b", "strong", "i", "em", "u", "s", "code", "pre", "blockquote",
             "ul", "ol", "li", "a"}
RICH_ATTRIBUTES = {"a": {"href", "title"}}


def sanitize_html(html: str) -> str:
    return nh3.clean(html, tags=RICH_TAGS, attributes=RICH_ATTRIBUTES,
                     url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer")


# Replies that only say "got it". Compared after dropping punctuation, spaces,
# emoji modifiers and case, so "收到！", "好的～", "OK." and "👍🏻" all count.
ACKNOWLEDGEMENTS = {
    "收到", "已收到", "收到了", "收到收到", "好的收到", "收到谢谢", "已阅", "阅", "已读", "好的", "好",
    "好滴", "明白", "明白了", "知道了", "了解", "已知悉", "知悉", "ok", "okay", "嗯", "嗯嗯",
    "👍", "👌", "🙏", "✅", "👍👍", "🫡",
}
# Zero-width characters are dropped too: "收\u200b到" shows as "收到" and is one.
_DROP = re.compile(r"[\s~～\u200b\u200c\u200d\u2060\ufeff\ufe0f\U0001F3FB-\U0001F3FF]+")
_ACK_EMOJI = "👍👌🙏✅🫡"


def is_acknowledgement(body: str) -> bool:
    """True when the whole reply is an acknowledgement and nothing else."""
    if len(body) > 20:
        return False
    text = _DROP.sub("", body).lower()
    text = "".join(c for c in text if not unicodedata.category(c).startswith("P"))
    if text in ACKNOWLEDGEMENTS:
        return True
    words = text.strip(_ACK_EMOJI)          # "好的👍", "OK👌"
    return bool(text) and (not words or words in ACKNOWLEDGEMENTS) and words != text
