"""A report as a file: HTML from the Jinja2 template, PDF from that HTML through WeasyPrint
with the CJK font bundled as a Python package, so Chinese renders on a machine without one.
Nothing is fetched: the stylesheet is inline and the font is a local file."""

from __future__ import annotations

import atexit
import contextlib
import gc
import hashlib
import io
import multiprocessing.util
import os
import stat
import sys
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from matcher.errors import CartmatchError
from matcher.paths import cache_dir
from matcher.report.chart import chart_geometry
from matcher.report.files import PrivateFile, report_format
from matcher.report.words import Words

#: The Python package that ships the font (Noto Sans CJK, SIL Open Font License 1.1), and the
#: font file in it. Its language-specific OTF holds every CJK glyph; the page's lang="zh-CN"
#: selects the simplified-Chinese forms (OpenType locl).
FONT_PACKAGE = "cvttf_NotoSansCJK_Regular"
FONT_FILE = "NotoSansCJKtc-Regular.otf"
FONT_FAMILY = "Report Sans"
#: The same font cut down to the characters reports use (Latin, Greek, punctuation, GB2312,
#: Big5 level 1, and every character of the catalog and the messages; scripts/gen-report-font),
#: renamed as the OFL asks of a Modified Version. A page it covers is set in it, a quarter of a
#: second sooner than in the 16 MB font; any other page in the whole font.
COMMON_FONT = Path(__file__).parent / "fonts" / "ReportSansCommon.otf"
#: Its characters, in one line of text (a test keeps it equal to the font's cmap).
COMMON_CHARS = COMMON_FONT.with_suffix(".chars")


#: How the report's template is compiled; part of the compiled template's cache key.
TEMPLATE_SETTINGS = {
    "autoescape": True,
    "trim_blocks": True,
    "lstrip_blocks": True,
}


@cache
def _environment() -> Any:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("matcher.report", "templates"),
        undefined=jinja2.StrictUndefined,
        bytecode_cache=_template_cache(jinja2),
        **TEMPLATE_SETTINGS,
    )


def _template_cache(jinja2: Any) -> Any:
    """The compiled template kept between runs in the user's cache folder (compiling it takes
    a tenth of a second of every report). Jinja recompiles it when the template changes; the
    file name holds Jinja's version and the settings, which Jinja's own key leaves out. The
    folder must be the user's own and private (Jinja loads code from it): one that is not,
    or cannot be made, means no cache, never an error."""

    class TemplateCache(jinja2.FileSystemBytecodeCache):
        def dump_bytecode(self, bucket: Any) -> None:
            with contextlib.suppress(OSError):
                super().dump_bytecode(bucket)

    folder = cache_dir() / "templates"
    if not _private_folder(folder):
        return None
    tag = hashlib.sha256(f"{jinja2.__version__} {TEMPLATE_SETTINGS}".encode()).hexdigest()[:12]
    return TemplateCache(str(folder), pattern=f"report-{tag}-%s.cache")


def _private_folder(folder: Path) -> bool:
    """Whether `folder` is (or now is) a directory of this user's that others cannot read or
    write; made if missing."""
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        state = folder.lstat()
        if not stat.S_ISDIR(state.st_mode):
            return False  # a link, say
        if hasattr(os, "getuid") and state.st_uid != os.getuid():
            return False
        if state.st_mode & 0o077:
            folder.chmod(0o700)
    except OSError:
        return False
    return True


def render_html(report: dict[str, Any]) -> str:
    """The report as one self-contained HTML page (inline style and chart, no fetches)."""
    words = Words.of(report["lang"])
    template = _environment().get_template("report.html.j2")
    css = resources.files("matcher.report").joinpath("templates/report.css").read_text("utf-8")
    return template.render(
        r=report, _=words, css=css, chart=chart_geometry(report["chart"], report["lang"])
    )


def font_path() -> Path:
    """The bundled CJK font file; one clear sentence when the package is missing."""
    try:
        folder = resources.files(FONT_PACKAGE)
    except ModuleNotFoundError as error:
        raise CartmatchError(
            f"the report font package ({FONT_PACKAGE}) is not installed; reinstall cartmatch "
            "(pip install -e .) to get it"
        ) from error
    return Path(str(folder.joinpath(FONT_FILE)))


