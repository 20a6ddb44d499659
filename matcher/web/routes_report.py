"""The report buttons of the referral page: the family or MDT report (issue #15's
`matcher.report`) as a PDF, in the page's language, from the same form the options came from."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from matcher.errors import CartmatchError
from matcher.storage.users import User
from matcher.web.forms import profile_from_form
from matcher.web.i18n import language_of
from matcher.web.state import page, signed_in, state_of

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
        raw = profile_from_form(form)
        if not raw:
            raise CartmatchError("give at least a diagnosis, in the form or as JSON")
        pdf = await state_of(request).report(raw, audience, lang)
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
