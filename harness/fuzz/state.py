"""Resources in a state where an operation can act (for harness.fuzz.fuzzer), so that state never masks input checks.

With one dossier for the whole run, the fuzzer's own valid input drives it to an end state, after which every
lifecycle action is refused (409, or as sut.refusals.state declares) and the body validation behind the state check
is never reached. `DossierPool` gives
each request to a lifecycle action a dossier in a status from which that action is lawful (harness/data/lifecycle.yaml),
made through the driver — submitted, then walked along the shortest run of the lifecycle's own actions — and sends
the request with the session of the action's actor (lifecycle.yaml `actor`). A dossier an action moved is filed under
the status that action leads to; a dossier is made only when none is where it is needed.

Which operation of the document is which is learnt from the driver's own calls (`routes`: the http driver's
`actions.act` and `actions.pay` paths, the reference driver's): the operation whose path is the `act` call's takes the
action in the parameter at `{{ action }}` (in the system's own words, the http driver's `vocabulary.action`: demo 3's
`/mc/ho-so/{so}/{buoc}` with `nhan`), and the one whose path is the `pay` call's (the citizen opens the payment the
officer asked for: demo 3's `/mc/ho-so/{so}/nop-phi`, which names no action) is given a dossier that waits for
payment, one per request that opened a payment. A driver that does not say its calls: an action is recognised by a
path parameter whose value is one of the lifecycle's actions or the system's word for one. A request none of these
recognises keeps the run's own dossier.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from typing import Any

import httpx

from harness.core.lifecycle import Lifecycle
from harness.sut.drivers import Driver, DriverError

START = "1"  # a submitted dossier's status
RESUME = "resume"
SUPPLEMENT_ASKED = "5"  # `supplement` resumes from here
PAY = "pay"  # the citizen opens the payment: no lifecycle action, lawful where `request-payment` leads
PAYMENT_ASKED_BY = "request-payment"
_PLACEHOLDER = re.compile(r"^\{\{\s*([A-Za-z_]\w*).*\}\}$")  # a whole segment `{{ code }}` of a driver's path
_PARAMETER = re.compile(r"^\{([^{}]+)\}$")  # a whole segment `{so}` of an OpenAPI path


@dataclass(frozen=True)
class Bound:
    """An operation of the document recognised as one of the driver's calls."""

    call: str  # act | pay
    dossier: str  # the path parameter that carries the dossier's code
    action: str | None = None  # act: the path parameter that carries the action's word …
    word: str | None = None  # … or the word itself, where the document spells one path per action


def bind(routes: Mapping[str, tuple[str, str]], method: str, template: str) -> Bound | None:
    """The driver's call (`routes`: name → (method, path with `{{ variable }}`)) whose path is `template`'s, segment
    by segment: a literal equal, `{{ code }}` at a path parameter, `{{ action }}` at a parameter or a word. Where
    two fit (`/{so}/nop-phi` fits both `/{{ code }}/nop-phi` and `/{{ code }}/{{ action }}`), the one that spells
    more of the path."""
    segments = template.strip("/").split("/")
    fits: list[tuple[int, Bound]] = []
    for call, (verb, path) in routes.items():
        theirs = path.split("?")[0].strip("/").split("/")
        if call not in ("act", PAY) or verb.upper() != method.upper() or len(theirs) != len(segments):
            continue
        found = _placed(segments, theirs) or {}
        action = found.get("action")
        if found.get("code", "=").startswith("=") or (call == "act" and action is None):
            continue  # no dossier parameter where the driver puts the code; an act call names no action
        word = action[1:] if action is not None and action.startswith("=") else None
        spelt = sum(not _PLACEHOLDER.match(segment) for segment in theirs)
        fits.append((spelt, Bound(call, found["code"], None if word is not None else action, word)))
    return max(fits, key=lambda fit: fit[0])[1] if fits else None


