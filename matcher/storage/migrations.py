"""Explicit, named schema migrations (sqlite-utils Migrations). Append; never edit applied ones."""

from __future__ import annotations

import sqlite_utils
from sqlite_utils import Migrations

migrations = Migrations("cartmatch")


@migrations()
def m001_catalog(db: sqlite_utils.Database) -> None:
    """Current entries, every version of every entry, rules, the refresh log, metadata."""
    db["meta"].create({"key": str, "value": str}, pk="key", not_null={"value"})
    db["refreshes"].create(
        {
            "id": int,
            "at": str,
            "kind": str,
            "source": str,
            "content_hash": str,
            "summary": str,
            "diff": str,
        },
        pk="id",
        not_null={"at", "kind", "source"},
    )
    db["entries"].create(
        {
            "id": str,
            "version": int,
            "content_hash": str,
            "body": str,
            "origin": str,
            "bundle_hash": str,
            "refresh_id": int,
            "updated_at": str,
        },
        pk="id",
        not_null={"version", "content_hash", "body", "origin"},
        foreign_keys=[("refresh_id", "refreshes", "id")],
    )
    db["entry_versions"].create(
        {
            "entry_id": str,
            "version": int,
            "content_hash": str,
            "body": str,
            "change": str,
            "refresh_id": int,
            "recorded_at": str,
        },
        pk=("entry_id", "version"),
        not_null={"change", "recorded_at"},
        foreign_keys=[("refresh_id", "refreshes", "id")],
    )
    db["entry_versions"].create_index(["refresh_id"])
    db["rules"].create({"name": str, "body": str}, pk="name", not_null={"body"})


@migrations()
def m002_screening(db: sqlite_utils.Database) -> None:
    """Bulk screening runs and, per referral, its profile and the options it was shown.

    Profiles are patient data: they are stored only when a run is saved (not with --no-save),
    in a file readable by its owner only, so that a catalog refresh can tell which referrals
    now have a different set of options.
    """
    db["screening_runs"].create(
        {
            "id": int,
            "at": str,
            "input_name": str,
            "input_hash": str,
            "catalog_version": str,
            "include_all": int,
            "rows_in": int,
            "rows_screened": int,
            "rows_rejected": int,
            "summary": str,
        },
        pk="id",
        not_null={"at", "input_hash", "catalog_version", "rows_in"},
    )
    db["screening_referrals"].create(
        {"run_id": int, "row_number": int, "referral_id": str, "profile": str, "options": str},
        pk=("run_id", "row_number"),
        not_null={"profile", "options"},
        foreign_keys=[("run_id", "screening_runs", "id")],
    )


@migrations()
def m003_registry_records(db: sqlite_utils.Database) -> None:
    """Raw registry records (ClinicalTrials.gov JSON) behind imported or updated entries.

    One row per study version seen by an applied refresh; kept for review and re-import,
    never shown in a match.
    """
    db["registry_records"].create(
        {
            "id": int,
            "registry": str,
            "record_id": str,
            "entry_ids": str,
            "version_date": str,
            "content_hash": str,
            "body": str,
            "refresh_id": int,
            "recorded_at": str,
        },
        pk="id",
        not_null={"registry", "record_id", "content_hash", "body", "recorded_at"},
        foreign_keys=[("refresh_id", "refreshes", "id")],
    )
    db["registry_records"].create_index(["record_id"])


@migrations()
def m004_users(db: sqlite_utils.Database) -> None:
    """The web app's team (`cartmatch users add`, `cartmatch serve`) and its audit log.

    Passwords are stored as argon2 hashes only. The audit log says who changed what and when
    (users, catalog refreshes, uploads); it names no patient.
    """
    db["users"].create(
        {
            "id": int,
            "name": str,
            "role": str,
            "password_hash": str,
            "created_at": str,
            "created_by": str,
            "disabled": int,
        },
        pk="id",
        not_null={"name", "role", "password_hash", "created_at"},
        defaults={"disabled": 0},
    )
    db["users"].create_index(["name"], unique=True)
    db["audit_log"].create(
        {"id": int, "at": str, "user_name": str, "action": str, "subject": str, "detail": str},
        pk="id",
        not_null={"at", "action"},
    )


@migrations()
def m005_cases(db: sqlite_utils.Database) -> None:
    """Cases: each saved referral followed up (status, notes, what the family was last told,
    what the catalog last gave it, every change of its options), for call-backs.

    A case is keyed by its referral id (or "run R row N" without one) and points at its latest
    saved referral row, which holds the profile. `told` is the baseline (the options as the
    family last heard them), `seen` the options at the latest re-check; both are JSON objects
    "entry_id/indication_id" -> [status, enrolment, cost_low_cny, cost_high_cny]. Every change
    to a case is a `case_events` row with who and when; `case_matches` keeps each result that
    differed from the one before. Saved referrals from before this migration get their cases
    when cases are next read (`CaseStore.sync`).
    """
    db["cases"].create(
        {
            "id": int,
            "key": str,
            "referral_id": str,
            "status": str,
            "run_id": int,
            "row_number": int,
            "include_all": int,
            "contact": str,
            "told": str,
            "told_at": str,
            "seen": str,
            "seen_at": str,
            "seen_refresh": int,
            "changed_at": str,
            "changed_refresh": int,
            "created_at": str,
            "created_by": str,
            "updated_at": str,
        },
        pk="id",
        not_null={"key", "status", "told", "seen", "created_at", "updated_at"},
    )
    db["cases"].create_index(["key"], unique=True)
    db["cases"].create_index(["status"])
    db["case_events"].create(
        {
            "id": int,
            "case_id": int,
            "at": str,
            "by": str,
            "kind": str,
            "from_status": str,
            "to_status": str,
            "text": str,
            "refresh_id": int,
        },
        pk="id",
        not_null={"case_id", "at", "kind"},
        foreign_keys=[("case_id", "cases", "id")],
    )
    db["case_events"].create_index(["case_id"])
    db["case_matches"].create(
        {
            "id": int,
            "case_id": int,
            "at": str,
            "by": str,
            "refresh_id": int,
            "source": str,
            "options": str,
        },
        pk="id",
        not_null={"case_id", "at", "source", "options"},
        foreign_keys=[("case_id", "cases", "id")],
    )
    db["case_matches"].create_index(["case_id"])
    db["screening_referrals"].create_index(["referral_id"])


@migrations()
def m006_case_checks(db: sqlite_utils.Database) -> None:
    """The refresh each case was last checked against, in a narrow table of its own.

    A re-check marks every open case as checked against the current refresh; kept on the case
    row (`cases.seen_refresh`, now the refresh at saving) that rewrote every case (100,000 of
    them: about 100 MB written), here it is a small write.
    """
    db["case_checks"].create(
        {"case_id": int, "refresh_id": int},
        pk="case_id",
        foreign_keys=[("case_id", "cases", "id")],
    )
    db.execute("INSERT INTO case_checks (case_id, refresh_id) SELECT id, seen_refresh FROM cases")
