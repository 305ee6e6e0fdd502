"""The forms a secret takes in an output besides its plain text, for the redactor to find them too.

Escaped: a writer may escape any character (JSON's `\\u002B`, a Python literal's `\\xe1`, PHP's `\\/`, an HTML or
XML entity `&#x27;` `&aacute;`): junit.xml writes `&`, `<`, `>`, `"` and newlines as entities, report.html `'` and
`"` as numeric ones, JSON written with `ensure_ascii` every character beyond ASCII (a Vietnamese password), .NET's
writer `+`, and a SUT's error page may use any spelling. `Unescaped` reads a text with every escape decoded and says
where each part of it stands, so that the known secrets are found in it by their plain text and removed whole.

Cut short: the SUT's text is quoted up to a bound (harness.core.limits.quoted), cut before it is redacted; a secret
the cut went through leaves its start before the cut's note, which no search for the whole secret finds, plain or
escaped (`escaped_form`), the cut perhaps going through one of its escaped characters (`\\u1e`)."""

from __future__ import annotations

import bisect
import html
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
ESCAPED = frozenset(_NAMES)  # the characters a start of a secret is looked for escaped, with any beyond ASCII
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


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def without_lone_surrogates(text: str) -> str:
    """A lone surrogate (JSON's `\\ud800` decodes to one) as the text of its escape: no UTF-8 output can hold it,
    and no search of the secrets could take it."""
    return _LONE_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


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


# One escaped character as JSON, a Python literal, HTML or XML may write it: a surrogate pair first, so that it is
# read as the one character it stands for.
_AN_ESCAPE = re.compile(
    r"\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}|\\u[0-9a-fA-F]{4}|\\x[0-9a-fA-F]{2}"
    r"|\\U[0-9a-fA-F]{8}|\\[\\/\"'bfnrt]|&#[0-9]{1,7};|&#[xX][0-9a-fA-F]{1,6};|&[A-Za-z][A-Za-z0-9]{1,31};"
)
_SIMPLE_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


class Unescaped:
    """A text with every escaped character read as the character it stands for (`\\u002B`, `\\/`, `&aacute;`…), and
    where each span of it stands in the text: a secret written with any character escaped, in any way a writer
    escapes it (.NET's JSON writes `+` as `\\u002B`, PHP's `/` as `\\/`), is found in it by its plain text."""

    def __init__(self, text: str) -> None:
        parts: list[str] = []
        self._starts: list[int] = []  # where each piece (a run of plain text, or one escape) starts, read
        self._origins: list[tuple[int, int, bool]] = []  # … and in the text: (start, end, escaped)
        read = last = 0
        for match in _AN_ESCAPE.finditer(text):
            for piece, origin in ((text[last:match.start()], (last, match.start(), False)),
                                  (_character_of(match.group()), (match.start(), match.end(), True))):
                if piece:
                    parts.append(piece)
                    self._starts.append(read)
                    self._origins.append(origin)
                    read += len(piece)
            last = match.end()
        parts.append(text[last:])
        self._starts.append(read)
        self._origins.append((last, len(text), False))
        self.text = "".join(parts)

    def span(self, start: int, stop: int) -> tuple[int, int]:
        """Where the read text's [start, stop) stands in the text, whole escapes included."""
        return self._at(start, end=False), self._at(stop - 1, end=True)

    def _at(self, index: int, *, end: bool) -> int:
        piece = bisect.bisect_right(self._starts, index) - 1
        begin, finish, escaped = self._origins[piece]
        if escaped:
            return finish if end else begin
        return begin + index - self._starts[piece] + (1 if end else 0)


def _character_of(escape: str) -> str:
    if escape.startswith("&"):
        return html.unescape(escape)  # an unknown name stands for itself
    kind, digits = escape[1], escape[2:]
    if kind in "uxU":
        if kind == "u" and len(escape) == 12:  # a surrogate pair
            high, low = int(escape[2:6], 16), int(escape[8:12], 16)
            return chr(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
        code = int(digits, 16)
        # A lone surrogate stands for no character (and no search could take it): left as it was written.
        return chr(code) if code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else escape
    return _SIMPLE_ESCAPES.get(kind, kind)


def unescaped(text: str) -> Unescaped | None:
    """The text read with its escapes, or None when it has none to read (most texts: no `&` or `\\` at all)."""
    if not any(hint in text for hint in HINTS) or _AN_ESCAPE.search(text) is None:
        return None
    return Unescaped(text)
