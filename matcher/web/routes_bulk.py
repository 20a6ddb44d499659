"""Bulk screening pages: upload a CSV or XLSX, watch its progress, download the results (a row
per option, or the call list with a row per referral) and the rejected rows."""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from matcher.errors import CartmatchError
from matcher.storage.users import User
from matcher.web.jobs import OUTPUTS, Jobs
from matcher.web.state import page, signed_in, state_of
from matcher.web.uploads import store

router = APIRouter()
Viewer = Annotated[User, Depends(signed_in)]
#: What bulk screening reads from an upload (JSON and the rest stay on the command line).
ACCEPTED = (".csv", ".xlsx", ".tsv", ".txt")
DOWNLOADS = ("results", "wide", "errors")


def jobs_of(request: Request) -> Jobs:
    state = state_of(request)
    if state.jobs is None:
        state.jobs = Jobs(state.db_path, state.catalog)
    return state.jobs  # type: ignore[no-any-return]


@router.get("/bulk", response_class=HTMLResponse)
def bulk_page(request: Request, user: Viewer) -> Response:
    jobs = jobs_of(request).of(user)
    return page(request, "bulk.html", user=user, jobs=jobs, outputs=OUTPUTS, problem=None)


@router.post("/bulk", response_class=HTMLResponse)
async def bulk_upload(request: Request, user: Viewer) -> Response:
    form = await request.form()
    jobs = jobs_of(request)
    output = str(form.get("output") or "csv")
    try:
        saving = partial(store, form.get("file"), suffixes=ACCEPTED)
        job = await run_in_threadpool(jobs.start, user.name, saving, output)
    except CartmatchError as error:
        context = {"jobs": jobs.of(user), "outputs": OUTPUTS, "problem": str(error)}
        return page(request, "bulk.html", 400, user=user, **context)
    return RedirectResponse(f"/bulk/{job.id}", status_code=303)


@router.get("/bulk/{job_id}", response_class=HTMLResponse)
def job_page(request: Request, user: Viewer, job_id: str) -> Response:
    job = jobs_of(request).get(job_id, user)
    if job is None:
        raise HTTPException(status_code=404)
    name = "job_status.html" if request.headers.get("hx-request") else "job.html"
    return page(request, name, user=user, job=job)


@router.get("/bulk/{job_id}/{kind}")
def download(request: Request, user: Viewer, job_id: str, kind: str) -> Response:
    job = jobs_of(request).get(job_id, user)
    if job is None or kind not in DOWNLOADS or job.state != "done":
        raise HTTPException(status_code=404)
    path = job.file(kind)
    if not path.exists():
        raise HTTPException(status_code=404)
    return FileResponse(path, filename=path.name, headers={"Cache-Control": "no-store"})
