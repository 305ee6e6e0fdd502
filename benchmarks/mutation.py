"""Mutation score of the suite against the reference system: how much of its lawful behaviour the checks pin down.

Usage: python benchmarks/mutation.py [--sample N] [--seed S] [--jobs 1|2] [--timeout SECONDS] [--list] [--mutant ID]...

Each mutant changes one thing in the reference system's behaviour code (mocks/reference/*.py, never the defect
switches nor the code they switch on): a comparison or boolean flipped, a `not` dropped, an early error return or a
raise removed, a status code or another integer off by one, a field left out of a message literal, a format string
changed. A fixed-seed sample of them is run, one `p111 run` each (`--jobs 2`: two at once), in a copy of the
checkout's packages (harness, conformance_tests, mocks, schemas) put first on PYTHONPATH, with the one file mutated
(the checkout is never written to; the whole copy, because pytest puts the suite's root first on sys.path, and `mocks`
must come from the same root). A mutant is killed when the run is not a pass (exit code other than 0; the run stops
at its first FAILED or ERROR check), survives when it exits 0, and is stillborn when it does not compile or the run
breaks before writing a report. Survivors explained as equivalent or not observable through the national contract
are listed in benchmarks/mutation-equivalent.md (one line each, starting with the mutant's id); the score leaves them
out. Prints the figures and every survivor with file:line.
"""

from __future__ import annotations

import argparse
import ast
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MUTATED = ROOT / "mocks" / "reference"
SKIPPED_FILES = {"defects.py", "__init__.py"}
EQUIVALENT = Path(__file__).with_name("mutation-equivalent.md")
COPIED = ("harness", "conformance_tests", "mocks", "schemas")

FLIPPED = {
    ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.Lt: ast.GtE, ast.GtE: ast.Lt, ast.Gt: ast.LtE, ast.LtE: ast.Gt,
    ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot, ast.IsNot: ast.Is,
}


@dataclass(frozen=True)
class Mutant:
    file: str  # relative to the checkout
    line: int
    kind: str
    index: int  # the n-th site of this kind in the file

    @property
    def id(self) -> str:
        return f"{self.file}:{self.line}:{self.kind}#{self.index}"


# The defect set, as a local (app.py) or an attribute (self._defects, self.defects).
DEFECT_NAMES = {"defects", "_defects"}


def _mentions_defects(node: ast.AST) -> bool:
    return any(
        (isinstance(n, ast.Name) and n.id in DEFECT_NAMES) or (isinstance(n, ast.Attribute) and n.attr in DEFECT_NAMES)
        for n in ast.walk(node)
    )


def _sites(tree: ast.Module) -> Iterator[tuple[str, ast.AST]]:
    """Every place a mutation operator applies, in a stable order (ast.walk), skipping the defect switches (any
    condition that reads `defects`, and everything inside it) and the code they switch on (the body of an `if` on a
    defect: the defect itself, not lawful behaviour; its `else` is lawful and stays)."""
    switches = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, (ast.BoolOp, ast.IfExp, ast.Compare)) and _mentions_defects(node)
        for inner in ast.walk(node)
    }
    switches |= {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and _mentions_defects(node.test)
        for statement in node.body
        for inner in ast.walk(statement)
    }
    for node in ast.walk(tree):
        if id(node) in switches:
            continue
        if isinstance(node, ast.Compare) and not _mentions_defects(node) and type(node.ops[0]) in FLIPPED:
            yield "compare-flip", node
        elif isinstance(node, ast.BoolOp) and not _mentions_defects(node):
            yield "and-or-swap", node
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not) and not _mentions_defects(node):
            yield "not-dropped", node
        elif (
            isinstance(node, ast.If)
            and not _mentions_defects(node.test)
            and len(node.body) == 1
            and isinstance(node.body[0], (ast.Return, ast.Raise))
        ):
            yield "early-exit-removed", node
        elif isinstance(node, ast.Raise) and node.exc is not None:
            yield "raise-removed", node
        elif isinstance(node, ast.Constant) and type(node.value) is int and node.value not in (0, 1):
            yield "int-off-by-one", node
        elif isinstance(node, ast.Dict) and any(
            isinstance(k, ast.Constant) and isinstance(k.value, str) and k.value[:1].isupper() for k in node.keys
        ):
            yield "field-removed", node
        elif isinstance(node, ast.JoinedStr) and any(isinstance(v, ast.Constant) for v in node.values):
            yield "format-changed", node


def mutants() -> list[Mutant]:
    found = []
    for path in sorted(MUTATED.rglob("*.py")):  # routes/ too: the API's handlers live there
        if path.name in SKIPPED_FILES:
            continue
        counts: dict[str, int] = {}
        for kind, node in _sites(ast.parse(path.read_text(encoding="utf-8"))):
            counts[kind] = counts.get(kind, 0) + 1
            found.append(Mutant(str(path.relative_to(ROOT)), getattr(node, "lineno", 0), kind, counts[kind] - 1))
    return found


