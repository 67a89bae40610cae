"""Rasa's bot messages as WeChat text.

WeChat shows plain text only: buttons become numbered options (the user answers with the number),
a comparison table (custom payload with columns/rows) becomes one block per row, and a custom
payload {"type": "handoff"} asks for a human agent. Other custom payloads carry nothing to show.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from bot import replies

# WeChat drops a text message over 2048 UTF-8 bytes (passive reply and customer-service API alike);
# keep a margin.
MAX_TEXT_BYTES = 2000
_OPTION_ANSWER = re.compile(r"^(\d{1,2})\s*[.。、)）]?$")


@dataclass
class Rendered:
    text: str = ""
    options: list[dict[str, str]] = field(default_factory=list)  # [{"title", "payload"}] in numbered order
    handoff: bool = False


def render(messages: list[dict[str, Any]]) -> Rendered:
    """Join the bot messages with a blank line; number the buttons across the whole reply."""
    out = Rendered()
    parts: list[str] = []
    for message in messages:
        custom = message.get("custom")
        if isinstance(custom, dict) and custom.get("type") == "handoff":
            out.handoff = True
        block: list[str] = []
        text = (message.get("text") or "").strip()
        if text:
            block.append(text)
        buttons = [b for b in message.get("buttons") or [] if b.get("title") and b.get("payload")]
        if buttons:
            block.append(options_block(buttons, start=len(out.options) + 1))
            out.options.extend({"title": b["title"], "payload": b["payload"]} for b in buttons)
        # A comparison arrives as a text table plus the same table as a payload: the text wins.
        table = render_table(custom) if not parts else ""
        if table:
            block.append(table)
        if block:
            parts.append("\n".join(block))
    out.text = "\n\n".join(parts)
    return out


def options_block(buttons: list[dict[str, str]], start: int = 1) -> str:
    lines = [replies.WECHAT_OPTIONS_PROMPT]
    lines += [f"{number}. {button['title']}" for number, button in enumerate(buttons, start=start)]
    return "\n".join(lines)


def pick_option(text: str, options: list[dict[str, str]]) -> str | None:
    """The payload of the option the user chose by typing its number, or None."""
    match = _OPTION_ANSWER.match(text.strip())
    if not match or not options:
        return None
    number = int(match.group(1))
    if 1 <= number <= len(options):
        return options[number - 1].get("payload") or None
    return None


def _cell(value: Any) -> str:
    return "" if value is None else str(value).strip()


def render_table(custom: Any) -> str:
    """A custom payload with `columns` and `rows` as text; "" for anything else.

    The first column labels the row; every other column becomes "· column：value", which reads
    well on a phone where a real table cannot be drawn.
    """
    if not isinstance(custom, dict):
        return ""
    columns, rows = custom.get("columns"), custom.get("rows")
    if not isinstance(columns, list) or not isinstance(rows, list) or not rows:
        return ""
    columns = [_cell(c) for c in columns]
    blocks: list[str] = []
    title = _cell(custom.get("title"))
    if title:
        blocks.append(f"【{title}】")
    for row in rows:
        if isinstance(row, dict):
            cells = [_cell(row.get(c)) for c in columns]
        elif isinstance(row, list):
            cells = [_cell(c) for c in row]
        else:
            continue
        if len(columns) < 2:
            blocks.append(" | ".join(c for c in cells if c))
            continue
        lines = [cells[0] if cells else ""]
        for name, value in zip(columns[1:], cells[1:]):
            if value:
                lines.append(f"· {name}：{value}")
        blocks.append("\n".join(line for line in lines if line))
    return "\n\n".join(b for b in blocks if b)


def split_text(text: str, limit_bytes: int = MAX_TEXT_BYTES) -> list[str]:
    """Cut a long reply into messages of at most `limit_bytes`, at paragraph, then line, then
    character boundaries."""
    if len(text.encode("utf-8")) <= limit_bytes:
        return [text] if text else []
    chunks: list[str] = []
    current = ""
    for unit in _units(text, limit_bytes):
        candidate = f"{current}\n{unit}" if current else unit
        if len(candidate.encode("utf-8")) <= limit_bytes:
            current = candidate
        else:
            chunks.append(current)
            current = unit
    if current:
        chunks.append(current)
    return [c.strip("\n") for c in chunks if c.strip()]


def _units(text: str, limit_bytes: int):
    """Lines (blank lines kept as paragraph breaks), a line longer than the limit cut by characters."""
    for line in text.split("\n"):
        if len(line.encode("utf-8")) <= limit_bytes:
            yield line
            continue
        piece = ""
        for ch in line:
            if len((piece + ch).encode("utf-8")) > limit_bytes:
                yield piece
                piece = ""
            piece += ch
        if piece:
            yield piece
