"""How the redactor finds what it removes, at C speed: the known secrets (as they are, and inside a run of base64, hex
or URL-encoding a SUT may echo them in), by Aho-Corasick automata; and the sensitive fields of JSON text too large to
parse (harness.http.redaction.Redactor uses all of it)."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from functools import lru_cache
from urllib.parse import unquote_plus

import ahocorasick_rs

# Where a SUT may echo a secret encoded: a run of base64 (standard or URL-safe), of hex, or of URL-encoding. Each run
# is decoded and searched for the known secrets (cheaper than learning every encoding of every secret: the runs in a
# text are few, the secrets of a run hundreds).
ENCODED = re.compile(r"[A-Za-z0-9+/_%.~-]{8,}={0,2}")
MIN_ENCODED = 8  # the shortest run ENCODED matches
HEX = re.compile(r"(?:[0-9a-f]{2}){6,}|(?:[0-9A-F]{2}){6,}")


@lru_cache(maxsize=16384)  # the same tokens, ids and digests recur across exchanges and in the final pass
def decodings(run: str) -> tuple[tuple[str, str], ...]:
    """What a run may stand for, by encoding: URL-encoding when it has an escape, else hex and base64 (standard and
    URL-safe) where it has their alphabet; a run with `.` or `~` and no escape is none of them."""
    if "%" in run:
        return (("URL", unquote_plus(run)),)
    if "." in run or "~" in run:
        return ()
    found = []
    if HEX.fullmatch(run):
        found.append(("hex", bytes.fromhex(run).decode("utf-8", "replace")))
    body = run.rstrip("=")
    if len(body) % 4 != 1:
        for alphabet in (b"+/", b"-_"):
            try:  # the other alphabet's two characters are dropped, which may leave a length no base64 has
                raw = base64.b64decode(body + "=" * (-len(body) % 4), altchars=alphabet)
            except ValueError:
                continue
            found.append(("base64", raw.decode("utf-8", "replace")))
    return tuple(found)


# Characters a case-insensitive expression matches to an ASCII letter though str.lower() makes them none (İ ı ſ K):
# where one appears, a body's sensitive fields are looked for by the expression alone (Redactor.learn_from_json_text).
FOLDED_TO_ASCII = ("\u0130", "\u0131", "\u017f", "\u212a")


@lru_cache(maxsize=64)
def _quoted_names(names: tuple[str, ...]) -> ahocorasick_rs.AhoCorasick:
    return ahocorasick_rs.AhoCorasick([f'"{name}"' for name in names], matchkind=ahocorasick_rs.MatchKind.Standard)


def quoted_names_in(names: tuple[str, ...], lowered: str) -> tuple[str, ...]:
    """Those of the lower-case `names` found quoted in `lowered`, all of them in one pass: a case-insensitive
    expression of them all, tried at every quote of a page of a year's export, cost twice as much."""
    found = {index for index, _, _ in _quoted_names(names).find_matches_as_indexes(lowered, overlapping=True)}
    return tuple(name for index, name in enumerate(names) if index in found)


@lru_cache(maxsize=64)
def json_fields(names: tuple[str, ...]) -> re.Pattern[str]:
    """`"name": "value"` for any of the field `names` (longest first), in any case."""
    alternatives = "|".join(map(re.escape, names))
    return re.compile(rf'"(?P<name>{alternatives})"\s*:\s*"(?P<value>(?:[^"\\]|\\.)*)"', re.IGNORECASE)


def json_string(body: str) -> str:
    """The text of a JSON string's body (`M\\u1eadt` → `Mật`); the body as it stands where it is no valid JSON."""
    if "\\" not in body:
        return body
    try:
        return str(json.loads(f'"{body}"'))
    except ValueError:
        return body


class Secrets:
    """The known secrets, searched all at once, leftmost-longest (a secret containing another is removed whole), by an
    Aho-Corasick automaton: the run's hundreds of secrets are looked for in every string of every exchange, where
    one regular-expression alternation of them tried each at every position and cost most of a run's redaction."""

    def __init__(self, secrets: list[str]) -> None:
        self._secrets = secrets
        self._automaton = ahocorasick_rs.AhoCorasick(secrets, matchkind=ahocorasick_rs.MatchKind.LeftmostLongest)
        self.joined = "\0".join(secrets)  # to find a new value inside a known one at C speed

    def search(self, text: str) -> str | None:
        found = self._automaton.find_matches_as_indexes(text)
        return self._secrets[found[0][0]] if found else None

    def spans(self, text: str) -> list[tuple[int, int, str]]:
        """(start, stop, secret) of every secret in `text`, leftmost-longest."""
        found = self._automaton.find_matches_as_indexes(text)
        return [(start, stop, self._secrets[index]) for index, start, stop in found]

    def sub(self, text: str, replacement: str, noted: Callable[[str], None]) -> str:
        """`text` with every secret replaced by `replacement`; `noted` is told each secret replaced."""
        found = self._automaton.find_matches_as_indexes(text)
        if not found:
            return text
        parts, end = [], 0
        for index, start, stop in found:
            parts += (text[end:start], replacement)
            noted(self._secrets[index])
            end = stop
        parts.append(text[end:])
        return "".join(parts)


class LateSecrets:
    """Every known secret in the order learnt, searched with overlapping matches, so that a secret learnt after the
    first `count` is found even inside or across an earlier one: one automaton answers for every exchange recorded
    at any point of the run (EvidenceRecorder.final), where one per point cost most of writing the report."""

    def __init__(self, secrets: list[str]) -> None:
        self._automaton = ahocorasick_rs.AhoCorasick(secrets, matchkind=ahocorasick_rs.MatchKind.Standard)

    def _found_after(self, text: str, count: int) -> bool:
        return any(index >= count for index, _, _ in self._automaton.find_matches_as_indexes(text, overlapping=True))

    def holds_one_after(self, text: str, count: int) -> bool:
        """Whether `text` holds a secret numbered `count` or later, as it is or in a run of base64, hex or URL
        encoding."""
        if self._found_after(text, count):
            return True
        runs = (run.group() for run in ENCODED.finditer(text))
        return any(self._found_after(decoded, count) for run in runs for _, decoded in decodings(run))
