"""PDF writing in a child process that starts getting ready at once.

Importing WeasyPrint and loading the report font take about a second on a cold start, as long
as the rest of `cartmatch report` (reading the catalog, matching, building the HTML). Done one
after the other they made a report take over 3 s; here the child gets ready on one core while
the command works on the other, and then lays the page out. With `--run`, each referral's PDF
is laid out while the next referral is matched.

The child is forked when the command is single-threaded (it then starts in milliseconds),
else spawned. It never sees the database: it gets the HTML and the target path, and answers
with None or one sentence saying what went wrong.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import shutil
import signal
import sys
import tempfile
import threading
from multiprocessing.connection import Connection
from pathlib import Path
from types import TracebackType
from typing import Any

from matcher.errors import CartmatchError

#: A page with Latin and CJK text in the report font: rendered once while the child waits, so
#: the first real report finds the font loaded and WeasyPrint's C types parsed.
_WARM_UP = (
    "<html lang='zh-CN'><style>html { font-family: 'Report Sans' }</style>"
    "<body><p>Report <b>报告</b> 1.49–1.63 万元</p></body></html>"
)


class PdfWorker:
    """`with PdfWorker() as pdf: ... pdf.write(html, target)`: at most one PDF in progress;
    a failure is raised as CartmatchError by the next `write` or on leaving the block. Leaving
    the block on an error stops the child once the PDF under way is written (at once on
    Ctrl-C); a PDF is written whole or not at all."""

    def __enter__(self) -> PdfWorker:
        # Imported here, where the command needs it later anyway, rather than by the child on
        # its way to being ready (a forked child has it already).
        import matcher.report.document  # noqa: F401

        context = _context()
        self._conn, child_end = context.Pipe()
        self._process = context.Process(target=_serve, args=(child_end,), daemon=True)
        self._process.start()
        child_end.close()
        self._pending: str | None = None
        return self

    def write(self, html: str, target: Path) -> None:
        """Start writing `target`; the previous PDF, if any, is finished first."""
        self._finish()
        self._send((html, str(target)), target.name)
        self._pending = target.name

    def __exit__(
        self, kind: type[BaseException] | None, error: object, tb: TracebackType | None
    ) -> None:
        try:
            if kind is None:
                self._finish()
                self._send(None, "the last PDF")
                self._process.join()
            elif kind is not KeyboardInterrupt and self._pending is not None:
                with contextlib.suppress(CartmatchError):  # the error at hand is the one to say
                    self._finish()  # the PDF under way is written whole before the stop
        finally:
            self._conn.close()
            if self._process.is_alive():
                self._process.terminate()
            self._process.join()

    def _send(self, job: Any, name: str) -> None:
        try:
            self._conn.send(job)
        except OSError:  # the child is gone: its end of the pipe is closed
            raise self._stopped(name) from None

    def _finish(self) -> None:
        if self._pending is None:
            return
        name, self._pending = self._pending, None
        try:
            problem = self._conn.recv()
        except EOFError:
            raise self._stopped(name) from None
        if problem is not None:
            raise CartmatchError(problem)

    def _stopped(self, name: str) -> CartmatchError:
        self._process.join(timeout=5)
        return CartmatchError(
            f"{name}: the PDF writer stopped unexpectedly (exit code {self._process.exitcode});"
            " try again, or write .html"
        )


def _context() -> Any:
    """Fork when it is safe (no other thread whose locks the child could inherit)."""
    if "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def _serve(conn: Connection) -> None:
    """The child's life: Ctrl-C is the parent's to handle (it stops the child); a stop
    (SIGTERM) ends it through its cleanup."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _stop)  # stopped by the parent: clean up on the way out
    # WeasyPrint copies the font into a temporary folder of its own; here that folder is made
    # inside one the child removes whole, however it ends (stopped mid-layout, say).
    own = tempfile.mkdtemp(prefix="cartmatch-pdf-")
    tempfile.tempdir = own
    try:
        from matcher.report.document import write_pdf

        _serve_jobs(conn, write_pdf)
    finally:
        shutil.rmtree(own, ignore_errors=True)
    # Out at once, the work done and the font copy gone with the folder: the interpreter's
    # own ending would only collect the last layout's garbage, a tenth of a second the
    # command waits for.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _stop(signum: int, frame: object) -> None:
    raise SystemExit(0)


def _serve_jobs(conn: Connection, write_pdf: Any) -> None:
    """Get ready, then write each (html, path) received until None or EOF.

    The cyclic garbage collector is off while a page is laid out (WeasyPrint makes hundreds of
    thousands of objects, and each full collection walks them all, a tenth of the layout's
    time); the garbage of one PDF is collected when the next one is asked for, never after the
    last."""
    try:
        _warm_up(conn)
        broken = None
    except Exception as error:  # said to the parent with its first PDF
        broken = f"cannot make a PDF here: {error}; write .html instead"
    # WeasyPrint's modules and the font, never garbage, are left out of collections from now
    # on; so is the warm-up page's garbage, a constant few kilobytes not worth a collection
    # on the way to the first PDF.
    gc.freeze()
    gc.disable()
    done = 0
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        if job is None:
            return
        if done:
            gc.collect()
        done += 1
        html, target = job
        if broken is not None:
            conn.send(broken)
            continue
        try:
            write_pdf(html, Path(target))
        except CartmatchError as error:
            conn.send(str(error))
        except Exception as error:  # one sentence, not a traceback
            conn.send(f"{Path(target).name}: the PDF could not be written ({error})")
        else:
            conn.send(None)


def _warm_up(conn: Connection) -> None:
    """WeasyPrint imported and the font loaded; and, if no PDF is asked for yet, a tiny page
    laid out (the first real page then finds the font's glyphs loaded and WeasyPrint's C
    types parsed). A PDF already waiting is laid out at once instead."""
    from matcher.report.document import pdf_bytes, prepare_font

    prepare_font(_WARM_UP)  # imports WeasyPrint
    if not conn.poll():
        pdf_bytes(_WARM_UP)