def _placed(segments: list[str], theirs: list[str]) -> dict[str, str] | None:
    """Each variable of the driver's path → the document's parameter at its place ("=word": a literal word, for the
    action only); None: the paths differ."""
    found: dict[str, str] = {}
    for mine, other in zip(segments, theirs, strict=True):
        variable, parameter = _PLACEHOLDER.match(other), _PARAMETER.match(mine)
        if variable is None:
            if mine != other:
                return None
        elif parameter is not None:
            found[variable[1]] = parameter[1]
        elif variable[1] == "action":
            found["action"] = f"={mine}"
        else:
            return None
    return found


class DossierPool:
    def __init__(
        self,
        driver: Driver,
        lifecycle: Lifecycle,
        parameter: str,
        procedure: str,
        sessions: Mapping[str, Mapping[str, str]],
        words: Mapping[str, str] | None = None,
        routes: Mapping[str, tuple[str, str]] | None = None,
        paying: str | None = None,
        state_refusals: Collection[int] = (409,),
    ) -> None:
        self.driver = driver
        self.lifecycle = lifecycle
        self.parameter = parameter  # the path parameter that carries a dossier's code
        self.procedure = procedure
        self.paying = paying or procedure  # a fee-bearing procedure: a payment can be asked only for one
        self.sessions = sessions  # role (citizen | officer) → its session's headers
        self.words = dict(words or {})  # the system's own word for an action → the lifecycle's name (nhan → receive)
        self.routes = dict(routes or {})  # the driver's calls: name (act, pay) → (method, path with {{ variables }})
        self.by_status: dict[str, list[str]] = {}
        self.payable: set[str] = set()  # dossiers of the fee-bearing procedure: the only ones a payment can be for
        # (action, status) the SUT refused as being in the wrong status (sut.refusals.state): it offers the move from
        # another of the lawful statuses only (a transfer from 4, say, not from 2), which is its choice where the
        # contract demands one of them.
        self.state_refusals = frozenset(state_refusals)
        self.refused: set[tuple[str, str]] = set()
        self.requests = 0  # sent through the driver to make and move dossiers
        self.failed: list[str] = []  # why a dossier could not be brought where it was needed

    def bound(self, operation: Any) -> Bound | None:
        """The driver's call that `operation` is, where the driver says its calls (None: not one, or not said)."""
        return bind(self.routes, operation.method, operation.template) if self.routes else None

    def _action(self, operation: Any, params: Mapping[tuple[str, str], Any]) -> str | None:
        """The lifecycle action (or PAY) a request performs; None: it acts on no dossier's state."""
        bound = self.bound(operation)
        if bound is not None:
            if bound.call == PAY:
                return PAY
            word = bound.word if bound.word is not None else params.get(("path", bound.action or ""))
            action = self.words.get(word, word) if isinstance(word, str) else None
            return action if action in self.lifecycle.actions else None
        if ("path", self.parameter) not in params:
            return None
        return next(
            (
                self.words.get(v, v)
                for (where, _), v in params.items()
                if where == "path" and isinstance(v, str) and self.words.get(v, v) in self.lifecycle.actions
            ),
            None,
        )

    def _from(self, action: str) -> list[str]:
        """The statuses from which `action` is lawful (PAY: where the officer's payment request leads)."""
        if action == PAY:
            return [self.lifecycle.actions[PAYMENT_ASKED_BY].to]
        to = self.lifecycle.actions[action].to
        if to == RESUME:
            return [SUPPLEMENT_ASKED]
        lawful = sorted((s for s in self.lifecycle.transitions if self.lifecycle.allows(s, to)), key=int)
        # Where the contract demands the move (lifecycle.yaml `core`: a transfer from 2 or 4, not from 6 although 6 → 4
        # is lawful for processing), never where it is optional (a supplement asked before receipt): from anywhere
        # else a system may lawfully refuse it, and no input would get past its state check.
        move = self.lifecycle.core.get(action)
        optional = {s for m in self.lifecycle.optional if m.action == action for s in m.sources}
        demanded = [s for s in lawful if move is not None and s in move.every | move.any_of and s not in optional]
        return demanded or [s for s in lawful if s not in optional] or lawful

    def _route(self, goals: list[str]) -> list[str] | None:
        """The shortest run of actions from a new dossier to one of `goals` (transfer left out: it needs a second
        agency the procedure may not have), along the core path where one leads there: an optional move (a supplement
        asked before receipt) is one a system may lawfully refuse."""
        return self._shortest(goals, core_only=True) or self._shortest(goals, core_only=False)

    def _shortest(self, goals: list[str], core_only: bool) -> list[str] | None:
        optional = {(m.action, s) for m in self.lifecycle.optional for s in m.sources} if core_only else set()
        seen = {START}
        queue: deque[tuple[str, list[str]]] = deque([(START, [])])
        while queue:
            status, actions = queue.popleft()
            if status in goals:
                return actions
            for action in self.lifecycle.actions.values():
                if action.to in (RESUME, status) or action.name == "transfer" or (action.name, status) in optional:
                    continue
                if self.lifecycle.allows(status, action.to) and action.to not in seen:
                    seen.add(action.to)
                    queue.append((action.to, [*actions, action.name]))
        return None

    def _make(self, goals: list[str], *, paying: bool = False) -> str | None:
        route = self._route(goals)
        if route is None:
            self.failed.append(f"no lawful route to {', '.join(goals)}")
            return None
        try:
            procedure = self.paying if paying or PAYMENT_ASKED_BY in route else self.procedure
            code = self.driver.submit(procedure).code
            if procedure == self.paying:
                self.payable.add(code)
            self.requests += 1
            for action in route:
                self.requests += 1
                if not self.driver.act(code, action).accepted:
                    self.failed.append(f"{action} refused on the way to {goals[0]}")
                    return None
        except DriverError as error:
            self.failed.append(str(error)[:200])
            return None
        self.by_status.setdefault(self.lifecycle.actions[route[-1]].to if route else START, []).append(code)
        return code

    def split(self, operations: list[Any]) -> list[Any]:
        """An operation whose path names the action (an enum of the lifecycle's actions or the system's words for
        them, as `/{buoc}`) becomes one operation per action: each action has its own rules behind its state check
        (a transfer reads the receiving agency, a finish does not), and a budget spent on a random few would leave
        the others untried."""
        found: list[Any] = []
        for operation in operations:
            named = next((p for p in operation.parameters if p.location == "path" and self._names_actions(p)), None)
            if named is None:
                found.append(operation)
                continue
            for value in named.schema["enum"]:
                one = replace(named, schema={**named.schema, "enum": [value]}, examples=())
                parameters = tuple(one if p is named else p for p in operation.parameters)
                found.append(replace(operation, parameters=parameters))
        return found

    def _names_actions(self, parameter: Any) -> bool:
        values = parameter.schema.get("enum") if isinstance(parameter.schema, dict) else None
        return bool(values) and len(values) > 1 and all(
            isinstance(v, str) and self.words.get(v, v) in self.lifecycle.actions for v in values
        )

    def prepare(self, operation: Any, params: dict[tuple[str, str], Any]) -> Mapping[str, str] | None:
        """Puts into `params` a dossier the request's action can act on; the headers of the action's actor (None:
        not a lifecycle action nor a payment, the request keeps its own session and dossier)."""
        action = self._action(operation, params)
        if action is None:
            return None
        lawful = self._from(action)
        goals = [s for s in lawful if (action, s) not in self.refused] or lawful
        paying = action in (PAY, PAYMENT_ASKED_BY)  # a payment is asked and made for a dossier with a fee only
        found = (c for s in goals for c in self.by_status.get(s, []) if not paying or c in self.payable)
        code = next(found, None) or self._make(goals, paying=paying)
        if code is None:
            return None
        bound = self.bound(operation)
        params[("path", bound.dossier if bound is not None else self.parameter)] = code
        return self.sessions.get("citizen" if action == PAY else self.lifecycle.actions[action].actor)

    def settled(self, operation: Any, params: Mapping[tuple[str, str], Any], response: httpx.Response) -> None:
        """An action the SUT carried out moved its dossier: filed under where the action leads (or let go). A
        payment opened lets its dossier go: a second one would be refused, nothing is left to pay. So does a crash
        (5xx): what it changed before it broke is not known."""
        action = self._action(operation, params)
        crashed = response.status_code >= 500
        bound = self.bound(operation)
        code = params.get(("path", bound.dossier if bound is not None else self.parameter))
        if action is not None and response.status_code in self.state_refusals:  # refused from where it is: elsewhere
            self.refused.update((action, s) for s, codes in self.by_status.items() if code in codes)
        if action is None or not (200 <= response.status_code < 300 or crashed):
            return
        for codes in self.by_status.values():
            if code in codes:
                codes.remove(code)
        to = RESUME if action == PAY or crashed else self.lifecycle.actions[action].to
        if to != RESUME:
            self.by_status.setdefault(to, []).append(code)