def _mutate(node: ast.AST, kind: str) -> ast.AST:
    """The node that replaces `node` (itself, changed, for most kinds)."""
    if kind == "compare-flip":
        node.ops[0] = FLIPPED[type(node.ops[0])]()  # type: ignore[attr-defined]
    elif kind == "and-or-swap":
        node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()  # type: ignore[attr-defined]
    elif kind == "not-dropped":
        return node.operand  # type: ignore[attr-defined,no-any-return]
    elif kind == "early-exit-removed":
        node.test = ast.Constant(False)  # type: ignore[attr-defined]
    elif kind == "raise-removed":
        return ast.Pass()
    elif kind == "int-off-by-one":
        node.value += 1  # type: ignore[attr-defined]
    elif kind == "field-removed":
        index = next(n for n, k in enumerate(node.keys) if isinstance(k, ast.Constant)  # type: ignore[attr-defined]
                     and isinstance(k.value, str) and k.value[:1].isupper())
        del node.keys[index], node.values[index]  # type: ignore[attr-defined]
    elif kind == "format-changed":
        constant = next(v for v in node.values if isinstance(v, ast.Constant))  # type: ignore[attr-defined]
        constant.value = constant.value + "~"
    return node


class _Replace(ast.NodeTransformer):
    def __init__(self, target: ast.AST, replacement: ast.AST) -> None:
        self.target, self.replacement = target, replacement

    def visit(self, node: ast.AST) -> ast.AST:
        return self.replacement if node is self.target else super().visit(node)


def mutated_source(mutant: Mutant) -> str:
    tree = ast.parse((ROOT / mutant.file).read_text(encoding="utf-8"))
    seen = -1
    for kind, node in list(_sites(tree)):
        if kind == mutant.kind:
            seen += 1
            if seen == mutant.index:
                tree = _Replace(node, _mutate(node, kind)).visit(tree)
                return ast.unparse(ast.fix_missing_locations(tree))
    raise LookupError(mutant.id)


def run(mutant: Mutant, timeout: float) -> tuple[str, str]:
    """killed / survived / stillborn, with the exit code or why."""
    with tempfile.TemporaryDirectory(prefix="p111-mutant-") as directory:
        work = Path(directory)
        for package in COPIED:
            shutil.copytree(ROOT / package, work / package, ignore=shutil.ignore_patterns("__pycache__"))
        source = mutated_source(mutant)
        try:
            compile(source, mutant.file, "exec")
        except SyntaxError as exc:
            return "stillborn", f"does not compile: {exc}"
        (work / mutant.file).write_text(source, encoding="utf-8")
        env = {**os.environ, "PYTHONPATH": directory, "PYTHONDONTWRITEBYTECODE": "1"}
        try:
            result = subprocess.run(
                # -x: the first FAILED or ERROR already kills the mutant; the rest of the run would not change that
                [sys.executable, "-m", "harness.cli", "run", "--report", str(work / "out"), "--", "-x"],
                cwd=directory, env=env, capture_output=True, text=True, timeout=timeout,
            )
        except subprocess.TimeoutExpired:
            return "killed", f"no verdict within {timeout:g} s"
        if not (work / "out" / "report.json").is_file():
            return "stillborn", f"exit {result.returncode} without a report: {result.stderr.strip()[-200:]}"
        return ("survived", "exit 0") if result.returncode == 0 else ("killed", f"exit {result.returncode}")


def equivalents() -> set[str]:
    """Mutant ids explained in mutation-equivalent.md (each line: `- <id> — reason`)."""
    if not EQUIVALENT.is_file():
        return set()
    return set(re.findall(r"^- `?([^\s`]+#\d+)`?", EQUIVALENT.read_text(encoding="utf-8"), re.MULTILINE))


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=20)
    parser.add_argument("--seed", type=int, default=111)
    parser.add_argument("--timeout", type=float, default=180.0)
    parser.add_argument("--jobs", type=int, default=1, choices=(1, 2), help="mutants run at once (a p111 run each)")
    parser.add_argument("--list", action="store_true", help="list the sample's mutants and stop")
    parser.add_argument("--mutant", action="append", default=[], metavar="ID", help="run these mutants only")
    args = parser.parse_args(argv)
    every = mutants()
    sample = random.Random(args.seed).sample(every, min(args.sample, len(every)))
    if args.mutant:
        sample = [m for m in every if m.id in args.mutant]
    print(f"{len(every)} mutants of mocks/reference/; sample of {len(sample)} (seed {args.seed})")
    if args.list:
        for mutant in sample:
            print(mutant.id)
        return
    explained = equivalents()
    outcome: dict[str, list[tuple[Mutant, str]]] = {"killed": [], "survived": [], "stillborn": []}
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:  # threads: each mutant is its own subprocess
        runs = pool.map(lambda m: (m, *run(m, args.timeout)), sample)
        for number, (mutant, verdict, why) in enumerate(runs, 1):
            outcome[verdict].append((mutant, why))
            print(f"[{number}/{len(sample)}] {verdict:<9} {mutant.id} ({why})", flush=True)
    killed, survived = len(outcome["killed"]), len(outcome["survived"])
    equivalent = [m for m, _ in outcome["survived"] if m.id in explained]
    scored = killed + survived - len(equivalent)
    score = 100 * killed / scored if scored else 100.0
    print(
        f"\nsample {len(sample)} · killed {killed} · survived {survived} (equivalent {len(equivalent)}) · "
        f"stillborn {len(outcome['stillborn'])} · score {score:.0f}% of non-equivalent mutants killed "
        f"({killed}/{scored}) · {time.perf_counter() - started:.0f} s"
    )
    for mutant, _ in outcome["survived"]:
        if mutant.id not in explained:
            line = (ROOT / mutant.file).read_text(encoding="utf-8").splitlines()[mutant.line - 1].strip()
            print(f"survivor {mutant.file}:{mutant.line} {mutant.kind}#{mutant.index}: {line}")


if __name__ == "__main__":
    main(sys.argv[1:])
