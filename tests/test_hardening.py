"""Hostile and broken input against the catalog and the database: refused with one sentence,
nothing written, nothing lost (issue: hardening)."""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
from pathlib import Path

import pytest

from matcher.cli import cli
from matcher.curation.bundle import open_catalog
from matcher.errors import StoreError
from matcher.storage.db import KNOWN_MIGRATIONS, open_db, write_transaction
from matcher.storage.migrations import migrations
from tests.test_refresh import invoke, refresh_ids


@pytest.fixture
def built(db_path) -> Path:
    open_catalog(db_path)
    return db_path


def _sheet(tmp_path: Path, price: str, name: str = "prices.csv") -> Path:
    sheet = tmp_path / name
    sheet.write_text(f"id,list_price_cny,source,as_of\naxi-cel,{price},Notice,2026-11-20\n")
    return sheet


@pytest.mark.parametrize(
    "price", ["inf", "1e309", "9" * 400, "-inf", "nan", "1e12", "36000001"], ids=str.__len__
)
def test_an_absurd_price_in_a_refresh_sheet_is_refused_and_changes_nothing(
    runner, built, tmp_path, price
):
    before = refresh_ids(built)
    result = invoke(runner, "catalog", "refresh", _sheet(tmp_path, f'"{price}"'), "--apply")
    assert result.exit_code == 1, result.output
    assert "list_price_cny" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert refresh_ids(built) == before
    # and matching still works: nothing was written that could break ranking
    assert invoke(runner, "match", "--diagnosis", "DLBCL", "--prior-lines", "2").exit_code == 0


def test_a_plausible_price_change_still_applies(runner, built, tmp_path):
    result = invoke(runner, "catalog", "refresh", _sheet(tmp_path, "1100000"), "--apply")
    assert result.exit_code == 0, result.output


def _two_refreshes_of_one_entry(runner, tmp_path) -> None:
    for n, price in enumerate(("1100000", "1000000")):
        sheet = _sheet(tmp_path, price, f"p{n}.csv")
        assert invoke(runner, "catalog", "refresh", sheet, "--apply").exit_code == 0


def _price(runner) -> str:
    shown = invoke(runner, "show", "axi-cel").stdout
    return next(line for line in shown.splitlines() if "price" in line.casefold())


def test_refreshes_roll_back_newest_first_in_a_row(runner, built, tmp_path):
    original = _price(runner)
    _two_refreshes_of_one_entry(runner, tmp_path)  # refreshes 2 and 3
    assert invoke(runner, "catalog", "rollback", 3).exit_code == 0
    second = invoke(runner, "catalog", "rollback", 2)
    assert second.exit_code == 0, second.stderr
    assert _price(runner) == original


def test_an_out_of_order_rollback_names_the_refresh_to_roll_back_first(runner, built, tmp_path):
    _two_refreshes_of_one_entry(runner, tmp_path)
    result = invoke(runner, "catalog", "rollback", 2)
    assert result.exit_code == 1 and "roll back refresh 3 first" in result.stderr


def test_a_refresh_is_rolled_back_once_and_a_rollback_can_be_undone(runner, built, tmp_path):
    _two_refreshes_of_one_entry(runner, tmp_path)
    changed = _price(runner)
    assert invoke(runner, "catalog", "rollback", 3).exit_code == 0  # refresh 4
    again = invoke(runner, "catalog", "rollback", 3)
    assert again.exit_code == 1 and "already been rolled back" in again.stderr
    assert invoke(runner, "catalog", "rollback", 4).exit_code == 0  # redo refresh 3
    assert _price(runner) == changed


# -- the database ---------------------------------------------------------------------------


def _damaged(built: Path, tmp_path: Path) -> Path:
    conn = sqlite3.connect(built)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    (root,) = conn.execute(
        "SELECT rootpage FROM sqlite_master WHERE name = 'entry_versions'"
    ).fetchone()
    (size,) = conn.execute("PRAGMA page_size").fetchone()
    conn.close()
    bad = tmp_path / "damaged.db"
    shutil.copy(built, bad)
    with open(bad, "r+b") as handle:
        handle.seek(size * (root - 1) + 8)
        handle.write(b"\x00\x09\xff\xff" * 30)
    return bad


def test_db_check_passes_a_sound_database(runner, built):
    result = invoke(runner, "db", "check")
    assert result.exit_code == 0 and "ok" in result.stdout


def test_a_damaged_database_is_reported_and_never_written(runner, built, tmp_path):
    bad = _damaged(built, tmp_path)
    before = bad.read_bytes()
    result = runner.invoke(cli, ["--db", str(bad), "db", "check"])
    assert result.exit_code == 1 and "is damaged" in result.stderr
    with pytest.raises(StoreError, match="will not write"):
        open_db(bad)
    assert bad.read_bytes() == before


def test_db_backup_is_private_complete_and_never_overwrites(runner, built, tmp_path):
    target = tmp_path / "backup.db"
    assert invoke(runner, "db", "backup", target).exit_code == 0
    assert target.stat().st_mode & 0o777 == 0o600
    assert runner.invoke(cli, ["--db", str(target), "db", "check"]).exit_code == 0
    again = invoke(runner, "db", "backup", target)
    assert again.exit_code == 1 and "already exists" in again.stderr
    assert not list(tmp_path.glob(".*.partial"))


