"""Scenarios the checks share: dossiers driven through the SUT by lawful actions."""

from __future__ import annotations

from dataclasses import dataclass

from harness.drivers import DossierView, Driver
from harness.verdicts import Failure


@dataclass(frozen=True)
class Scenario:
    dossier: DossierView  # as the SUT shows it at the end of the scenario
    actions: tuple[str, ...]


def drive_actions(driver: Driver, code: str, actions: tuple[str, ...], *, to_agency: str | None = None) -> None:
    """Applies lawful actions in order; a lawful action refused is the SUT's failure."""
    for action in actions:
        result = driver.act(code, action, to_agency=to_agency)
        if not result.accepted:
            raise Failure(
                f"the SUT refused the lawful action {action!r} on {code}",
                expected=f"{action} accepted (harness/data/lifecycle.yaml)",
                received=f"HTTP {result.http_status}: {result.message}",
            )


def drive(driver: Driver, procedure_code: str, actions: tuple[str, ...]) -> Scenario:
    """Submits a dossier online and applies lawful actions."""
    dossier = driver.submit(procedure_code)
    drive_actions(driver, dossier.code, actions)
    return Scenario(driver.get(dossier.code), actions)