def footing(
    target: Any, driver: Driver, lifecycle: Lifecycle, procedures: list[str], paying: str | None = None
) -> dict[str, Any]:
    """What `harness.fuzz.fuzzer.fuzz` is given besides the client and the document, from the target and the driver: the
    citizen's and the officer's sessions, a real dossier for the dossier parameter, a pool of dossiers for the
    lifecycle actions and the citizen's payment (`paying`: a fee-bearing procedure), the seeds (declared procedures,
    then the catalog the SUT returned; the agency registry; the dossier's code), the operations another party calls
    (payment.confirm_path, sut.public_operations), the budget."""
    from harness.fuzz.seeds import Seeds  # beside harness.fuzz.fuzzer, which imports nothing of this module

    dossier = driver.submit(procedures[0])  # a real code for {code}: varied, it would only be "not found"
    roles = {role: dict(driver.session(role).headers) for role in ("citizen", "officer")}
    parameter = target.sut.dossier_parameter
    declared = target.capabilities.procedures or ()
    return {
        "sessions": list(roles.values()),
        "known": {parameter: dossier.code},
        "budget": target.fuzz,
        "public": [("POST", target.payment_rules.confirm_path), *target.sut.public_operations],
        "seeds": Seeds(
            {
                "procedure": [*dict.fromkeys([*declared, *procedures])],
                "agency": [a.code for a in target.agencies],
                "dossier": [dossier.code],
            }
        ),
        "resources": DossierPool(
            driver, lifecycle, parameter, procedures[0], roles, action_words(target), driver_routes(target, driver),
            paying, target.sut.refusals.state,
        ),
        "state_refusals": target.sut.refusals.state,
    }


def driver_routes(target: Any, driver: Any) -> dict[str, tuple[str, str]]:
    """The driver's calls that act on a dossier (name → (method, path with `{{ variables }}`)): the http driver's
    `actions` settings, a built-in driver's `routes`; none for a driver that does not say them."""
    if target.sut.driver == "http":
        actions = (target.sut.driver_options or {}).get("actions") or {}
        return {
            name: (str(spec.get("method", "GET")), str(spec["path"]))
            for name, spec in actions.items()
            if name in ("act", PAY) and isinstance(spec, dict) and isinstance(spec.get("path"), str)
        }
    declared = getattr(driver, "routes", None)
    return dict(declared) if isinstance(declared, Mapping) else {}


def action_words(target: Any) -> dict[str, str]:
    """The system's own word for each lifecycle action, as the http driver's vocabulary declares it (word → action):
    a path naming `/{buoc}` with `nhan` is the lifecycle's `receive`."""
    if target.sut.driver != "http":
        return {}
    vocabulary = ((target.sut.driver_options or {}).get("vocabulary") or {}).get("action") or {}
    return {str(word): str(action) for action, word in vocabulary.items()}
