"""Cases: each saved referral followed up, with who changed what and when.

A case is a saved referral (its latest `screening_referrals` row holds the profile) with a
status a coordinator moves along, dated notes, what the family was last told (`told`, the
baseline of call-backs), what the catalog last gave it (`seen`) and the history of its
matches. Every write names who made it (`by`): the OS user on the command line, the signed-in
user in a web app. `CaseStore` is handed a connection: inside `db.writing` for writes (one
transaction), `db.reading` for reads. Models are the API; rows map to them in `_case`/`_event`.
"""

from __future__ import annotations

import getpass
import json
import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import Field

from matcher.errors import CartmatchError, NotFoundError
from matcher.model.base import Frozen
from matcher.storage.db import canonical_json, now_iso

#: The statuses of a case, in the order a coordinator moves it along.
CASE_STATUSES = (
    "new",
    "records_requested",
    "under_review",
    "options_sent",
    "contacted",
    "enrolled",
    "declined",
    "not_eligible",
    "closed",
)
#: A case is open (followed up, called back) until it reaches an outcome.
OPEN_STATUSES = CASE_STATUSES[:5]


class CaseError(CartmatchError):
    """A change a case cannot take (an unknown status, a move backwards without --back)."""


class OptionState(Frozen):
    """One option of a case as it was shown: what a call-back compares."""

    status: str
    enrolment: str | None = None
    cost_low_cny: float | None = None
    cost_high_cny: float | None = None


class Case(Frozen):
    """A saved referral followed up."""

    id: int
    key: str
    """The referral id, or "run R row N" for a referral saved without one."""
    referral_id: str | None
    status: str
    run_id: int | None
    row_number: int | None
    include_all: bool
    contact: dict[str, str] = Field(default_factory=dict)
    """The columns `screen` carried through (contact details), as given."""
    told: dict[str, OptionState]
    """The options as the family last heard them (at saving, or at `cases notified`)."""
    told_at: str | None
    seen: dict[str, OptionState]
    """The options at the latest re-check."""
    seen_at: str | None
    seen_refresh: int | None
    """The catalog refresh the case was last checked against (None: never re-checked)."""
    changed_at: str | None
    changed_refresh: int | None
    created_at: str
    created_by: str | None
    updated_at: str

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class CaseEvent(Frozen):
    """One change to a case: created, saved again, status, note, notified, options changed."""

    id: int
    case_id: int
    at: str
    by: str | None
    kind: str
    from_status: str | None = None
    to_status: str | None = None
    text: str | None = None
    refresh_id: int | None = None


class Callback(Frozen):
    """An open case whose options differ from what the family was last told."""

    case_id: int
    key: str
    referral_id: str | None
    status: str
    changes: list[str]
    """Each change in words ("new option x/y (eligible)")."""
    changed_refresh: int | None
    told_at: str | None
    contact: dict[str, str] = Field(default_factory=dict)


def current_user() -> str:
    """Who is making a change from the command line: the OS user name."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (some containers)
        return "unknown"


_COLUMNS = (
    "id, key, referral_id, status, run_id, row_number, include_all, contact, told, told_at, "
    "seen, seen_at, seen_refresh, changed_at, changed_refresh, created_at, created_by, updated_at"
)
#: A saved referral's case key: its referral id, else its place in its run.
KEY_SQL = "coalesce(r.referral_id, 'run ' || r.run_id || ' row ' || r.row_number)"


#: The columns read, with the refresh a case was last checked against from its own table.
_SELECT = _COLUMNS.replace(
    "seen_refresh", "(SELECT refresh_id FROM case_checks k WHERE k.case_id = cases.id)"
)


def snapshot(text: str | None) -> dict[str, OptionState]:
    """Options as stored: "entry/indication" -> [status, enrolment, cost low, cost high]
    (status only for a referral saved before cases existed)."""
    stored = json.loads(text or "{}").items()
    return {k: OptionState(**dict(zip(_STATE, listed(v), strict=False))) for k, v in stored}


def listed(state: Any) -> list[Any]:
    """A stored option as a list (an object, as the first builds of this day wrote it, too)."""
    if isinstance(state, dict):
        return [state[name] for name in _STATE if name in state]
    return list(state)


def listed_all(options: dict[str, Any]) -> dict[str, list[Any]]:
    """Every option of a case as a list (as stored, unless it was stored as an object)."""
    if not any(type(state) is dict for state in options.values()):
        return options
    return {key: listed(state) for key, state in options.items()}


_STATE = ("status", "enrolment", "cost_low_cny", "cost_high_cny")


def _case(row: Sequence[Any]) -> Case:
    data = dict(zip(_COLUMNS.split(", "), row, strict=True))
    data["include_all"] = bool(data["include_all"])
    data["contact"] = json.loads(data["contact"] or "{}")
    data["told"], data["seen"] = snapshot(data["told"]), snapshot(data["seen"])
    return Case(**data)


def _event(row: Sequence[Any]) -> CaseEvent:
    keys = ("id", "case_id", "at", "by", "kind", "from_status", "to_status", "text", "refresh_id")
    return CaseEvent(**dict(zip(keys, row, strict=True)))


def legacy_snapshot(options: str | None) -> str:
    """A snapshot from a saved run's options ("entry/indication:status"): status only."""
    states = {}
    for option in json.loads(options or "[]"):
        key, _, status = option.rpartition(":")
        states[key] = [status]
    return canonical_json(states)