def test_a_database_readable_by_others_is_made_private(runner, built):
    built.chmod(0o644)
    assert invoke(runner, "lookup", "BCMA").exit_code == 0
    assert built.stat().st_mode & 0o777 == 0o600


def test_a_database_from_a_newer_cartmatch_is_refused(runner, built):
    conn = sqlite3.connect(built)
    conn.execute(
        "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
        "VALUES ('cartmatch', 'm999_future', '2030-01-01')"
    )
    conn.commit()
    conn.close()
    result = invoke(runner, "match", "--diagnosis", "DLBCL")
    assert result.exit_code == 1 and "newer cartmatch" in result.stderr


def test_the_known_migrations_are_the_migrations():
    assert tuple(m.name for m in migrations._migrations) == KNOWN_MIGRATIONS


def test_a_read_only_database_is_one_sentence_and_nothing_written(built):
    import sqlite_utils

    conn = sqlite3.connect(f"file:{built}?mode=ro", uri=True, isolation_level=None)
    db = sqlite_utils.Database(conn)
    with pytest.raises(StoreError, match=r"read-only|readonly"), write_transaction(db):
        db["meta"].insert({"key": "x", "value": "y"})
    conn.close()


# -- one referral from a file or flags ------------------------------------------------------


def _one_line_error(result) -> str:
    assert result.exit_code in (1, 2), result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 or lines[0].startswith("Usage:"), result.stderr
    return result.stderr


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("[" * 3000 + "]" * 3000, "nested 3,000 levels"),
        ('{"diagnosis": "DLBCL", "age": ' + "9" * 5000 + "}", "too long to read"),
        ('{"diagnosis": "' + "lymphoma " * 100_000 + '"}', "over the limit of 2,000"),
        ('{"diagnosis": "DLBCL", "x": "' + "y" * (1 << 20) + '"}', "CARTMATCH_MAX_PROFILE_BYTES"),
    ],
    ids=["deep", "bigint", "long-diagnosis", "big-file"],
)
def test_a_hostile_profile_file_is_one_sentence(runner, built, tmp_path, text, says):
    path = tmp_path / "profile.json"
    path.write_text(text)
    error = _one_line_error(invoke(runner, "match", path))
    assert says in error and len(error) < 400  # the value is never echoed whole


def test_a_device_or_pipe_is_refused_not_read_forever(runner, built, tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    for path in ("/dev/zero", fifo):
        assert "not a regular file" in _one_line_error(invoke(runner, "match", path))


def test_an_implausible_exchange_rate_is_a_usage_error(runner, built):
    for rate in ("1e-320", "0", "1e308"):
        result = invoke(runner, "match", "--diagnosis", "DLBCL", "--fx", rate)
        assert result.exit_code == 2 and "--fx" in result.stderr


def test_a_refresh_id_beyond_any_integer_is_not_found(runner, built):
    for args in (("catalog", "rollback"), ("catalog", "diff", "--refresh")):
        error = _one_line_error(invoke(runner, *args, "9" * 25))
        assert "no refresh" in error


# -- output that cannot be turned against its reader ---------------------------------------


def test_terminal_output_shows_escape_codes_instead_of_running_them(runner, built):
    result = invoke(runner, "match", "--diagnosis", "DLBCL", "--referral-id", "R1\x1b[2J\x07")
    assert result.exit_code == 0
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert "R1\\x1b[2J\\x07" in result.stdout


def test_markdown_output_is_inert_whatever_the_text(runner, built):
    hostile = "<script>alert(1)</script> [call](javascript:alert(1)) | ` *x*"
    result = invoke(
        runner, "match", "--diagnosis", "DLBCL", "--referral-id", hostile, "--format", "markdown"
    )
    heading = result.stdout.splitlines()[0]
    assert "<script>" not in result.stdout
    assert not re.search(r"(?<!\\)\]\(javascript:", result.stdout)  # \](...) is no link
    assert "&lt;script&gt;" in heading and "\\|" in heading


def test_export_never_follows_a_symbolic_link(runner, built, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "axi-cel.yaml").write_text("keep me\n")
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "entries").symlink_to(outside)
    result = invoke(runner, "catalog", "export", folder)
    assert result.exit_code == 1 and "symbolic link" in result.stderr
    (folder / "entries").unlink()
    (folder / "entries").mkdir()
    (folder / "entries" / "axi-cel.yaml").symlink_to(outside / "axi-cel.yaml")
    assert invoke(runner, "catalog", "export", folder).exit_code == 0
    assert (outside / "axi-cel.yaml").read_text() == "keep me\n"
    assert not (folder / "entries" / "axi-cel.yaml").is_symlink()


def test_a_yaml_billion_laughs_in_a_catalog_folder_is_refused_at_once(runner, built, tmp_path):
    folder = tmp_path / "laughs"
    shutil.copytree(Path(__file__).parents[1] / "catalog", folder)
    text = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    for previous, name in zip("abcdefghi", "bcdefghij", strict=True):
        text += f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]\n"
    (folder / "entries" / "laughs.yaml").write_text(text)
    result = invoke(runner, "catalog", "validate", "--catalog", folder)
    assert result.exit_code == 1 and "aliases expand to more than" in result.stderr
