"""Case pages (issue #16's cases): the list with filters and statuses, a case with its options,
history and notes, status moves and notes signed by the signed-in user, the call-back list
after a refresh, and the export."""

from __future__ import annotations

import shutil
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from matcher.curation.callbacks import cost_threshold, pending
from matcher.curation.cases import (
    callback_rows,
    case_store,
    export_rows,
    find_cases,
    write_table,
)
from matcher.errors import CartmatchError
from matcher.storage.cases import CASE_STATUSES
from matcher.storage.users import User
from matcher.web.state import WebState, page, signed_in, state_of
from matcher.web.uploads import private_dir

router = APIRouter()
Viewer = Annotated[User, Depends(signed_in)]
EXPORTS = {"csv": ("text/csv", ".csv"), "xlsx": ("application/octet-stream", ".xlsx")}


@router.get("/cases", response_class=HTMLResponse)
def cases_page(
    request: Request, user: Viewer, status: str = "", entry: str = "", city: str = ""
) -> Response:
    state = state_of(request)
    filters = {"status": status, "entry": entry[:100], "city": city[:100]}
    try:
        cases = _find(state, filters)
        problem = None
    except CartmatchError as error:
        cases, problem = [], str(error)
    return page(
        request,
        "cases.html",
        400 if problem else 200,
        user=user,
        cases=cases,
        filters=filters,
        statuses=CASE_STATUSES,
        problem=problem,
    )


def _find(state: WebState, filters: dict[str, str]) -> list[Any]:
    return find_cases(
        state.db_path,
        state.catalog(),
        status=[filters["status"]] if filters["status"] else [],
        entry=filters["entry"] or None,
        city=filters["city"] or None,
    )


@router.get("/cases/callbacks", response_class=HTMLResponse)
def callbacks_page(request: Request, user: Viewer) -> Response:
    state = state_of(request)
    calls = pending(state.db_path, state.catalog(), threshold=cost_threshold())
    return page(request, "callbacks.html", user=user, calls=calls)


@router.get("/cases/export/{kind}")
def export(request: Request, user: Viewer, kind: str, what: str = "cases") -> Response:
    """The cases (or the call-backs) as CSV or XLSX, with their contact columns."""
    state = state_of(request)
    if kind not in EXPORTS or what not in ("cases", "callbacks"):
        return Response(status_code=404)
    if what == "callbacks":
        calls = pending(state.db_path, state.catalog(), threshold=cost_threshold())
        rows, columns = callback_rows(calls)
    else:
        rows, columns = export_rows(_find(state, {"status": "", "entry": "", "city": ""}))
    media, suffix = EXPORTS[kind]
    folder = private_dir("cartmatch-export-")
    try:
        target = folder / f"{what}{suffix}"
        write_table(rows, columns, target)
        body = target.read_bytes()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    headers = {
        "Content-Disposition": f'attachment; filename="{what}{suffix}"',
        "Cache-Control": "no-store",
    }
    return Response(body, media_type=media, headers=headers)


@router.get("/cases/{case_id:int}", response_class=HTMLResponse)
def case_page(request: Request, user: Viewer, case_id: int) -> Response:
    with case_store(state_of(request).db_path, user.name) as store:
        case = store.get(f"#{case_id}")
        events, matches = store.events(case.id), store.matches(case.id)
    return page(
        request,
        "case.html",
        user=user,
        case=case,
        events=events,
        matches=matches,
        statuses=CASE_STATUSES,
    )


@router.post("/cases/{case_id:int}/status", response_class=HTMLResponse)
async def move(request: Request, user: Viewer, case_id: int) -> Response:
    form = await request.form()
    to, note = str(form.get("status") or ""), str(form.get("note") or "").strip()
    with case_store(state_of(request).db_path, user.name) as store:
        case = store.set_status(f"#{case_id}", to, user.name, back=form.get("back") == "yes")
        if note:
            store.add_note(case.key, note, user.name)
    return RedirectResponse(f"/cases/{case_id}", status_code=303)


@router.post("/cases/{case_id:int}/note", response_class=HTMLResponse)
async def note(request: Request, user: Viewer, case_id: int) -> Response:
    form = await request.form()
    with case_store(state_of(request).db_path, user.name) as store:
        store.add_note(f"#{case_id}", str(form.get("text") or ""), user.name)
    return RedirectResponse(f"/cases/{case_id}", status_code=303)


@router.post("/cases/{case_id:int}/notified", response_class=HTMLResponse)
async def notified(request: Request, user: Viewer, case_id: int) -> Response:
    with case_store(state_of(request).db_path, user.name) as store:
        store.notified([f"#{case_id}"], user.name)
    return RedirectResponse(f"/cases/{case_id}", status_code=303)
