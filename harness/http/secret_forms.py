"""The forms a secret takes in an output besides its plain text, for the redactor to find them too.

Escaped: each character that XML, HTML, JSON or a Python repr escapes, in any of the ways they escape it (a named,
decimal or hex entity; `\\u0026`; a backslash before a quote), and each character outside ASCII, which JSON written
with `ensure_ascii` holds as `\\u1ead` (a pair of surrogates beyond the BMP) and HTML may hold as an entity (a
Vietnamese password is such a secret). junit.xml (pytest's, through ElementTree) writes `&`, `<`, `>`, `"` and
newlines as entities, report.html (autoescaped) `'` and `"` as numeric ones, and a SUT's HTML error page may use any
spelling: a secret with `&` in it would pass any search for its plain text.

Cut short: the SUT's text is quoted up to a bound (harness.core.limits.quoted), cut before it is redacted; a secret
the cut went through leaves its start before the cut's note, which no search for the whole secret finds. The cut may
also go through one of its escaped characters (`\\u1e`)."""

from __future__ import annotations

import re
from functools import lru_cache
from html.entities import codepoint2name

from harness.core.limits import CUT_NOTE

# character → its names as an entity (matched without regard to case, as HTML does) and its escape in a string literal
_NAMES: dict[str, tuple[tuple[str, ...], str | None]] = {
    "&": (("amp",), None),
    "<": (("lt",), None),
    ">": (("gt",), None),
    '"': (("quot",), '\\"'),
    "'": (("apos",), "\\'"),
    "\\": ((), "\\\\"),
    "\n": ((), "\\n"),
    "\r": ((), "\\r"),
    "\t": ((), "\\t"),
}
ESCAPED = frozenset(_NAMES)  # a secret without any of these, and all ASCII, is found by its plain text alone
HINTS = ("&", "\\")  # every escaped form holds one of these: a text without them needs no search for escaped forms


def _escapable(char: str) -> bool:
    return char in ESCAPED or not char.isascii()


def _character(char: str) -> str:
    """Every way `char` may be written, as a regular expression."""
    code = ord(char)
    # Beyond ASCII, HTML's name for it (`&aacute;`, as Java's escapeHtml4 and PHP's htmlentities write it).
    names, literal = _NAMES.get(char, ((codepoint2name[code],) if code in codepoint2name else (), None))
    entities = [*names, f"#0*{code}", f"#x0*{code:x}"]
    if code > 0xFFFF:  # JSON writes it as a pair of surrogates, a Python repr as \U0001xxxx
        high, low = 0xD800 + ((code - 0x10000) >> 10), 0xDC00 + ((code - 0x10000) & 0x3FF)
        escapes = [f"\\\\u{high:04x}\\\\u{low:04x}", f"\\\\U{code:08x}"]
    else:  # JSON's \u00e1; a Python escape writes \xe1 below 256
        escapes = [f"\\\\u{code:04x}", *([f"\\\\x{code:02x}"] if code < 0x100 else [])]
    forms = [re.escape(char), "(?i:&(?:" + "|".join(entities) + ");)", *(f"(?i:{e})" for e in escapes)]
    if literal is not None:
        forms.append(re.escape(literal))
    return "(?:" + "|".join(forms) + ")"


@lru_cache(maxsize=4096)  # the starts of the few secrets with such characters, tried at each cut
def escaped_form(secret: str) -> re.Pattern[str] | None:
    """`secret` in any of its escaped forms (mixed as a writer mixes them), or None when it has nothing to escape."""
    if not any(_escapable(c) for c in secret):
        return None
    return re.compile("".join(_character(c) if _escapable(c) else re.escape(c) for c in secret))


CUT_HINT = "characters cut]"  # in every note CUT_NOTE matches: a text without it was not cut
MIN_CUT_START = 4  # the start of a secret this long or longer, left before a cut, is removed; shorter tells little
_WIDEST = 12  # characters an escaped character may take (`&#x00027;`), to bound the search for an escaped start


# The start of one escaped character that a cut went through (`\\u1e`, `&#x1e`, `\\`), after a secret's last whole one.
_HALF_ESCAPE = re.compile(r"(?:\\(?:u[0-9a-fA-F]{0,3}|x[0-9a-fA-F]?|U[0-9a-fA-F]{0,7})?|&#?[xX]?[0-9a-zA-Z]*)\Z")


def cut_starts(text: str, secrets: list[str]) -> list[tuple[int, int, str]]:
    """Where in `text`, just before a note of limits.quoted's cut, a secret's start stands, plain or escaped (the
    cut went through it, perhaps through one of its escaped characters; a repr of the text cut may have escaped it
    since): (start, end, secret), the longest start before each note."""
    found = []
    for note in CUT_NOTE.finditer(text):
        end = note.start()
        half = _HALF_ESCAPE.search(text, max(0, end - _WIDEST), end)
        ends = (end, half.start()) if half is not None and half.start() < end else (end,)
        starts = [(begin, secret) for secret in secrets for stop in ends
                  if (begin := _start_before(text, stop, secret)) is not None]
        if starts:
            begin, secret = min(starts)
            found.append((begin, end, secret))
    return found


def _start_before(text: str, end: int, secret: str) -> int | None:
    """Where the longest start of `secret` (MIN_CUT_START characters or more, not all of it) that ends at `end`
    begins, or None."""
    for size in range(len(secret) - 1, MIN_CUT_START - 1, -1):
        start = secret[:size]
        if text.endswith(start, 0, end):
            return end - size
        escaped = escaped_form(start)
        if escaped is not None:
            tail = re.compile(f"(?:{escaped.pattern})\\Z").search(text, max(0, end - _WIDEST * size), end)
            if tail is not None:
                return tail.start()
    return None
