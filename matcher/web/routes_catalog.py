"""The catalog pages: search (the `lookup` engine), an entry with its cohorts, criteria as text,
sites, sources and the age of each fact, the refresh history, the stale report, and the
curator's refresh (a dry run, then apply)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from matcher.core.freshness import dated_facts
from matcher.core.lookup import lookup, places_named
from matcher.core.places import site_record
from matcher.curation.export import stale_entries
from matcher.errors import CartmatchError
from matcher.render.catalog import diff_text
from matcher.render.sites import site_details, site_head
from matcher.storage.refresh_log import RefreshLog
from matcher.storage.users import User, log_change
from matcher.web.state import WebState, needs, page, signed_in, state_of
from matcher.web.uploads import saved_upload

router = APIRouter()
Viewer = Annotated[User, Depends(signed_in)]
Curator = Annotated[User, Depends(needs("curator"))]
#: Longest search text read (a look-up is a name, not a document).
QUERY_CHARS = 200


@router.get("/catalog", response_class=HTMLResponse)
def catalog_search(request: Request, user: Viewer, q: str = "") -> Response:
    catalog = state_of(request).catalog()
    q = q.strip()[:QUERY_CHARS]
    hits = lookup(q, catalog) if q else []
    places = places_named(q, catalog) if q else []
    entries = [] if q else sorted(catalog.entries, key=lambda e: e.id)
    return page(request, "catalog.html", user=user, q=q, hits=hits, places=places, entries=entries)


@router.get("/catalog/entry/{entry_id}", response_class=HTMLResponse)
def entry_page(request: Request, user: Viewer, entry_id: str) -> Response:
    state = state_of(request)
    catalog = state.catalog()
    entry = catalog.entry(entry_id)
    if entry is None:
        raise HTTPException(status_code=404)
    facts = dated_facts(entry, catalog.rules.freshness, date.today())
    sites = [site_record(s, catalog.places) for s in entry.sites]
    with RefreshLog.at(state.db_path) as log:
        history = log.refreshes(entry.id)
    return page(
        request,
        "entry.html",
        user=user,
        entry=entry,
        facts=sorted(facts, key=lambda f: (not f.old, f.dated)),
        sites=[(site_head(s), site_details(s), s) for s in sites],
        sources=[(key, s, _link(s.url)) for key, s in entry.sources.items()],
        history=history,
    )


def _link(url: str | None) -> str | None:
    """A source address to link to: http(s) only (a registry could hold 'javascript:')."""
    return url if url and url.startswith(("https://", "http://")) else None


@router.get("/catalog/history", response_class=HTMLResponse)
def history_page(request: Request, user: Viewer) -> Response:
    with RefreshLog.at(state_of(request).db_path) as log:
        items = log.refreshes()
    return page(request, "history.html", user=user, items=items)


@router.get("/catalog/stale", response_class=HTMLResponse)
def stale_page(request: Request, user: Viewer) -> Response:
    catalog = state_of(request).catalog()
    today = date.today()
    items = stale_entries(catalog, today)
    limits = catalog.rules.freshness.limits_days
    return page(request, "stale.html", user=user, items=items, limits=limits, today=today)


@router.get("/catalog/refresh", response_class=HTMLResponse)
def refresh_page(request: Request, user: Curator) -> Response:
    return page(request, "refresh.html", user=user, diff=None, applied=None, problem=None)


@router.post("/catalog/refresh", response_class=HTMLResponse)
async def refresh(request: Request, user: Curator) -> Response:
    """A sheet of updates or registry JSON: the diff (dry run), or applied and logged."""
    form = await request.form()
    state = state_of(request)
    apply = form.get("action") == "apply"
    context: dict[str, Any] = {"user": user, "diff": None, "applied": None, "problem": None}
    context["callbacks"] = None
    try:
        with saved_upload(form.get("file"), (".csv", ".xlsx", ".json")) as path:
            context.update(await run_in_threadpool(_refresh, state, path, apply, user))
    except CartmatchError as error:
        context["problem"] = str(error)
        return page(request, "refresh.html", 400, **context)
    return page(request, "refresh.html", **context)


def _refresh(state: WebState, path: Path, apply: bool, user: User) -> dict[str, Any]:
    """The diff of one source; applied, the refresh id and the families to call back."""
    from matcher.curation.callbacks import after_change
    from matcher.curation.refresh import apply_plan, plan_refresh

    today = date.today()
    plan = plan_refresh([path], state.catalog(), today=today)
    for source in plan.sources:  # the log names the upload, not its private temporary path
        source["path"] = f"web upload {path.name} by {user.name}"
    out: dict[str, Any] = {"diff": diff_text({**plan.diff(), "applied": apply})}
    if apply:
        out["applied"] = apply_plan(plan, state.db_path)
        log_change(state.db_path, user.name, "catalog.refresh", f"refresh {out['applied']}")
        out["callbacks"] = after_change(state.db_path, state.catalog(), today, by=user.name)
    return out
