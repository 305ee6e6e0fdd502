"""Text the SUT controls made inert for each kind of output: Markdown that renders nothing active, terminal text
that moves no cursor and colours nothing, line-delimited JSON that any line reader splits where the harness meant.

One place, so that every output uses the same rules (summary.md, the terminal table and messages, evidence.ndjson)."""

from __future__ import annotations

import json
import re
from typing import Any

# ANSI/ECMA-48 sequences: CSI (ESC [ … final), OSC (ESC ] … BEL or ST), other ESC-introduced ones, and their 8-bit
# C1 forms; then any control character left (C0 but tab and newline, DEL, C1), the Unicode line and paragraph
# separators, and the bidirectional overrides that make a terminal show text in another order than it is.
_SEQUENCE = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"  # CSI
    r"|(?:\x1b\]|\x9d)[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"  # OSC (a terminal title, a hyperlink)
    r"|\x1b[P^_X][^\x1b\x9c]*(?:\x1b\\|\x9c)?"  # DCS, PM, APC, SOS
    r"|\x1b[ -/]*[0-~]?"  # any other escape
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _visible(match: re.Match[str]) -> str:
    # \uXXXX whatever the character: inside a JSON string that is the same character, so JSON output stays valid
    return "".join(f"\\u{ord(c):04x}" for c in match.group())


def terminal(text: Any) -> str:
    """For a terminal: escape sequences stripped, any other control character shown as `\\u0007`-style text, so
    nothing acts on the terminal (colours, cursor moves, a title, a hyperlink, reordered text). Newlines and tabs
    stay."""
    return _CONTROL.sub(_visible, _SEQUENCE.sub("", str(text)))


def visible_controls(text: str) -> str:
    """For a page (report.html): every control character, line separator and bidirectional override shown as
    `\u202e`-style text, so that nothing reorders or hides what a person reads; newlines and tabs stay. HTML
    markup is the template's autoescape's."""
    if text.isprintable():  # every character _CONTROL matches is unprintable: most of a page's strings stop here
        return text
    return _CONTROL.sub(_visible, text)


def line(text: Any) -> str:
    """One line for a terminal: `terminal`, with newlines and tabs folded to spaces."""
    return " ".join(terminal(text).split())


def code_span(text: Any, *, in_table: bool = False) -> str:
    """Markdown that shows `text` and renders nothing of it: one line in a code span (no link, image, HTML, emphasis
    or autolink is recognised inside one), fenced with more backticks than any run within it. In a table cell a pipe
    would end the cell before any inline parsing, so it is escaped there (GFM shows `\\|` inside a code span as |)."""
    flat = line(text)
    if not flat:
        return ""
    longest = max((len(run) for run in re.findall(r"`+", flat)), default=0)
    fence = "`" * (longest + 1)
    padded = f" {flat} " if flat.startswith("`") or flat.endswith("`") or flat.startswith(" ") else flat
    if in_table:
        padded = padded.replace("|", "\\|")
    return f"{fence}{padded}{fence}"


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~:@&=\"'])")


def markdown_text(text: Any) -> str:
    """Markdown prose that renders as the plain text it is: every character Markdown or GFM gives a meaning to is
    backslash-escaped (links, images, raw HTML, emphasis, tables, and `:`/`.`/`@` so that no autolink forms)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", line(text))


_SEPARATORS = {"\u0085": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def json_line(value: Any, *, separators: tuple[str, str] | None = None) -> str:
    """One JSON document on one line, whatever it holds: U+0085, U+2028 and U+2029, which `ensure_ascii=False`
    would leave raw and which some line readers split on, are written as escapes."""
    text = json.dumps(value, ensure_ascii=False, separators=separators)
    for raw, escaped in _SEPARATORS.items():
        text = text.replace(raw, escaped)
    return text
