"""A secret as markup or a string literal shows it: each character that XML, HTML, JSON or a Python repr escapes, in
any of the ways they escape it (a named, decimal or hex entity; `\\u0026`; a backslash before a quote).

junit.xml (pytest's, through ElementTree) writes `&`, `<`, `>`, `"` and newlines as entities, report.html
(autoescaped) `'` and `"` as numeric ones, and a SUT's HTML error page may use any spelling: the redactor looks for
each secret in every such form, or a secret with `&` in it would pass any search for its plain text."""

from __future__ import annotations

import re

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