class CaseStore:
    """Cases, read and written through a connection it is handed."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    # -- reading ----------------------------------------------------------------------------

    def get(self, ref: str | int) -> Case:
        """A case by its referral id (its key) or its case number."""
        row = self.conn.execute(f"SELECT {_SELECT} FROM cases WHERE key = ?", [str(ref)])
        found = row.fetchone()
        if found is None and str(ref).strip().lstrip("#").isdigit():
            number = int(str(ref).strip().lstrip("#"))
            if number < 1 << 63:
                found = self.conn.execute(
                    f"SELECT {_SELECT} FROM cases WHERE id = ?", [number]
                ).fetchone()
        if found is None:
            raise NotFoundError(
                f"no case '{ref}': give a referral id or a case number (`cartmatch cases list`)"
            )
        return _case(found)

    def cases(
        self,
        *,
        status: Sequence[str] = (),
        entry: str | None = None,
        changed_since: str | None = None,
        open_only: bool = False,
    ) -> list[Case]:
        """Cases, oldest first, with the filters given (an entry: an option on it now)."""
        where, args = ["1"], []
        if status:
            where.append(f"status IN ({', '.join('?' * len(status))})")
            args += list(status)
        if open_only:
            where.append(f"status IN ({', '.join('?' * len(OPEN_STATUSES))})")
            args += list(OPEN_STATUSES)
        if entry:
            where.append("EXISTS (SELECT 1 FROM json_each(seen) WHERE key LIKE ? ESCAPE '\\')")
            args.append(entry.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "/%")
        if changed_since:
            where.append("changed_at >= ?")
            args.append(changed_since)
        rows = self.conn.execute(
            f"SELECT {_SELECT} FROM cases WHERE {' AND '.join(where)} ORDER BY id", args
        )
        return [_case(row) for row in rows.fetchall()]

    def events(self, case_id: int) -> list[CaseEvent]:
        rows = self.conn.execute(
            "SELECT id, case_id, at, by, kind, from_status, to_status, text, refresh_id "
            "FROM case_events WHERE case_id = ? ORDER BY id",
            [case_id],
        )
        return [_event(row) for row in rows.fetchall()]

    def matches(self, case_id: int) -> list[dict[str, Any]]:
        """The case's history of matches: each result that differed from the one before."""
        rows = self.conn.execute(
            "SELECT at, by, refresh_id, source, options FROM case_matches WHERE case_id = ? "
            "ORDER BY id",
            [case_id],
        )
        return [
            {"at": at, "by": by, "refresh_id": rid, "source": source, "options": snapshot(text)}
            for at, by, rid, source, text in rows.fetchall()
        ]

    def profile(self, case: Case) -> dict[str, Any]:
        row = self.conn.execute(
            "SELECT profile FROM screening_referrals WHERE run_id = ? AND row_number = ?",
            [case.run_id, case.row_number],
        ).fetchone()
        return json.loads(row[0]) if row else {}

    def counts(self) -> dict[str, int]:
        """How many cases, and how many of them open."""
        marks = ", ".join("?" * len(OPEN_STATUSES))
        row = self.conn.execute(
            f"SELECT count(*), count(*) FILTER (WHERE status IN ({marks})) FROM cases",
            list(OPEN_STATUSES),
        ).fetchone()
        return {"all": int(row[0]), "open": int(row[1] or 0)}

    # -- coordinator's changes ---------------------------------------------------------------

    def set_status(self, ref: str, to: str, by: str, *, back: bool = False) -> Case:
        """Move a case to status `to`: forwards, or backwards (and re-opening) with `back`."""
        case = self.get(ref)
        if to not in CASE_STATUSES:
            raise CaseError(f"unknown case status '{to}': use one of {', '.join(CASE_STATUSES)}")
        if to == case.status:
            raise CaseError(f"case {case.key} is already {to}")
        if _order(to) < _order(case.status) and not back:
            raise CaseError(
                f"case {case.key} is {case.status}; moving it back to {to} needs --back"
            )
        at = now_iso()
        self.conn.execute(
            "UPDATE cases SET status = ?, updated_at = ? WHERE id = ?", [to, at, case.id]
        )
        self._log(case.id, by, "status", at, from_status=case.status, to_status=to)
        return self.get(case.key)

    def add_note(self, ref: str, text: str, by: str) -> CaseEvent:
        case = self.get(ref)
        if not text.strip():
            raise CaseError("a note needs some text")
        at = now_iso()
        self.conn.execute("UPDATE cases SET updated_at = ? WHERE id = ?", [at, case.id])
        self._log(case.id, by, "note", at, text=text.strip())
        return self.events(case.id)[-1]

    def notified(self, refs: Iterable[str], by: str) -> list[Case]:
        """The families were told their options as last seen: that is the new baseline."""
        cases = [self.get(ref) for ref in refs]
        at = now_iso()
        for case in cases:
            self.conn.execute(
                "UPDATE cases SET told = seen, told_at = ?, updated_at = ? WHERE id = ?",
                [at, at, case.id],
            )
            self._log(case.id, by, "notified", at, refresh_id=case.seen_refresh)
        return [self.get(case.key) for case in cases]

    def _log(self, case_id: int, by: str | None, kind: str, at: str, **fields: Any) -> None:
        self.conn.execute(
            "INSERT INTO case_events (case_id, at, by, kind, from_status, to_status, text, "
            "refresh_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                case_id,
                at,
                by,
                kind,
                fields.get("from_status"),
                fields.get("to_status"),
                fields.get("text"),
                fields.get("refresh_id"),
            ],
        )


def _order(status: str) -> int:
    return CASE_STATUSES.index(status) if status in CASE_STATUSES else -1


__all__ = [
    "CASE_STATUSES",
    "KEY_SQL",
    "OPEN_STATUSES",
    "Callback",
    "Case",
    "CaseError",
    "CaseEvent",
    "CaseStore",
    "OptionState",
    "current_user",
    "legacy_snapshot",
    "snapshot",
]
