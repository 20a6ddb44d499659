"""Reads for reports: the referrals one saved screening run holds, in row order."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from matcher.storage.db import reading


def run_referrals(path: Path, run_id: int) -> list[tuple[int, str | None, str]]:
    """(row number, referral id, profile JSON) of every referral saved with run `run_id`;
    empty when the run does not exist or saved none."""
    with reading(path) as conn:
        try:
            rows = conn.execute(
                "SELECT row_number, referral_id, profile FROM screening_referrals "
                "WHERE run_id = ? ORDER BY row_number",
                (run_id,),
            ).fetchall()
        except sqlite3.OperationalError:
            return []
    return [(int(r[0]), r[1], str(r[2])) for r in rows]