def import_weasyprint() -> Any:
    """WeasyPrint, imported a quarter of a second sooner on Linux. Its library loader tries the
    Windows and macOS names first ('libgobject-2.0-0', ...), and for each of those ctypes'
    find_library runs ldconfig, gcc and ld (about two dozen processes: Kozea/WeasyPrint#1125)
    before the Linux name ('libgobject-2.0.so.0') loads directly. So the import is tried with
    find_library answering "not found"; if a library is then missed, it is imported again the
    usual way (the loader's banner from the first try is not shown)."""
    if "weasyprint" in sys.modules or not sys.platform.startswith("linux"):
        import weasyprint

        return weasyprint
    import ctypes.util

    find_library = ctypes.util.find_library
    ctypes.util.find_library = lambda name: None
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            import weasyprint
    except OSError:
        ctypes.util.find_library = find_library
        import weasyprint
    finally:
        ctypes.util.find_library = find_library
    return weasyprint


@cache
def common_characters() -> frozenset[str]:
    """The characters COMMON_FONT has."""
    return frozenset(COMMON_CHARS.read_text(encoding="utf-8"))


def report_font(html: str) -> Path:
    """COMMON_FONT when it has every character of the page, else the whole font: a character
    the common font lacks would print as a missing glyph."""
    needed = {c for c in set(html) if c.isprintable()}
    if COMMON_FONT.exists() and COMMON_CHARS.exists() and needed <= common_characters():
        return COMMON_FONT
    return font_path()


@cache
def _font_style(font: Path) -> tuple[Any, Any]:
    """The font configuration and the @font-face rule naming a font file, made once a process
    (WeasyPrint copies the font into a temporary folder each time). The copy is removed when
    the process ends (`release_fonts`)."""
    weasyprint = import_weasyprint()
    from weasyprint.text.fonts import FontConfiguration

    if _font_style.cache_info().currsize == 0:
        atexit.register(release_fonts)
        multiprocessing.util.Finalize(None, release_fonts, exitpriority=10)  # worker processes

    fonts = FontConfiguration()
    face = f"@font-face {{ font-family: '{FONT_FAMILY}'; src: url('{font.as_uri()}'); }}"
    return fonts, weasyprint.CSS(string=face, font_config=fonts)


def release_fonts() -> None:
    """Drop the font configurations made by `_font_style`, so WeasyPrint removes its copies of
    the font now; left to the end of the interpreter its cleanup fails, and a forked or worker
    process ends without it, leaving a 5–16 MB folder in the temporary directory each time."""
    _font_style.cache_clear()
    gc.collect()


def prepare_font(html: str) -> None:
    """The font configuration for a page like `html` made now, ahead of its PDF."""
    _font_style(report_font(html))


def pdf_bytes(html: str) -> bytes:
    """The HTML page as a PDF, every text in the bundled font (Latin and CJK alike): the
    stylesheet names FONT_FAMILY first, and the @font-face (a user stylesheet, so it cannot
    override the page's own rules) tells WeasyPrint where the file is."""
    weasyprint = import_weasyprint()
    fonts, style = _font_style(report_font(html))
    return weasyprint.HTML(string=html).write_pdf(stylesheets=[style], font_config=fonts)


def write_pdf(html: str, target: Path) -> None:
    """The HTML page as a PDF file readable by its owner only."""
    data = pdf_bytes(html)
    with PrivateFile(target) as handle:
        handle.write(data)


def write_html(html: str, target: Path) -> None:
    with PrivateFile(target) as handle:
        handle.write(html.encode("utf-8"))


def write_report(report: dict[str, Any], target: Path, pdf: Any = None) -> None:
    """The report to `target`, as PDF or HTML by its suffix; the file is readable by its
    owner only (it is about a patient). A PDF goes through `pdf` (a PdfWorker) when given."""
    html = render_html(report)
    if report_format(target) == "html":
        write_html(html, target)
    elif pdf is not None:
        pdf.write(html, target)
    else:
        write_pdf(html, target)
