"""Referrals as bulk screening reads them, for the unit tests of `matcher.bulk`: cells column by
column, a cohort checked by `Checker.check` (the rows it leaves to the single path put through
it, as `screening` does), and every row through the single path for comparison."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from matcher.bulk.checker import Checker
from matcher.bulk.cohort import Cells, Cohort
from matcher.bulk.frame import Loaded, is_empty, load_row, raw_referral_id, record_of
from matcher.core.catalog import Catalog
from matcher.model.patient import Patient
from tests.conftest import TODAY

#: Valid referrals as cells of a CSV (text), each one accepted by the single path. Between
#: them they give every input a criterion reads, several times over, and leave each one out.
REFERRALS: list[dict[str, Any]] = [
    {
        "referral_id": "R1",
        "diagnosis": "DLBCL",
        "age": "54",
        "disease_status": "refractory",
        "prior_lines": "2",
        "antigens.CD19": "pos",
        "prior_therapies": "R-CHOP;ASCT",
        "ecog": "1",
    },
    {"referral_id": "R2", "diagnosis": "DLBCL", "age": "54", "prior_lines": "2"},
    {
        "referral_id": "R3",
        "diagnosis": "弥漫大B细胞淋巴瘤",
        "age": "17",
        "disease_status": "复发难治",
    },
    {"referral_id": "R4", "diagnosis": "lymphoma", "age": "80", "ecog": "3"},
    {"referral_id": "R5", "diagnosis": "follicular lymphoma", "prior_lines": "0"},
    {"referral_id": "R6", "diagnosis": "difuse large b cell lymphoma", "prior_lines": "3"},
    {"referral_id": "R7", "diagnosis": "breast cancer, now DLBCL", "disease_status": "relapsed"},
    {
        "referral_id": "R8",
        "diagnosis": "DLBCL",
        "prior_therapies": "R-CHOP;axi-cel (2025-06-01)",
        "antigens.CD19": "negative 2026-01",
        "prior_lines": "3",
        "cns_involvement": "yes",
    },
    {
        "referral_id": "R9",
        "diagnosis": "multiple myeloma",
        "age": "66",
        "prior_lines": "4",
        "antigens.BCMA": "阳性",
        "disease_status": "r/r",
        "prior_therapies": "bortezomib;lenalidomide;daratumumab",
    },
    {
        "referral_id": "R10",
        "diagnosis": "MM",
        "prior_therapies": "VRd;teclistamab 2026-03",
        "prior_lines": "2",
        "active_infection": "是",
    },
    {"referral_id": "R11", "diagnosis": "B-ALL", "age": "19", "sex": "f", "pregnant": "yes"},
    {"referral_id": "R12", "diagnosis": "B-ALL", "date_of_birth": "2008-11-24", "sex": "男"},
    {
        "referral_id": "R13",
        "diagnosis": "胃癌",
        "age": "61",
        "antigens.CLDN18.2": "60% 2+",
        "antigens.HER2": "阴性",
        "prior_lines": "2",
        "disease_status": "progressive",
    },
    {
        "referral_id": "R14",
        "diagnosis": "stomach adenocarcinoma",
        "antigens.CLDN18.2": "30% 3+",
        "antigens.HER2": "2+",
        "prior_lines": "1",
    },
    {"referral_id": "R15", "diagnosis": "胃腺癌术后", "antigens.CLDN18.2": "80%:1+", "ecog": "0"},
    {
        "referral_id": "R16",
        "diagnosis": "肝细胞癌 CNLC IIb",
        "labs.child_pugh": "A6",
        "antigens.GPC3": "positive (2026-09-20)",
        "prior_lines": "1",
    },
    {"referral_id": "R17", "diagnosis": "HCC", "labs.child_pugh": "B", "stage": "CNLC IIIa"},
    {"referral_id": "R18", "diagnosis": "HCC", "labs.child_pugh": "B8", "ecog": "2"},
    {
        "referral_id": "R19",
        "diagnosis": "lupus nephritis",
        "sex": "female",
        "labs.sledai": "12",
        "prior_therapies": "mycophenolate;belimumab",
        "age": "25",
    },
    {"referral_id": "R20", "diagnosis": "SLE", "labs.egfr": "45", "breastfeeding": "no"},
    {"referral_id": "R21", "diagnosis": "重症肌无力 MGFA IVa", "age": "45"},
    {"referral_id": "R22", "diagnosis": "myasthenia gravis", "stage": "MGFA IIIb"},
    {"referral_id": "R23", "diagnosis": "metastatic pancreatic adenocarcinoma", "ecog": "1"},
    {"referral_id": "R24", "diagnosis": "pancreatic cancer", "setting": "adjuvant"},
    {"referral_id": "R25", "diagnosis": "qwertyuiop", "age": "50"},
    {"referral_id": "R26", "diagnosis": "T-ALL", "antigens.CD7": "pos", "labs.lvef": "45"},
    {
        "referral_id": "R27",
        "diagnosis": "mantle cell lymphoma",
        "prior_therapies": "ibrutinib",
        "prior_lines": "2",
        "disease_tempo": "rapid",
        "budget_cny": "500000",
    },
    {"referral_id": "R28", "diagnosis": "NMOSD", "disease_status": "remission"},
    {"referral_id": "R29", "diagnosis": "DLBCL", "labs.lvef": "55.5", "prior_allo_sct": "0"},
    {"referral_id": "R30", "diagnosis": "DLBCL"},
    {
        "referral_id": "R31",
        "diagnosis": "difuse large b cell lymphoma",
        "prior_therapies": "R-CHOP;foo",
        "disease_status": "复发难治",
    },
]


def cells_of(rows: list[dict[str, Any]]) -> dict[str, Cells]:
    """Each column as bulk screening reads it: a code per row into its distinct values in
    order of first appearance (-1: empty), the values, and a key for each that tells apart
    values of different types."""
    names = list(dict.fromkeys(name for row in rows for name in row))
    cells: dict[str, Cells] = {}
    for name in names:
        values: list[Any] = []
        keys: list[Any] = []
        codes = []
        for row in rows:
            value = row.get(name)
            if is_empty(value):
                codes.append(-1)
                continue
            key = value if isinstance(value, str) else f"{type(value).__name__}:{json.dumps(value)}"
            if key not in keys:
                keys.append(key)
                values.append(value)
            codes.append(keys.index(key))
        cells[name] = (np.array(codes, dtype=np.int64), values, keys)
    return cells


@dataclass
class Checked:
    """A chunk of referrals as the bulk path holds them, and each row through the single path."""

    checker: Checker
    cohort: Cohort
    slow: list[int]
    """The rows `Checker.check` left to the single path."""
    loaded: list[Loaded]

    def patient(self, row: int) -> Patient:
        patient = self.loaded[row].patient
        assert patient is not None, self.loaded[row].error
        return patient


def check(catalog: Catalog, rows: list[dict[str, Any]], checker: Checker | None = None) -> Checked:
    """The rows checked column-wise; the rows left to the single path put through it alone,
    as `screening` does (rejected with its field and message, or filled from its patient)."""
    checker = checker or Checker(catalog.lexicon, TODAY, pd.factorize)
    lines = np.arange(2, 2 + len(rows), dtype=np.int64)
    cohort, slow = checker.check(cells_of(rows), lines)
    loaded = [
        load_row(record_of(list(row), row.values()), catalog, TODAY, int(line))
        for row, line in zip(rows, lines, strict=True)
    ]
    for pos in slow.tolist():
        got = loaded[pos]
        if got.patient is None:
            cohort.reject(pos, raw_referral_id(rows[pos]), got.field, got.error or "")
        else:
            checker.set_patient(cohort, pos, got.patient, got.warnings)
    return Checked(checker, cohort, slow.tolist(), loaded)


def input_of(patient: Patient, attr: str) -> Any:
    """A patient input as `Node.reads` names it, in the form the cohort gives it."""
    head, _, name = attr.partition(".")
    profile = patient.profile
    if head in ("indication", "age"):
        return getattr(patient, head)
    if head == "candidates":
        return patient.indication_candidates or ()
    if head == "therapy":
        if patient.prior_therapy_classes is None:
            return None
        return (patient.prior_therapy_classes, patient.exposures)
    if head == "antigen":
        if name not in profile.antigens:
            return None
        return (profile.antigens[name], profile.antigen_dates.get(name))
    if head == "lab":
        return profile.labs.get(name)
    return getattr(profile, name if head == "flag" else head)
