"""Removes secrets and citizens' personal data from anything the harness writes, and logs what it removed where."""

from __future__ import annotations

import re
import re._parser as sre_parse
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from harness.http.secret_forms import CUT_HINT, Unescaped, cut_starts, unescaped, without_lone_surrogates
from harness.http.secret_search import (
    ENCODED,
    FOLDED_TO_ASCII,
    MIN_ENCODED,
    LateSecrets,
    Secrets,
    decodings,
    json_fields,
    json_string,
    quoted_names_in,
)

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
CLEAN_MAX = 100_000  # texts remembered as holding nothing to remove, before the memory starts again
MIN_URL_CREDENTIAL = len("?code=x")  # the shortest URL_CREDENTIALS matches


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
        self._automaton: Secrets | None = None
        self._pending: list[str] = []  # secrets added since the automaton was built
        self._shortest_key: tuple[int, int] = (-1, 0)
        self._shortest_len = 1
        self._late_key = -1
        self._late: LateSecrets | None = None
        # Texts `text` left as they were, while the secrets and patterns it searched for stay the same: the same codes,
        # names and dates recur across a run's exchanges (two in three texts searched were seen before).
        self._clean: set[str] = set()
        self._clean_for: tuple[int, int, dict[str, re.Pattern[str]] | None] = (-1, -1, None)
        self.header_names = SENSITIVE_HEADERS | {h.lower() for h in headers}
        # A header echoed in a body (a debugging endpoint, an error page) is as secret there as on the wire.
        self.fields = SENSITIVE_FIELDS | self.header_names | {f.lower() for f in fields}
        self.patterns = _compiled(patterns)
        self._field_names = tuple(sorted(self.fields, key=len, reverse=True))
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
            # Also in Unicode's other normal form: a system may lawfully hand back what it got composed as decomposed
            # (a Vietnamese password typed with combining tone marks), and an output writes what it got.
            secret = without_lone_surrogates(secret)  # as every output writes it (JSON's \ud800 decodes to one)
            for form in dict.fromkeys((secret, *(unicodedata.normalize(f, secret) for f in ("NFC", "NFD")))):
                if form and form != REDACTED and form not in self._labels:
                    self._add_one(form, label)

    def _add_one(self, secret: str, label: str) -> None:
        self._labels[secret] = label
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

    def _secrets(self) -> Secrets | None:
        """Every known secret but the pending ones, built once per batch of values learnt (a run learns hundreds)."""
        if self._automaton is None and self._labels:
            self._automaton, self._pending = Secrets(list(self._labels)), []
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

    def known_count(self) -> int:
        """How many secret values are known (EvidenceRecorder notes it per exchange for holds_secret_learnt_after)."""
        return len(self._labels)

    def known(self) -> dict[str, str]:
        """Every secret value known, with its label (for a distributed run's controller; never written)."""
        return dict(self._labels)

    def learn_from_json_text(self, text: str) -> None:
        """Learns the values of sensitive string fields in JSON text without parsing it: for a body too large to keep,
        whose values must still be removed wherever else they appear."""
        if not self.learn:
            return
        names = self._field_names
        if names and all(name.isascii() for name in names) and not any(c in text for c in FOLDED_TO_ASCII):
            names = quoted_names_in(names, text.lower())  # only they are then looked for in any case
        if not names:
            return
        for match in json_fields(names).finditer(text):
            value = json_string(match.group("value"))
            if len(value) >= LEARN_MIN_CHARS:
                self.add(value, label=f"value of field {match.group('name')}")

    def _note(self, where: str, what: str, count: int = 1) -> None:
        self.log[(where or "?", what)] += count

    def text(self, value: str, where: str = "") -> str:
        if len(value) < self._shortest():  # too short to hold a secret, a pattern, an encoded run or a URL credential
            return value
        if not self._still_searching_for_the_same() or len(self._clean) > CLEAN_MAX:
            self._clean, self._clean_for = set(), (len(self._labels), len(self._pending), self.patterns)
        elif value in self._clean:
            return value
        clean = self._searched(value, where)
        if clean == value and self._still_searching_for_the_same():
            self._clean.add(value)  # nothing found, nothing noted, nothing learnt
        return clean

    def _still_searching_for_the_same(self) -> bool:
        """Whether the remembered clean texts were searched for what `text` searches for now: the same secrets (they
        are only ever added) and the same patterns (compared by identity: the remembered mapping is held, so no new
        one can take its place unseen)."""
        labels, pending, patterns = self._clean_for
        return labels == len(self._labels) and pending == len(self._pending) and patterns is self.patterns

    def _searched(self, value: str, where: str) -> str:
        if "=" in value:  # a URL credential is `name=value`: most strings are spared the search

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

            value = known.sub(value, REDACTED, lambda secret: self._note(where, self._labels.get(secret, "secret")))
        if known is not None and (read := unescaped(value)) is not None:
            value = self._unescaped_sub(value, read, known, where)
        if CUT_HINT in value:
            for start, end, secret in reversed(cut_starts(value, list(self._labels))):
                value = value[:start] + REDACTED + value[end:]
                self._note(where, f"{self._labels[secret]} (cut short)")
        if self._labels:
            value = ENCODED.sub(lambda match: self._encoded(match, where), value)
        for name, pattern in self.patterns.items():
            if pattern.pattern == PATTERNS["email"] and "@" not in value:
                continue  # the default e-mail pattern, tried at every position, cost more than all the rest
            value, count = pattern.subn(REDACTED, value)
            if count:
                self._note(where, f"pattern {name}", count)
        return value

    def _unescaped_sub(self, value: str, read: Unescaped, known: Secrets, where: str) -> str:
        """`value` without the secrets it holds with any of their characters escaped, however a writer escapes it."""
        pending = [(m.start(), m.end(), s) for s in self._pending for m in re.finditer(re.escape(s), read.text)]
        for start, stop, secret in sorted({*known.spans(read.text), *pending}, reverse=True):
            begin, end = read.span(start, stop)
            if value[begin:end] != secret:  # found as it is already, or it would have been removed
                value = value[:begin] + REDACTED + value[end:]
                self._note(where, f"{self._labels.get(secret, 'secret')} (escaped)")
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
        for kind, decoded in decodings(match.group()):
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
        if count >= len(self._labels):
            return False
        if self._late_key != len(self._labels):  # one automaton of every secret, for every exchange of the report
            self._late_key, self._late = len(self._labels), LateSecrets(list(self._labels))
        assert self._late is not None
        strings = list(_strings(value))
        if any(CUT_HINT in text for text in strings):  # a later secret may be cut short there: look again, whole
            return True
        # Its strings searched at once, joined by a character no secret is made of (one that was would only make a
        # false alarm here, passing the value through `data` again, which is always safe).
        strings += [read.text for text in strings if (read := unescaped(text)) is not None]  # escaped in any way
        return self._late.holds_one_after("\0".join(strings), count)

    def entries(self) -> list[dict[str, Any]]:
        """The redaction log: where, what kind of thing, how many times; never the value removed."""
        return [{"where": where, "what": what, "count": n} for (where, what), n in sorted(self.log.items())]
