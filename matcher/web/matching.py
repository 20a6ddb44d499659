"""Matching a referral for the web app, off the event loop: in worker processes (one per core,
so a team matching at once uses every core, not one behind the GIL) or, with no workers, on a
thread. Workers read the catalog from the database once per version, as the app does."""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import Executor, ProcessPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

from matcher.core.catalog import Catalog
from matcher.core.engine import MatchResult, match
from matcher.core.patient import load_patient
from matcher.storage.catalog_store import read_catalog
from matcher.storage.db import meta, reading

#: A worker process's catalog, by (version, refresh id): read again after a refresh.
_CATALOG: dict[tuple[str, str], Catalog] = {}


def match_result(
    catalog: Catalog, raw: dict[str, Any], include_all: bool, city: str, today: date
) -> MatchResult:
    """One referral matched as `cartmatch match` matches it (--all, --city)."""
    patient, warnings = load_patient(raw, catalog.lexicon, today, source="the form")
    place = catalog.place(city)
    return match(
        patient, catalog, warnings=warnings, include_all=include_all, place=place, today=today
    )


def report_pdf(
    catalog: Catalog, raw: dict[str, Any], audience: str, lang: str, today: date
) -> bytes:
    """The family or MDT report (issue #15) as PDF bytes: matched with every option (the
    report counts the ineligible ones too). Never written to disk here."""
    from matcher.report.content import ReportRequest, build_report
    from matcher.report.document import pdf_bytes, render_html

    result = match_result(catalog, raw, True, "", today)
    content = build_report(result, catalog, ReportRequest(audience, lang, "CNY", today))
    return pdf_bytes(render_html(content))


def _worker_catalog(db_path: str) -> Catalog:
    """A worker process's catalog, read again when a refresh changed it."""
    with reading(Path(db_path)) as conn:
        info = meta(conn)
        key = (info.get("catalog_version") or "", info.get("refresh_id") or "")
        if key not in _CATALOG:
            _CATALOG.clear()
            _CATALOG[key] = read_catalog(conn)
    return _CATALOG[key]


def match_in_worker(
    db_path: str, raw: dict[str, Any], include_all: bool, city: str, today: date
) -> dict[str, Any]:
    """In a worker process: the match result in its JSON shape (DESIGN section 8)."""
    return match_result(_worker_catalog(db_path), raw, include_all, city, today).as_dict()


def report_in_worker(
    db_path: str, raw: dict[str, Any], audience: str, lang: str, today: date
) -> bytes:
    """In a worker process: the report's PDF bytes."""
    return report_pdf(_worker_catalog(db_path), raw, audience, lang, today)


def default_workers() -> int:
    """One matching process per core this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def worker_pool(workers: int) -> Executor | None:
    """Processes started fresh (spawn: never a fork of a process running threads); None
    when `workers` is 0, to match on a thread of the app's own process."""
    if workers < 1:
        return None
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
