"""Removes secrets and citizens' personal data from anything the harness writes, and logs what it removed where."""

from __future__ import annotations

import base64
import re
import re._parser as sre_parse
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import lru_cache
from typing import Any
from urllib.parse import unquote_plus

import ahocorasick_rs

from harness.http.secret_forms import CUT_HINT, HINTS, cut_starts, escaped_form

REDACTED = "[REDACTED]"

# Field names are compared case-insensitively. Portal field names stay as the portal spells them.
SENSITIVE_FIELDS = frozenset(
    name.lower()
    for name in (
        "password",
        "secret",
        "client_secret",
        "api_key",
        "token",
        "access_token",
        "id_token",
        "refresh_token",
        "session",
        "MaXacThuc",
        "checksum_key",
        "SoDinhDanh",
        "SoGiayToChuHoSo",
        "SoCMND",
        "Email",
        "SoDienThoai",
        "id_number",
        "applicant_id_number",
        "phone",
        "email",
        "cccd",
        "cmnd",
    )
)
SENSITIVE_HEADERS = frozenset({"authorization", "cookie", "set-cookie", "x-api-key", "proxy-authorization"})
# Personal data that travels in free text (a message, an HTML page, a URL), found by its shape.
PATTERNS: dict[str, str] = {
    "email": r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}",
    # Vietnamese mobile and fixed numbers: 0 or +84, then 9 or 10 digits; never part of a longer number.
    "phone": r"(?<![\w.])(?:\+84|0)[235789]\d{8}(?![\w])",
}
# Credentials that ride in a URL's query or fragment (a sign-on callback's code, an implicit flow's tokens).
URL_CREDENTIALS = re.compile(
    r"(?P<key>[?&#](?P<name>code|access_token|id_token|refresh_token|client_secret|token)=)(?P<value>[^&#\s\"'<>]+)"
)
_COOKIE_ATTRIBUTES = frozenset({"expires", "max-age", "domain", "path", "samesite", "priority"})
# A value seen in a sensitive field is also removed wherever it appears later in free text (a failure message may quote
# it); values shorter than this would hide harmless text.
LEARN_MIN_CHARS = 6
PENDING_MAX = 8  # secrets replaced one by one before the automaton is built again


# Where a SUT may echo a secret encoded: a run of base64 (standard or URL-safe), of hex, or of URL-encoding. Each run
# is decoded and searched for the known secrets (cheaper than learning every encoding of every secret: the runs in a
# text are few, the secrets of a run hundreds).
_ENCODED = re.compile(r"[A-Za-z0-9+/_%.~-]{8,}={0,2}")
MIN_ENCODED = 8  # the shortest run _ENCODED matches
MIN_URL_CREDENTIAL = len("?code=x")  # the shortest URL_CREDENTIALS matches
_HEX = re.compile(r"(?:[0-9a-f]{2}){6,}|(?:[0-9A-F]{2}){6,}")


@lru_cache(maxsize=16384)  # the same tokens, ids and digests recur across exchanges and in the final pass
def _decodings(run: str) -> tuple[tuple[str, str], ...]:
    """What a run may stand for, by encoding: URL-encoding when it has an escape, else hex and base64 (standard and
    URL-safe) where it has their alphabet; a run with `.` or `~` and no escape is none of them."""
    if "%" in run:
        return (("URL", unquote_plus(run)),)
    if "." in run or "~" in run:
        return ()
    found = []
    if _HEX.fullmatch(run):
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


def _compiled(patterns: Mapping[str, str] | None, defaults: bool = True) -> dict[str, re.Pattern[str]]:
    chosen = {**PATTERNS, **(patterns or {})} if defaults else dict(patterns or {})
    return {name: re.compile(p) for name, p in chosen.items()}


def _min_width(pattern: re.Pattern[str]) -> int:
    """The fewest characters `pattern` can match (0 when the parser cannot tell)."""
    try:
        return int(sre_parse.parse(pattern.pattern, pattern.flags).getwidth()[0])
    except Exception:  # an internal parser: if it ever changes, every string is searched as before
        return 0


