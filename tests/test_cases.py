"""Golden clinical cases, kept as data in tests/cases/*.yaml (a clinician can add one).

Each case names the label or protocol line it checks; the runner asserts the status of every
option it lists.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from matcher.core.engine import match
from matcher.core.patient import load_patient
from tests.conftest import TODAY

CASES_DIR = Path(__file__).parent / "cases"


def _cases() -> list[Any]:
    out = []
    for path in sorted(CASES_DIR.glob("*.yaml")):
        for case in yaml.safe_load(path.read_text(encoding="utf-8"))["cases"]:
            out.append(pytest.param(case, id=case["id"]))
    return out


CASES = _cases()


def test_there_are_enough_cases_and_each_cites_a_source():
    ids = [p.values[0]["id"] for p in CASES]
    assert len(ids) >= 25
    assert len(ids) == len(set(ids)), "case ids must be unique"
    for param in CASES:
        case = param.values[0]
        assert len(str(case.get("source", ""))) > 10, f"{case['id']} cites no source"
        assert case["expect"], f"{case['id']} expects nothing"


@pytest.mark.parametrize("case", CASES)
def test_case(catalog, case):
    today = date.fromisoformat(str(case["today"])) if case.get("today") else TODAY
    patient, warnings = load_patient(case["patient"], catalog.lexicon, today)
    result = match(patient, catalog, warnings=warnings, include_all=True)
    got = {f"{o.entry.id}/{o.indication.id}": o for o in result.options}
    for option, expected in case["expect"].items():
        assert option in got, f"{option} is not in the catalog"
        found = got[option]
        explain = "; ".join(f"{v.id}={v.outcome.value}" for v in found.verdicts)
        assert found.status.value == expected, f"{option}: {explain}"
