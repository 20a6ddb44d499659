"""Saved referrals for the case and call-back tests: a small screened file, its rows, and
catalog changes that touch one of its options (synthetic data, no real patient)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from matcher.cli import cli
from tests.conftest import TODAY

#: Three referrals with a carried contact column; the HCC one has open trials, the DLBCL one
#: axi-cel (a list price), the myeloma one neither of those.
REFERRALS = (
    "referral_id,diagnosis,age,prior_lines,status,contact_phone\n"
    "CASE-HCC,hepatocellular carcinoma,50,,,+86 138 0000 0001\n"
    "CASE-DLBCL,DLBCL,54,2,refractory,+86 138 0000 0002\n"
    "CASE-MM,multiple myeloma,60,3,relapsed,+86 138 0000 0003\n"
)


def invoke(runner: Any, *args: Any) -> Any:
    return runner.invoke(cli, [str(a) for a in args])


def screened(runner: Any, folder: Path) -> None:
    """The referrals screened and saved (their cases made) as `cartmatch screen` does."""
    source = folder / "referrals.csv"
    source.write_text(REFERRALS, encoding="utf-8")
    result = invoke(runner, "screen", source, "-o", folder / "out.csv", "--today", TODAY)
    assert result.exit_code == 0, result.output


def rows(db: Path, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, args).fetchall()


def case_row(db: Path, key: str) -> dict[str, Any]:
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        row = conn.execute("SELECT * FROM cases WHERE key = ?", [key]).fetchone()
    data = dict(row)
    data["told"], data["seen"] = states(data["told"]), states(data["seen"])
    return data


#: What each place of a stored option holds.
STATE = ("status", "enrolment", "cost_low_cny", "cost_high_cny")


def states(text: str) -> dict[str, dict[str, Any]]:
    """Stored options ([status, enrolment, cost low, cost high]) as dicts, to read in tests."""
    return {k: dict(zip(STATE, v, strict=False)) for k, v in json.loads(text).items()}


def refresh(runner: Any, folder: Path, sheet: str, name: str = "sheet.csv") -> dict[str, Any]:
    """Apply a refresh sheet; its JSON (with the call-back report under `referrals`)."""
    path = folder / name
    path.write_text(sheet, encoding="utf-8")
    result = invoke(
        runner, "catalog", "refresh", path, "--apply", "--today", TODAY, "--format", "json"
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def price(entry_id: str, cny: int) -> str:
    return f"id,list_price_cny,source,as_of\n{entry_id},{cny},Price letter,2026-11-20\n"


def closing(entry_id: str) -> str:
    return f"id,status,source,as_of\n{entry_id},closed,Site letter,2026-11-22\n"


def a_trial_of(db: Path, key: str) -> str:
    """An open trial among a case's options (an entry a closure would take away)."""
    from matcher.curation.bundle import open_catalog

    catalog = open_catalog(db)
    for option, state in sorted(case_row(db, key)["seen"].items()):
        entry = catalog.entry(option.partition("/")[0])
        if entry.track in ("iit", "registrational_trial") and state["enrolment"] == "open":
            return entry.id
    raise AssertionError(f"{key} has no open trial")
