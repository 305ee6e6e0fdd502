"""The forms a secret takes in an output besides its plain text, for the redactor to find them too.

Escaped: each character that XML, HTML, JSON or a Python repr escapes, in any of the ways they escape it (a named,
decimal or hex entity; `\\u0026`; a backslash before a quote). junit.xml (pytest's, through ElementTree) writes `&`,
`<`, `>`, `"` and newlines as entities, report.html (autoescaped) `'` and `"` as numeric ones, and a SUT's HTML error
page may use any spelling: a secret with `&` in it would pass any search for its plain text.

Cut short: the SUT's text is quoted up to a bound (harness.core.limits.quoted), cut before it is redacted; a secret
the cut went through leaves its start before the cut's note, which no search for the whole secret finds."""

from __future__ import annotations

import re

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
ESCAPED = frozenset(_NAMES)  # a secret without any of these is found by its plain text alone
HINTS = ("&", "\\")  # every escaped form holds one of these: a text without them needs no search for escaped forms


def _character(char: str) -> str:
    """Every way `char` may be written, as a regular expression."""
    names, literal = _NAMES[char]
    code = ord(char)
    entities = [*names, f"#0*{code}", f"#x0*{code:x}"]
    forms = [re.escape(char), "(?i:&(?:" + "|".join(entities) + ");)", f"(?i:\\\\u{code:04x})"]
    if literal is not None:
        forms.append(re.escape(literal))
    return "(?:" + "|".join(forms) + ")"


def escaped_form(secret: str) -> re.Pattern[str] | None:
    """`secret` in any of its escaped forms (mixed as a writer mixes them), or None when it has nothing to escape."""
    if not ESCAPED.intersection(secret):
        return None
    return re.compile("".join(_character(c) if c in ESCAPED else re.escape(c) for c in secret))


CUT_HINT = "characters cut]"  # in every note CUT_NOTE matches: a text without it was not cut
MIN_CUT_START = 4  # the start of a secret this long or longer, left before a cut, is removed; shorter tells little


def cut_starts(text: str, secrets: list[str]) -> list[tuple[int, int, str]]:
    """Where in `text`, just before a note of limits.quoted's cut, a secret's start stands (the secret cut short):
    (start, end, secret), the longest start before each note."""
    found = []
    for note in CUT_NOTE.finditer(text):
        end, longest, which = note.start(), 0, ""
        for secret in secrets:
            for size in range(min(len(secret) - 1, end), max(longest, MIN_CUT_START - 1), -1):
                if text.endswith(secret[:size], 0, end):
                    longest, which = size, secret
                    break
        if longest:
            found.append((end - longest, end, which))
    return found
