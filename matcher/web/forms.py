"""The referral form and the pasted JSON as the raw profile `load_patient` validates, and the
shapes the result pages show (records to request, the cost chart)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from matcher.errors import InputFileError
from matcher.limits import JSON_DEPTH, PROFILE_BYTES, json_nesting
from matcher.render.compact import merged_asks

#: Text fields of the form, named as the profile fields (DESIGN section 2).
TEXT_FIELDS = (
    "referral_id",
    "diagnosis",
    "indication",
    "age",
    "date_of_birth",
    "sex",
    "disease_status",
    "setting",
    "stage",
    "prior_lines",
    "ecog",
    "disease_tempo",
    "country",
    "budget_cny",
    "insurance",
)
#: Yes/no fields: a select of unknown, yes, no (unknown is left out of the profile).
FLAG_FIELDS = (
    "cns_involvement",
    "prior_allo_sct",
    "active_infection",
    "pregnant",
    "breastfeeding",
    "active_gvhd",
)
CHOICES = {
    "sex": ("female", "male", "other"),
    "disease_status": ("newly_diagnosed", "relapsed", "refractory", "remission"),
    "setting": ("adjuvant", "advanced"),
    "disease_tempo": ("stable", "rapid"),
    "ecog": ("0", "1", "2", "3", "4"),
}


def profile_from_form(form: Mapping[str, Any]) -> dict[str, Any]:
    """The pasted JSON (if any) with the filled-in form fields over it, as on the command
    line a file with flags over it."""
    pasted = str(form.get("profile_json") or "")
    raw = parse_pasted(pasted) if pasted.strip() else {}
    for name in TEXT_FIELDS:
        value = str(form.get(name) or "").strip()
        if value:
            raw[name] = value
    for name in FLAG_FIELDS:
        value = str(form.get(name) or "")
        if value in ("yes", "no"):
            raw[name] = value == "yes"
    therapies = [t.strip() for t in str(form.get("prior_therapies") or "").split(";")]
    if any(therapies):
        raw["prior_therapies"] = [t for t in therapies if t]
    for name in ("antigens", "labs"):
        given = assignments(str(form.get(name) or ""), name)
        if given:
            raw[name] = {**(raw.get(name) or {}), **given}
    return raw


def assignments(text: str, field: str) -> dict[str, str]:
    """'CD19=positive' lines (or ';'-separated) as a mapping; a line without '=' is one
    sentence naming it."""
    out = {}
    for line in text.replace(";", "\n").splitlines():
        if not line.strip():
            continue
        name, sep, value = line.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise InputFileError(
                f"{field}: '{line.strip()[:80]}' is not NAME=VALUE (e.g. CD19=positive)",
                path=field,
            )
        out[name.strip()] = value.strip()
    return out


def parse_pasted(text: str) -> dict[str, Any]:
    """A pasted JSON object of profile fields, within the profile's size and nesting limits."""
    size = len(text.encode("utf-8"))
    if PROFILE_BYTES.exceeded(size):
        raise InputFileError(f"the pasted JSON: {PROFILE_BYTES.message(size)}", path="JSON")
    depth = json_nesting(text)
    if JSON_DEPTH.exceeded(depth):
        raise InputFileError(f"the pasted JSON: nested {JSON_DEPTH.message(depth)}", path="JSON")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputFileError(
            f"the pasted JSON, line {error.lineno}, column {error.colno}: invalid JSON "
            f"({error.msg}); correct it and try again",
            path="JSON",
        ) from None
    except ValueError:
        raise InputFileError("the pasted JSON holds a number too long to read") from None
    if not isinstance(data, dict):
        raise InputFileError(
            f"the pasted JSON is a {type(data).__name__}: give an object of profile fields, "
            'e.g. {"diagnosis": "DLBCL"}',
            path="JSON",
        )
    return data


def records_to_request(data: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """What to ask the referring doctor for, once each, with the options that need it."""
    return list(merged_asks(data["options"], lambda o: f"{o['rank']}. {o['entry_id']}").items())


def cost_bars(data: dict[str, Any], width: int = 600) -> list[dict[str, Any]]:
    """Each option's CNY cost range as a bar on one scale (SVG coordinates); an unknown
    cost has no bar and says so."""
    known = [o["cost"]["high"] for o in data["options"] if o["cost"].get("high") is not None]
    top = max(known, default=0) or 1
    bars = []
    for row, option in enumerate(data["options"]):
        low, high = option["cost"].get("low"), option["cost"].get("high")
        bar: dict[str, Any] = {"y": row * 28, "label": f"{option['rank']}. {option['entry_id']}"}
        if low is not None and high is not None:
            bar.update(x=round(low / top * width), w=max(2, round((high - low) / top * width)))
            bar.update(low=low, high=high)
        bars.append(bar)
    return bars
