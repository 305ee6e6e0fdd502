"""The history's side files: the agency registry, the procedure catalog and the transaction log."""

from __future__ import annotations

import json
import random
from array import array
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

from harness.metrics.synth.figures import (
    AGENCIES,
    EXTRA_PROCEDURES,
    USED_PROCEDURES,
    SynthSummary,
    count,
    exact_split,
    select_exactly,
)


def write_agencies(path: Path) -> None:
    rows = [{"code": code, "name": name, "level": level} for code, name, level in AGENCIES]
    path.write_text(json.dumps(rows, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def write_procedures(
    path: Path, year: int, targets: Mapping[str, float], rng: random.Random, summary: SynthSummary
) -> None:
    """Two independent sets, so that both targets are exact. The procedures dossiers use are online (eligibility not
    recorded): the portal target is met by which are listed on the portal, the denominator made exact by publishing
    the rest after the year. The extra procedures are eligible with no publication date recorded: the online-services
    target is met by which are offered online and listed, the denominator made exact by publishing the rest later."""
    den_portal, num_portal = exact_split(USED_PROCEDURES, targets["portal"])
    listed = set(rng.sample(range(den_portal), num_portal))
    den_offer, num_offer = exact_split(EXTRA_PROCEDURES, targets["online-services"])
    offered = set(rng.sample(range(den_offer), num_offer))
    rows = []
    for p in range(USED_PROCEDURES):
        rows.append({
            "MaTTHC": f"1.{p + 1:06d}", "TenTTHC": f"Thủ tục số {p + 1}",
            "online_level": "toan-trinh" if p % 3 else "3",
            "fee_bearing": p % 2 == 0, "eligible_online": None,
            "published_on": f"{year - 1}-06-01" if p < den_portal else f"{year + 1}-03-01",
            "portal_listed_on": f"{year - 1}-07-01" if p in listed else None,
        })
    for e in range(EXTRA_PROCEDURES):
        rows.append({
            "MaTTHC": f"2.{e + 1:06d}", "TenTTHC": f"Thủ tục khác số {e + 1}",
            "online_level": "4" if e in offered else "2", "fee_bearing": False, "eligible_online": True,
            "published_on": None if e < den_offer else f"{year + 1}-03-01",
            "portal_listed_on": f"{year - 1}-09-01" if e in offered else None,
        })
    path.write_text(json.dumps(rows, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    summary.counts[("portal.integrated-on-publication", "all")] = (num_portal, den_portal)
    summary.counts[("online-services.eligible-offered", "all")] = (num_offer, den_offer)


def write_transactions(
    path: Path, summary: SynthSummary, n: int, year: int, agency_of: array, in_year: array, tx_count: array,
    transfer_kind: array, paid_flags: array, days: list[date], previous_days: list[date], auth_target: float,
    rng: random.Random, tally: dict[tuple[str, str], list[int]],
) -> None:
    # Each in-year dossier has one "status" transaction; the few that must leave the year's denominator (to make it
    # exact) are status transactions dated the year before, so transfers and payments always stay in the year.
    in_year_total = sum(tx_count[i] for i in range(n) if in_year[i])
    den_auth, num_auth = exact_split(in_year_total, auth_target)
    statuses = sum(1 for i in range(n) if in_year[i])
    keep = select_exactly(statuses, statuses - (in_year_total - den_auth), rng)
    good = select_exactly(den_auth, num_auth, rng)
    written = 0
    with path.open("w", encoding="utf-8") as out:
        for i in range(n):
            current = bool(in_year[i])
            day_list = days if current else previous_days
            day = day_list[i * len(day_list) // n]
            code = f"{AGENCIES[agency_of[i]][0]}-{day:%y%m%d}-{i % 100000:05d}"
            actions = ["create", "status"] + (["transfer"] if transfer_kind[i] else []) + (
                ["payment"] if paid_flags[i] else [])
            for k, action in enumerate(actions):
                when, authenticated = day, True
                if current:
                    if action != "status" or next(keep):
                        authenticated = next(good)
                        count(tally, ("auth.authenticated-transactions", "all"), authenticated)
                    else:
                        when = previous_days[-1]
                record: dict[str, Any] = {
                    "id": f"T{i:08d}-{k}", "at": f"{when:%Y%m%d}1{k}0000", "action": action, "MaHoSo": code,
                    "subject": f"user-{i % 977}" if authenticated else None,
                    "assurance": "LoA2" if authenticated else None,
                }
                if action == "transfer":
                    record["transfer_method"] = "electronic" if transfer_kind[i] == 1 else "paper"
                out.write(json.dumps(record, separators=(",", ":")) + "\n")
                written += 1
    summary.transactions_written = written