def _strings(value: Any) -> Iterator[str]:
    """Every string `Redactor.data` would pass through `text`: the values, not the keys."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


class _Secrets:
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

    def sub(self, text: str, noted: Callable[[str], None]) -> str:
        """`text` with every secret replaced by REDACTED; `noted` is told each secret replaced."""
        found = self._automaton.find_matches_as_indexes(text)
        if not found:
            return text
        parts, end = [], 0
        for index, start, stop in found:
            parts += (text[end:start], REDACTED)
            noted(self._secrets[index])
            end = stop
        parts.append(text[end:])
        return "".join(parts)


class Redactor:
    """Replaces sensitive fields, sensitive headers, known secret values and personal-data patterns wherever they
    appear. `log` counts what was removed (a field name, a header, a secret's label, a pattern) and where, never the
    value."""

    def __init__(
        self,
        secrets: Iterable[str] = (),
        *,
        fields: Iterable[str] = (),
        headers: Iterable[str] = (),
        patterns: Mapping[str, str] | None = None,
        learn: bool = True,
    ) -> None:
        self._labels: dict[str, str] = {}
        self._escaped: dict[str, re.Pattern[str]] = {}  # a secret with a character markup or a literal escapes
        self._automaton: _Secrets | None = None
        self._pending: list[str] = []  # secrets added since the automaton was built
        self._shortest_key: tuple[int, int] = (-1, 0)
        self._shortest_len = 1
        self._late: dict[tuple[int, int], tuple[_Secrets, int] | None] = {}
        self.header_names = SENSITIVE_HEADERS | {h.lower() for h in headers}
        # A header echoed in a body (a debugging endpoint, an error page) is as secret there as on the wire.
        self.fields = SENSITIVE_FIELDS | self.header_names | {f.lower() for f in fields}
        self.patterns = _compiled(patterns)
        names = "|".join(map(re.escape, sorted(self.fields, key=len, reverse=True)))
        self._json_fields = re.compile(rf'"(?P<name>{names})"\s*:\s*"(?P<value>[^"\\]*)"', re.IGNORECASE)
        self.learn = learn
        self.log: Counter[tuple[str, str]] = Counter()
        self.add(*secrets)

    @classmethod
    def from_settings(cls, secrets: Iterable[tuple[str, str]], settings: Mapping[str, Any] | None) -> Redactor:
        """A redactor for a target: (label, value) secrets and the target's `redaction` section, when it has one
        (extra `fields`, `headers`, named `patterns`; `patterns: {phone: null}` switches a default pattern off)."""
        settings = settings or {}
        patterns = dict(PATTERNS)
        for name, pattern in (settings.get("patterns") or {}).items():
            if pattern is None:
                patterns.pop(name, None)
            else:
                patterns[name] = pattern
        redactor = cls(fields=settings.get("fields", ()), headers=settings.get("headers", ()), patterns=patterns)
        redactor.patterns = _compiled(patterns, defaults=False)
        for label, value in secrets:
            redactor.add(value, label=label)
        return redactor

    def add(self, *secrets: str, label: str = "secret") -> None:
        for secret in secrets:
            if not secret or secret == REDACTED or secret in self._labels:
                continue
            self._add_one(secret, label)

    def _add_one(self, secret: str, label: str) -> None:
        self._labels[secret] = label
        if (escaped := escaped_form(secret)) is not None:
            self._escaped = dict(sorted({**self._escaped, secret: escaped}.items(), key=lambda s: -len(s[0])))
        if self._automaton is None:
            return  # every known secret goes into the next build
        # A value that overlaps a known one needs the leftmost-longest search of them all; so does a long pending list.
        overlaps = (
            secret in self._automaton.joined
            or self._automaton.search(secret) is not None
            or any(secret in p or p in secret for p in self._pending)
        )
        if overlaps or len(self._pending) >= PENDING_MAX:
            self._automaton, self._pending = None, []
        else:
            self._pending.append(secret)

    def _secrets(self) -> _Secrets | None:
        """Every known secret but the pending ones, built once per batch of values learnt (a run learns hundreds)."""
        if self._automaton is None and self._labels:
            self._automaton, self._pending = _Secrets(list(self._labels)), []
        return self._automaton

    def _learn(self, value: str, label: str) -> None:
        """Remembers a sensitive value, and each part of a cookie or credential header (`a=1; b=2`, `Bearer x`)."""
        if not self.learn:
            return
        pairs = (p.strip().partition("=") for p in value.split(";"))
        cookies = [v for name, eq, v in pairs if eq and name.lower() not in _COOKIE_ATTRIBUTES]
        words = value.split()
        credential = words[1:] if len(words) == 2 else []  # `Bearer x`, `Basic x`
        parts = [value, *cookies, *credential]
        self.add(*(p for p in parts if len(p) >= LEARN_MIN_CHARS), label=label)

    def known(self) -> dict[str, str]:
        """Every secret value known, with its label (for a distributed run's controller; never written)."""
        return dict(self._labels)

    def learn_from_json_text(self, text: str) -> None:
        """Learns the values of sensitive string fields in JSON text without parsing it: for a body too large to keep,
        whose values must still be removed wherever else they appear."""
        if not self.learn:
            return
        for match in self._json_fields.finditer(text):
            value = match.group("value")
            if len(value) >= LEARN_MIN_CHARS:
                self.add(value, label=f"value of field {match.group('name')}")

    def _note(self, where: str, what: str, count: int = 1) -> None:
        self.log[(where or "?", what)] += count

    def text(self, value: str, where: str = "") -> str:
        if len(value) < self._shortest():  # too short to hold a secret, a pattern, an encoded run or a URL credential
            return value

        def in_url(match: re.Match[str]) -> str:
            if match.group("value") == REDACTED:
                return match.group(0)
            self._note(where, f"URL parameter {match.group('name')}")
            self._learn(match.group("value"), f"URL parameter {match.group('name')}")
            return match.group("key") + REDACTED

        value = URL_CREDENTIALS.sub(in_url, value)
        known = self._secrets()
        for secret in self._pending:  # learnt since the last compile; none overlaps another secret
            count = value.count(secret)
            if count:
                value = value.replace(secret, REDACTED)
                self._note(where, self._labels[secret], count)
        if known is not None:

            value = known.sub(value, lambda secret: self._note(where, self._labels.get(secret, "secret")))
        if self._escaped and any(hint in value for hint in HINTS):
            value = self._escaped_sub(value, where)
        if CUT_HINT in value:
            for start, end, secret in reversed(cut_starts(value, list(self._labels))):
                value = value[:start] + REDACTED + value[end:]
                self._note(where, f"{self._labels[secret]} (cut short)")
        if self._labels:
            value = _ENCODED.sub(lambda match: self._encoded(match, where), value)
        for name, pattern in self.patterns.items():
            if pattern.pattern == PATTERNS["email"] and "@" not in value:
                continue  # the default e-mail pattern, tried at every position, cost more than all the rest
            value, count = pattern.subn(REDACTED, value)
            if count:
                self._note(where, f"pattern {name}", count)
        return value

    def _escaped_sub(self, value: str, where: str) -> str:
        """`value` without the secrets written escaped (as entities in markup, `\\"` in a literal), longest first."""
        for secret, pattern in self._escaped.items():
            value, count = pattern.subn(REDACTED, value)
            if count:
                self._note(where, f"{self._labels[secret]} (escaped)", count)
        return value

    def _shortest(self) -> int:
        """The length of the shortest text anything here could be found in (re-checked as patterns and secrets
        change, which is rare, so it is cached against them)."""
        key = (len(self._labels), id(self.patterns))
        if self._shortest_key != key:
            widths = [MIN_ENCODED, MIN_URL_CREDENTIAL, *(len(s) for s in self._labels)]
            widths += [_min_width(p) for p in self.patterns.values()]
            self._shortest_key, self._shortest_len = key, max(1, min(widths))
        return self._shortest_len

    def _encoded(self, match: re.Match[str], where: str) -> str:
        """A run of base64, hex or URL-encoding that decodes to text holding a known secret is removed whole."""
        for kind, decoded in _decodings(match.group()):
            secret = self._find(decoded)
            if secret is not None:
                self._note(where, f"{self._labels.get(secret, 'secret')} ({kind}-encoded)")
                return REDACTED
        return match.group()

    def _find(self, text: str) -> str | None:
        for secret in self._pending:
            if secret in text:
                return secret
        known = self._secrets()
        return known.search(text) if known is not None else None

    def headers(self, headers: Iterable[tuple[str, str]], where: str = "") -> dict[str, str]:
        clean: dict[str, str] = {}
        for name, value in headers:
            if name.lower() in self.header_names and value != REDACTED:
                self._note(f"{where}.headers.{name.lower()}", f"header {name.lower()}")
                self._learn(value, f"value of header {name.lower()}")
                clean[name] = REDACTED
            else:
                clean[name] = self.text(value, f"{where}.headers.{name.lower()}")
        return clean

    def data(self, value: Any, where: str = "") -> Any:
        if isinstance(value, dict):
            clean = {}
            for k, v in value.items():
                inner = f"{where}.{k}" if where else str(k)
                if str(k).lower() in self.fields and v not in (None, "", REDACTED):
                    self._note(inner, f"field {k}")
                    if isinstance(v, str | int):
                        self._learn(str(v), f"value of field {k}")
                    clean[k] = REDACTED
                else:
                    clean[k] = self.data(v, inner)
            return clean
        if isinstance(value, list):
            return [self.data(v, f"{where}[{i}]") for i, v in enumerate(value)]
        if isinstance(value, str):
            return self.text(value, where)
        return value

    def holds_secret_learnt_after(self, value: Any, count: int) -> bool:
        """Whether `value`, already redacted when the first `count` secrets were known, holds one learnt since, as it
        is or encoded: only then can passing it through `data` again change it (whatever else `data` removes was
        removed the first time)."""
        key = (count, len(self._labels))
        if key not in self._late:  # exchanges recorded between the same two secrets share one automaton
            late = list(self._labels)[count:]
            self._late = {key: (_Secrets(late), min(map(len, late))) if late else None}
        if (found := self._late[key]) is None:
            return False
        automaton, shortest = found
        escaped = [self._escaped[s] for s in list(self._labels)[count:] if s in self._escaped] if self._escaped else []
        for text in _strings(value):
            if len(text) < shortest:
                continue
            if automaton.search(text) is not None:
                return True
            if escaped and any(hint in text for hint in HINTS) and any(p.search(text) for p in escaped):
                return True
            for run in _ENCODED.finditer(text):
                if any(automaton.search(decoded) is not None for _, decoded in _decodings(run.group())):
                    return True
        return False

    def entries(self) -> list[dict[str, Any]]:
        """The redaction log: where, what kind of thing, how many times; never the value removed."""
        return [{"where": where, "what": what, "count": n} for (where, what), n in sorted(self.log.items())]
