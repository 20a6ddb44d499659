"""The report buttons of the referral page: the family or MDT report (issue #15's
`matcher.report`) as a PDF, in the page's language, from the same form the options came from."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from matcher.core.catalog import Catalog
from matcher.core.engine import match
from matcher.core.patient import load_patient
from matcher.errors import CartmatchError
from matcher.storage.users import User
from matcher.web.forms import profile_from_form
from matcher.web.i18n import language_of
from matcher.web.state import page, signed_in, state_of
from matcher.web.uploads import private_dir

router = APIRouter()
Viewer = Annotated[User, Depends(signed_in)]
AUDIENCES = ("family", "mdt")


@router.post("/report")
async def report(request: Request, user: Viewer) -> Response:
    """The PDF for the referral in the form (or pasted JSON), as an attachment."""
    form = await request.form()
    audience = str(form.get("audience") or "family")
    lang = language_of(request.session, request.headers.get("accept-language"))
    try:
        if audience not in AUDIENCES:
            raise CartmatchError(f"report audience '{audience[:20]}': use family or mdt")
        catalog = await run_in_threadpool(state_of(request).catalog)
        pdf = await run_in_threadpool(_pdf, form, catalog, audience, lang)
    except CartmatchError as error:
        return page(request, "error.html", 400, user=user, message=str(error))
    name = f"cartmatch-{audience}-{lang}.pdf"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


def _pdf(form: Mapping[str, Any], catalog: Catalog, audience: str, lang: str) -> bytes:
    """Match with every option (the report counts the ineligible ones too), build the report,
    write its PDF in a private folder, and hand back its bytes."""
    from matcher.report.content import ReportRequest, build_report
    from matcher.report.document import render_html, write_pdf

    raw = profile_from_form(form)
    if not raw:
        raise CartmatchError("give at least a diagnosis, in the form or as JSON")
    today = date.today()
    patient, warnings = load_patient(raw, catalog.lexicon, today, source="the form")
    result = match(patient, catalog, warnings=warnings, include_all=True, today=today)
    content = build_report(result, catalog, ReportRequest(audience, lang, "CNY", today))
    folder = private_dir("cartmatch-report-")
    try:
        target = folder / "report.pdf"
        write_pdf(render_html(content), target)
        return target.read_bytes()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
