"""The referral page: the form (every profile field, with the vocabulary's suggestions), the
paste-a-JSON box, and the ranked options with their explanations, the records to request and
the cost chart."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from matcher.core.catalog import Catalog
from matcher.core.engine import MatchResult
from matcher.core.recognise import Kind, describe, recognise
from matcher.errors import CartmatchError
from matcher.model.vocabulary import text_key
from matcher.storage.users import User
from matcher.web.forms import (
    CHOICES,
    FLAG_FIELDS,
    cost_bars,
    profile_from_form,
    records_to_request,
)
from matcher.web.matching import match_result
from matcher.web.state import WebState, page, signed_in, state_of

router = APIRouter()
Viewer = Annotated[User, Depends(signed_in)]
#: Suggestions shown as you type.
SUGGESTIONS = 12
#: Kinds of suggestion and the form field each reads.
SUGGESTED = {"diagnosis": "diagnosis", "therapy": "prior_therapies"}


@router.get("/match", response_class=HTMLResponse)
def match_page(request: Request, user: Viewer) -> Response:
    return page(request, "match.html", user=user, choices=CHOICES, flags=FLAG_FIELDS, form={})


@router.post("/match", response_class=HTMLResponse)
async def match_referral(request: Request, user: Viewer) -> Response:
    """The options for the form or pasted JSON: the results fragment for htmx, else the page
    with the form as filled in and the results under it."""
    form = await request.form()
    context: dict[str, Any] = {"user": user, "choices": CHOICES, "flags": FLAG_FIELDS}
    context["form"] = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
    status = 200
    try:
        data = await _matched(request, form, user, context)
        context.update(data=data, asks=records_to_request(data), bars=cost_bars(data))
    except CartmatchError as error:
        context["problem"], status = str(error), 400
    name = "results.html" if request.headers.get("hx-request") else "match.html"
    return page(request, name, status, **context)


async def _matched(request: Request, form: Any, user: User, context: dict[str, Any]) -> Any:
    """The match in its JSON shape, on the matching workers; saved as a case when asked."""
    state = state_of(request)
    raw = profile_from_form(form)
    if not raw:
        raise CartmatchError("give at least a diagnosis, in the form or as JSON")
    include_all, city = form.get("include_all") == "yes", str(form.get("city") or "").strip()
    if form.get("save_case") != "yes":
        return await state.match(raw, include_all, city)
    if not str(raw.get("referral_id") or "").strip():
        raise CartmatchError("to save the referral as a case, give it a referral id")
    catalog = await run_in_threadpool(state.catalog)
    result = await run_in_threadpool(match_result, catalog, raw, include_all, city, date.today())
    context["saved_case"] = await run_in_threadpool(
        _save_case, state, raw, result, user, include_all
    )
    return result.as_dict()


def _save_case(
    state: WebState, raw: dict[str, Any], result: MatchResult, user: User, include_all: bool
) -> int:
    """The look-up saved as a case (issue #16), as `cartmatch match --save` saves it."""
    from matcher.curation.cases import save_lookup

    return save_lookup(state.db_path, raw, result, include_all=include_all, by=user.name)


@router.get("/suggest/{kind}", response_class=HTMLResponse)
def suggest(request: Request, user: Viewer, kind: str) -> Response:
    """Datalist options as you type (diagnosis or therapy), and what the text reads as. The
    text comes as the form field htmx sends (diagnosis, prior_therapies) or as q."""
    if kind not in SUGGESTED:
        return Response(status_code=404)
    q = request.query_params.get(SUGGESTED[kind]) or request.query_params.get("q") or ""
    catalog = state_of(request).catalog()
    # Prior therapies are a ';' list: suggest for the last one, keeping those before it.
    head, _, last = q.rpartition(";") if kind == "therapy" else ("", "", q)
    prefix = f"{head.strip()}; " if head.strip() else ""
    names = _names(catalog, kind)
    key = text_key(last.strip())[:200]
    found = [n for n in names if key and key in text_key(n)][:SUGGESTIONS] if key else []
    reading = None
    if last.strip():
        as_kind: Kind = "diagnosis" if kind == "diagnosis" else "therapy"
        reading = describe(recognise(last.strip()[:2000], catalog.lexicon, as_kind))
    return page(
        request,
        "suggest.html",
        user=user,
        kind=kind,
        options=[prefix + n for n in found],
        reading=reading,
    )


@lru_cache(maxsize=4)
def _names(catalog: Catalog, kind: str) -> tuple[str, ...]:
    """The vocabulary's names to suggest, built once per catalog: curated disease names
    (English, Chinese, synonyms) or therapy names and aliases."""
    vocabulary = catalog.lexicon.vocabulary
    if kind == "diagnosis":
        curated = [d for d in vocabulary.diseases if ":" not in d.code]
        names = [n for d in curated for n in (d.name, d.name_zh, *d.synonyms) if n]
    else:
        names = [n for t in vocabulary.therapies for n in (t.name, *t.aliases)]
    # one spelling of each name ('Hodgkin lymphoma' and 'Hodgkin Lymphoma' are one)
    first: dict[str, str] = {}
    for name in names:
        first.setdefault(name.casefold(), name)
    return tuple(first.values())
