"""Schema-driven fuzzing of the SUT's input operations (P111-ROBUST-INPUT): a library, no pytest in it.

Every operation of the SUT's OpenAPI document that takes parameters or a JSON body is sent, through the recorded SUT
client, input that its document allows (built with hypothesis-jsonschema, seeded with the document's examples) and
input that breaks exactly one named rule (a targeted mutation of a valid input). Valid input must never get a 5xx;
invalid input must be refused with a 4xx, and with a JSON body when the document describes the status that came back
(its own code, else its range `4XX`, else `default`) with a JSON media type: an HTML 405 where only 422 is documented
as JSON promises nothing. Each kind of input is one derandomised hypothesis run with a small budget, so a run is
repeatable and a counterexample is shrunk: the smallest input that still breaks the SUT, which the check turns into
evidence.

What cannot be judged is left out and said so in `FuzzResult.skipped`, never judged falsely: an operation every
session is refused on (401, 403: nothing gets past the authentication layer), the absence of a header the session or
the client always sends, mutations under `oneOf`/`anyOf` (broken for one branch, the input may fit another), and a
kind of input the fuzzer itself failed to build (named with its exception; the other operations go on). A path
parameter is never "", ".", ".." nor holds "/" (that would name another route), and a header value is printable ASCII
(what a header can carry). OpenAPI 3.0's `nullable` allows null; `allOf` is read as one merged schema.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from hypothesis import HealthCheck, Phase, Verbosity, find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable

from harness.config.target import FuzzBudget as Budget
from harness.fuzz.findings import Finding, FuzzResult
from harness.fuzz.generation import Input, breaking_values, fits, mutated_input, valid_inputs, values
from harness.fuzz.judging import PROBLEMS, STATE_CONFLICT, judge
from harness.fuzz.kinds import INTEGER, RULES, SKIPPED, Case, cases_for, left_out
from harness.fuzz.openapi import Operation, Parameter, input_operations
from harness.fuzz.readback import read_back
from harness.fuzz.seeds import Seeds, placed
from harness.fuzz.sending import send_input

# The names the suite, the tests and the benchmarks use, from the modules that define them.
__all__ = [
    "INTEGER",
    "RULES",
    "SKIPPED",
    "STATE_CONFLICT",
    "Budget",
    "Case",
    "Finding",
    "FuzzResult",
    "Operation",
    "Parameter",
    "Seeds",
    "breaking_values",
    "fits",
    "cases_for",
    "fuzz",
    "input_operations",
    "judge",
    "values",
]

REFUSED = (401, 403)


class _Found(Exception):
    def __init__(self, finding: Finding) -> None:
        super().__init__(finding.describe())
        self.finding = finding


def _settings(examples: int) -> settings:
    # Derandomised and without a database: the same run finds the same counterexample, shrunk the same way.
    return settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
        phases=(Phase.explicit, Phase.generate, Phase.shrink),
    )


# One exception type per problem: hypothesis tells failures apart by their type, so that one kind of input reports a
# crash and, apart from it, a value that breaks its later read, each shrunk on its own (not the first one only).
_FOUND = {problem: type(f"_Found_{problem.replace('-', '_')}", (_Found,), {}) for problem in PROBLEMS}


def _all_found(error: BaseException) -> list[Finding]:
    """The findings in what hypothesis raised: one, or a group (distinct failures, or a flaky one), one per problem."""
    if isinstance(error, _Found):
        return [error.finding]
    found = [f for inner in getattr(error, "exceptions", ()) for f in _all_found(inner)]
    return list({f.problem: f for f in reversed(found)}.values())[::-1]


def _from_transport(error: BaseException) -> bool:
    """Whether the SUT could not be reached (alone, or among what hypothesis grouped): that stays an error."""
    if isinstance(error, httpx.TransportError):
        return True
    return any(_from_transport(inner) for inner in getattr(error, "exceptions", ()))


def _broke(what: str, error: BaseException) -> str:
    message = str(error).splitlines()[0][:200] if str(error) else ""
    return f"bộ thử không tạo được dữ liệu vào / the fuzzer failed on {what}: {type(error).__name__}: {message}"


@dataclass
class _Run:
    """What every request of one operation shares."""

    client: httpx.Client
    operations: Sequence[Operation]  # the whole document's: a write is read back through its GET
    headers: Mapping[str, str]
    result: FuzzResult
    undocumented: str = "off"
    resources: Any = None  # harness.fuzz.state.DossierPool or alike: prepare(operation, params) → headers, settled(…)
    statuses: list[int] = field(default_factory=list)
    state_refusals: Collection[int] = (STATE_CONFLICT,)  # how the system refuses an action in the wrong status


def labelled(operation: Operation) -> str:
    """The operation, with the action it was fuzzed for where a path names one (fuzz.state splits it per action):
    how many inputs got past state checks is told per action, since each has its own."""
    fixed = [str(p.schema["enum"][0]) for p in operation.parameters if p.location == "path" and _one_value(p)]
    return f"{operation} ({', '.join(fixed)})" if fixed else str(operation)


def _one_value(parameter: Parameter) -> bool:
    values = parameter.schema.get("enum") if isinstance(parameter.schema, dict) else None
    return isinstance(values, list) and len(values) == 1


def _try(run: _Run, operation: Operation, case: Case, sent: Input) -> Finding | None:
    """Sends one input (in a resource the operation can act on, when `run.resources` knows one) and judges the
    answer, then reads back what a valid input wrote."""
    headers = (run.resources.prepare(operation, sent.params) if run.resources is not None else None) or run.headers
    response = send_input(run.client, operation, sent, headers)
    if run.resources is not None:
        run.resources.settled(operation, sent.params, response)
    run.result.requests += 1
    run.statuses.append(response.status_code)
    label = labelled(operation)
    counts = run.result.statuses.setdefault(label, {})
    counts[response.status_code] = counts.get(response.status_code, 0) + 1
    for past in (run.result.past_state, *((run.result.valid_past_state,) if case.valid else ())):
        state = past.setdefault(label, [0, 0])
        state[0] += 1
        state[1] += response.status_code not in run.state_refusals
    problem = judge(operation, case, response, run.undocumented)
    if problem is not None:
        return Finding(operation, case, problem, response)
    if case.valid and not sent.omit and sent.raw is None:
        back = read_back(run.client, run.operations, operation, sent.body, response, headers)
        if back is not None:
            run.result.requests += 1
            if back[0] is not None:
                return Finding(operation, case, back[0], back[1], written=response)
    return None


def _explore(run: _Run, operation: Operation, case: Case, base: st.SearchStrategy[Input], examples: int) -> None:
    @_settings(examples)
    @given(st.data())
    def explore(data: st.DataObject) -> None:
        found = _try(run, operation, case, mutated_input(operation, case, data.draw(base), data.draw))
        if found is not None:
            raise _FOUND[found.problem](found)

    try:
        explore()
    except Unsatisfiable:
        run.result.skipped.append(
            (f"{operation} [{case.at}]", f"không sinh được dữ liệu / no input found for {case.rule}")
        )
    except Exception as error:
        found = _all_found(error)
        if not found:
            raise
        run.result.findings += found


def _seeded(operation: Operation, simplest: Input, seeds: Seeds, known: Mapping[str, str]) -> list[Input]:
    """The simplest valid input (the document's example) with each real value the seeds hold put in its place."""
    found = [
        Input(dict(simplest.params), placed(simplest.body, where, value))
        for where, real in seeds.in_body(operation.body)
        for value in real
    ]
    for p in operation.parameters:
        if p.name not in known and p.location != "header":
            found += [
                Input({**simplest.params, (p.location, p.name): value}, simplest.body)
                for value in seeds.for_field(p.name, p.schema)
                if fits(p.location)(value)
            ]
    return found


def _headers_for(
    client: httpx.Client,
    operation: Operation,
    simplest: Input,
    sessions: Sequence[Mapping[str, str]],
    resources: Any = None,
) -> Mapping[str, str] | None:
    """The first session the operation does not refuse (401, 403) on its simplest valid input: citizens submit,
    officers act and export. None: every session is refused, nothing would get past the authentication layer."""
    for headers in sessions or ({},):
        probe = Input(dict(simplest.params), copy.deepcopy(simplest.body))
        chosen = (resources.prepare(operation, probe.params) if resources is not None else None) or headers
        response = send_input(client, operation, probe, chosen)
        if resources is not None:
            resources.settled(operation, probe.params, response)
        if response.status_code not in REFUSED:
            return headers
    return None


def fuzz(
    client: httpx.Client,
    document: dict[str, Any],
    *,
    sessions: Sequence[Mapping[str, str]] = (),
    known: Mapping[str, str] | None = None,
    budget: Budget | None = None,
    public: Collection[tuple[str, str]] = (),
    seeds: Seeds | None = None,
    resources: Any = None,
    state_refusals: Collection[int] = (STATE_CONFLICT,),
) -> FuzzResult:
    """Fuzzes every input operation of `document` through `client`. `sessions`: the headers of each signed-on role,
    tried in order; `known`: real values for path parameters by name (a dossier's `code`); `public`: (METHOD,
    template) the target declares called by another party, which may refuse with HTTP 200 and its own error code;
    `seeds`: real values for fields the document cannot teach (harness.fuzz.seeds); `resources`: gives each request
    a resource in a state where it can act (harness.fuzz.state.DossierPool); `state_refusals`: the statuses by which
    the system refuses an action in the wrong status (sut.refusals.state): an input answered so never got past it.

    `result.operations` names the operations fuzzed beyond the authentication layer; the others, and every kind of
    input left out, are in `result.skipped` with the reason. A kind of input the fuzzer fails to build is skipped
    (named with its exception) and the run goes on; the SUT out of reach (an httpx.TransportError) ends it."""
    budget, known, seeds = budget or Budget(), dict(known or {}), seeds or Seeds()
    started = time.monotonic()
    operations, skipped = input_operations(document, public)
    if resources is not None and hasattr(resources, "split"):
        operations = resources.split(operations)  # one per lifecycle action where a path names it (fuzz.state)
    result = FuzzResult(skipped=list(skipped))
    for operation in operations:
        untargeted: list[tuple[str, ...]] = []
        try:
            base = valid_inputs(operation, known, seeds)
            simplest = find(base, lambda _: True, settings=_settings(1))
            headers = _headers_for(client, operation, simplest, sessions, resources)
            if headers is None:
                result.skipped.append((str(operation), SKIPPED["refused"]))
                continue
            carried = {name.lower() for name in (*headers, *client.headers)}
            cases = cases_for(operation, known, carried, untargeted)
        except Exception as error:
            _skip_unless_transport(result, str(operation), str(operation), error)
            continue
        result.skipped += left_out(operation, carried, untargeted)
        run = _Run(client, operations, headers, result, budget.undocumented_status, resources,
                   state_refusals=state_refusals)
        for case in cases:
            result.cases += 1
            try:
                seeded = _seeded(operation, simplest, seeds, known) if case.rule == "valid" else []
                _fuzz_case(run, operation, case, base, seeded, budget)
            except Exception as error:
                where = f"{operation} [{case.rule} {case.at}]"
                _skip_unless_transport(result, where, f"{operation} ({case.rule} {case.at})", error)
        if run.statuses and all(status in REFUSED for status in run.statuses):
            result.skipped.append((str(operation), SKIPPED["refused"]))
        elif run.statuses and str(operation) not in result.operations:  # once, though fuzzed once per action
            result.operations.append(str(operation))
    result.setup_requests = getattr(resources, "requests", 0)
    result.seconds = time.monotonic() - started
    return result


def _skip_unless_transport(result: FuzzResult, where: str, what: str, error: Exception) -> None:
    """A kind of input the fuzzer failed to build is skipped, named with its exception; the SUT out of reach (an
    httpx.TransportError) ends the run."""
    if _from_transport(error):
        raise error
    result.skipped.append((where, _broke(what, error)))


def _fuzz_case(
    run: _Run, operation: Operation, case: Case, base: st.SearchStrategy[Input], seeded: list[Input], budget: Budget
) -> None:
    """One kind of input: for valid input each real value once first (in the document's example: deterministic),
    then hypothesis's exploration, shrinking what it finds."""
    if case.rule == "valid":
        found = (_try(run, operation, case, sent) for sent in seeded)
        first = next((f for f in found if f is not None), None)
        if first is not None:
            run.result.findings.append(first)
            return
    examples = budget.generated_examples if case.rule == "valid" else budget.max_examples
    _explore(run, operation, case, base, examples)
