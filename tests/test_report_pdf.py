"""The PDF writer process behind `cartmatch report` (matcher/report/pdf_worker.py): a report is
written whole or the command fails with one sentence; a failure or Ctrl-C in the command stops
the writer; forked or spawned, it writes the same report. And WeasyPrint's quicker import falls
back to the usual one when a library is missed."""

from __future__ import annotations

import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

from matcher.cli import cli
from matcher.errors import CartmatchError
from matcher.report import pdf_worker
from matcher.report.pdf_worker import PdfWorker

ROOT = Path(__file__).parents[1]
DLBCL = ["--diagnosis", "DLBCL", "--status", "refractory", "--prior-lines", "2", "--age", "54"]
PAGE = "<html lang='en'><body><h1>Report</h1><p>报告 CNY 1.49–1.63 M</p></body></html>"


def is_pdf(path: Path) -> bool:
    data = path.read_bytes()
    return data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")


def test_report_command_writes_a_whole_private_pdf(runner, tmp_path):
    target = tmp_path / "r.pdf"
    result = runner.invoke(cli, ["report", *DLBCL, "--audience", "mdt", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert is_pdf(target)
    assert target.stat().st_mode & 0o777 == 0o600
    assert multiprocessing.active_children() == []


def test_reports_of_a_run_are_each_written_whole(runner, tmp_path):
    sheet = tmp_path / "referrals.csv"
    sheet.write_text(
        "referral_id,diagnosis,prior_lines,age\n"
        "R-1,DLBCL,2,54\nR-2,胃癌,2,61\nR-3,lupus nephritis,3,30\n",
        encoding="utf-8",
    )
    assert runner.invoke(cli, ["screen", str(sheet), "-o", str(tmp_path / "o.csv")]).exit_code == 0
    folder = tmp_path / "reports"
    result = runner.invoke(cli, ["report", "--run", "1", "-o", str(folder), "--lang", "zh"])
    assert result.exit_code == 0, result.output
    files = sorted(folder.iterdir())
    assert [p.name for p in files] == ["R-1.pdf", "R-2.pdf", "R-3.pdf"]
    assert all(is_pdf(p) for p in files)
    assert len({p.read_bytes() for p in files}) == 3
    # The folder it made lists referral ids: its owner's only, as the files are.
    assert all(p.stat().st_mode & 0o077 == 0 for p in [folder, *files])


def test_a_folder_that_is_not_there_is_one_sentence(runner, tmp_path):
    target = tmp_path / "missing" / "r.pdf"
    result = runner.invoke(cli, ["report", *DLBCL, "-o", str(target)])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        "Error: cannot write r.pdf: No such file or directory; check the folder exists and is "
        "writable"
    ]
    assert "Traceback" not in result.output
    assert multiprocessing.active_children() == []


def test_a_bad_referral_stops_the_writer_at_once(runner, tmp_path):
    target = tmp_path / "r.pdf"
    result = runner.invoke(
        cli, ["report", "--diagnosis", "DLBCL", "--age", "-3", "-o", str(target)]
    )
    assert result.exit_code == 1
    assert "age" in result.stderr
    assert not target.exists()
    assert multiprocessing.active_children() == []


def test_a_writer_that_dies_is_said_in_one_sentence(tmp_path):
    stopped = r"r\.pdf: the PDF writer stopped unexpectedly"
    with pytest.raises(CartmatchError, match=stopped), PdfWorker() as pdf:
        pdf._process.kill()
        pdf._process.join()
        pdf.write(PAGE, tmp_path / "r.pdf")
    assert not (tmp_path / "r.pdf").exists()


def test_spawned_writer_writes_the_same_pdf_as_a_forked_one(tmp_path, monkeypatch):
    with PdfWorker() as pdf:
        pdf.write(PAGE, tmp_path / "forked.pdf")
    monkeypatch.setattr(pdf_worker.threading, "active_count", lambda: 2)  # as in a server
    assert pdf_worker._context().get_start_method() == "spawn"
    with PdfWorker() as pdf:
        pdf.write(PAGE, tmp_path / "spawned.pdf")
    assert is_pdf(tmp_path / "spawned.pdf")
    strip = lambda p: p.read_bytes().split(b"/CreationDate")[0]  # noqa: E731
    assert strip(tmp_path / "spawned.pdf") == strip(tmp_path / "forked.pdf")


FAKE_WEASYPRINT = """
import ctypes.util
# As WeasyPrint's loader would: a library only ctypes' search finds.
if ctypes.util.find_library("c") is None:
    print("could not import some external libraries")
    raise OSError("cannot load library 'libc-6'")
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the quick import is Linux's")
def test_quick_weasyprint_import_falls_back_to_the_usual_one(tmp_path):
    """If a library is missed without ctypes' search, WeasyPrint is imported the usual way,
    the first try's banner is not shown, and find_library is left as it was."""
    (tmp_path / "weasyprint").mkdir()
    (tmp_path / "weasyprint" / "__init__.py").write_text(FAKE_WEASYPRINT, encoding="utf-8")
    probe = textwrap.dedent(
        """
        import ctypes.util
        before = ctypes.util.find_library
        from matcher.report.document import import_weasyprint
        module = import_weasyprint()
        print(module.__name__, ctypes.util.find_library is before)
        """
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    done = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    )
    assert done.stdout.splitlines() == ["weasyprint True"]


def test_common_font_has_every_character_of_the_catalog_and_the_messages():
    from fontTools.ttLib import TTFont

    from matcher.report.document import COMMON_FONT, common_characters

    have = common_characters()
    with TTFont(COMMON_FONT, lazy=True) as font:  # the .chars file says what the font has
        assert have == {chr(code) for code in font.getBestCmap()}
    for folder in ("catalog", "rules", "matcher/report/messages"):
        for path in (ROOT / folder).rglob("*.yaml"):
            text = {c for c in path.read_text(encoding="utf-8") if c.isprintable()}
            missing = "".join(sorted(text - have)[:10])
            assert not missing, f"{path.name}: {missing} not in it; run ./scripts/gen-report-font"
    assert {"肿", "腫", "瘤", "万", "元", "≥", "–", "•", "α"} <= have


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_a_character_the_common_font_lacks_is_set_in_the_whole_font(tmp_path):
    """A referral written with a rare character (here one from CJK Extension A) gets the whole
    font, and the character prints: never a missing glyph."""
    from fontTools.ttLib import TTFont

    from matcher.report.document import (
        COMMON_FONT,
        common_characters,
        font_path,
        report_font,
        write_pdf,
    )

    with TTFont(font_path(), lazy=True) as whole:
        rare = next(
            chr(c) for c in sorted(whole.getBestCmap()) if 0x3400 <= c <= 0x4DBF
        )  # fmt: skip
    assert rare not in common_characters()
    style = "<style>html { font-family: 'Report Sans' }</style>"
    plain = f"<html lang='zh-CN'>{style}<body><p>弥漫大B细胞淋巴瘤</p></body></html>"
    assert report_font(plain) == COMMON_FONT
    page = plain.replace("淋巴瘤", f"淋巴瘤 {rare}")
    assert report_font(page) == font_path()
    write_pdf(page, tmp_path / "rare.pdf")
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(tmp_path / "rare.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert rare in text and "\ufffd" not in text
    fonts = subprocess.run(
        ["pdffonts", str(tmp_path / "rare.pdf")], capture_output=True, text=True, check=True
    ).stdout.splitlines()[2:]
    assert fonts and all("Report-Sans" in line for line in fonts)  # no fallback to a system font


def run_cartmatch(args: list[str], tmp: Path, db: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "TMPDIR": str(tmp), "CARTMATCH_DB": str(db)}
    cartmatch = Path(sys.executable).parent / "cartmatch"
    return subprocess.run([str(cartmatch), *args], env=env, capture_output=True, text=True)


def test_no_copy_of_the_font_is_left_in_the_temporary_directory(tmp_path, db_path):
    """WeasyPrint copies the font into a temporary folder per process (5-16 MB): gone after a
    report, after a report the command stops early, and after an in-process PDF."""
    tmp, out = tmp_path / "tmp", tmp_path / "out"
    tmp.mkdir()
    out.mkdir()
    done = run_cartmatch(["report", *DLBCL, "-o", str(out / "r.pdf")], tmp, db_path)
    assert done.returncode == 0, done.stderr
    assert is_pdf(out / "r.pdf")
    early = ["report", "--diagnosis", "DLBCL", "--age", "-3", "-o", str(out / "x.pdf")]
    assert run_cartmatch(early, tmp, db_path).returncode == 1
    assert list(tmp.iterdir()) == []
    assert [p.name for p in out.iterdir()] == ["r.pdf"]  # and no partial file
    from matcher.report.document import release_fonts, write_pdf

    release_fonts()  # this process's earlier PDFs: their copies are in the usual folder
    tempfile.tempdir = str(tmp)
    try:
        write_pdf(PAGE, out / "in-process.pdf")
        assert list(tmp.iterdir())  # the copy lives while the process may write again
        release_fonts()
    finally:
        tempfile.tempdir = None
    assert list(tmp.iterdir()) == []


def test_a_report_is_written_whole_or_the_old_file_stays(tmp_path):
    """A writer that dies leaves the file that was there, and no partial file beside it."""
    target = tmp_path / "r.pdf"
    target.write_bytes(b"the report sent yesterday")
    with pytest.raises(CartmatchError), PdfWorker() as pdf:
        pdf._process.kill()
        pdf._process.join()
        pdf.write(PAGE, target)
    assert target.read_bytes() == b"the report sent yesterday"
    assert [p.name for p in tmp_path.iterdir()] == ["r.pdf"]
    with PdfWorker() as pdf:
        pdf.write(PAGE, target)
    assert is_pdf(target) and target.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["r.pdf"]


def test_exit_leaves_no_font_copy_after_an_in_process_pdf(tmp_path):
    """`cartmatch serve` writes PDFs in its own process: the exit that skips the last garbage
    collection must still let the font cleanup run first."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    script = textwrap.dedent(
        f"""
        from pathlib import Path
        import matcher.cli
        from matcher.report.document import write_pdf
        matcher.cli.cli = lambda prog_name: write_pdf({PAGE!r}, Path({str(tmp_path / "r.pdf")!r}))
        matcher.cli.main()
        """
    )
    env = {**os.environ, "TMPDIR": str(tmp), "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-c", script], env=env, check=True)
    assert is_pdf(tmp_path / "r.pdf")
    assert list(tmp.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "code", "said"),
    [
        (["--run", "1", "-o", "{tmp}/afile"], 1, "afile is a file; with --run, -o names a folder"),
        (["--run", "1", "--diagnosis", "DLBCL", "-o", "{tmp}/r"], 2, "give no PROFILE or flags"),
        (["--diagnosis", "DLBCL", "-o", "{tmp}/x.pdf", "--format", "html"], 2, "goes with --run"),
        (["--diagnosis", "DLBCL", "-o", "{tmp}/ro.pdf"], 1, "ro.pdf is read-only"),
    ],
)
def test_what_would_be_ignored_or_lost_is_refused(runner, tmp_path, args, code, said):
    (tmp_path / "afile").write_text("notes", encoding="utf-8")
    (tmp_path / "ro.pdf").write_bytes(b"sent yesterday")
    (tmp_path / "ro.pdf").chmod(0o444)
    result = runner.invoke(cli, ["report", *(a.format(tmp=tmp_path) for a in args)])
    assert result.exit_code == code, result.output
    assert said in result.stderr
    assert (tmp_path / "ro.pdf").read_bytes() == b"sent yesterday"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile", "cartmatch.db", "ro.pdf"]


def test_the_compiled_template_is_kept_and_a_cache_that_cannot_be_made_is_no_error(
    tmp_path, db_path
):
    """The report's template, compiled once, is kept in the user's cache folder (readable by
    its owner only); a cache folder that cannot be made leaves the report as it would be."""
    args = ["report", "--diagnosis", "DLBCL", "--age", "54", "--today", "2026-11-29"]
    cache = tmp_path / "cache"
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    for name, folder in (("made", cache), ("read", cache), ("none", blocked)):
        done = _with_cache([*args, "-o", str(tmp_path / f"{name}.html")], db_path, folder)
        assert done.returncode == 0, done.stderr
        kept = list((cache / "cartmatch" / "templates").iterdir())
        assert len(kept) == 1 and kept[0].stat().st_mode & 0o077 == 0
        assert kept[0].name.startswith("report-")  # Jinja's version and settings in the name
    made = (tmp_path / "made.html").read_bytes()
    assert made == (tmp_path / "read.html").read_bytes() == (tmp_path / "none.html").read_bytes()


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX permissions")
def test_a_cache_folder_others_can_write_is_made_private_and_a_link_is_not_followed(
    tmp_path, db_path
):
    """Jinja loads code from the cache folder: one open to others is made private first, and
    a folder that is a link elsewhere is not used."""
    args = ["report", "--diagnosis", "DLBCL", "--age", "54", "-o", str(tmp_path / "r.html")]
    open_cache = tmp_path / "open" / "cartmatch" / "templates"
    open_cache.mkdir(parents=True)
    open_cache.chmod(0o777)
    assert _with_cache(args, db_path, tmp_path / "open").returncode == 0
    assert open_cache.stat().st_mode & 0o777 == 0o700 and list(open_cache.iterdir())
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "linked" / "cartmatch").mkdir(parents=True)
    (tmp_path / "linked" / "cartmatch" / "templates").symlink_to(elsewhere)
    done = _with_cache(args, db_path, tmp_path / "linked")
    assert done.returncode == 0, done.stderr
    assert not list(elsewhere.iterdir())


def _with_cache(args: list[str], db: Path, cache: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "CARTMATCH_DB": str(db), "XDG_CACHE_HOME": str(cache)}
    cartmatch = Path(sys.executable).parent / "cartmatch"
    return subprocess.run([str(cartmatch), *args], env=env, capture_output=True, text=True)
