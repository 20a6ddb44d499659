"""Values as partner hospitals write them (matcher/model/written.py), read by the profile
validators: the single path reads them, so bulk screening does too."""

from __future__ import annotations

from datetime import date

import pytest

from matcher.errors import ProfileError
from matcher.model.patient import parse_profile


def read(**fields):
    return parse_profile({"diagnosis": "DLBCL", **fields})


@pytest.mark.parametrize(
    ("field", "raw", "expected"),
    [
        pytest.param("age", "５５", 55, id="full-width-digits"),
        pytest.param("age", "55 岁", 55, id="age-unit"),
        pytest.param("age", "55周岁", 55, id="age-full-years"),
        pytest.param("prior_lines", "２线", 2, id="lines-full-width"),
        pytest.param("prior_lines", "三线", 3, id="lines-chinese-numeral"),
        pytest.param("prior_lines", "3 lines", 3, id="lines-english"),
        pytest.param("ecog", "ECOG 1", 1, id="ecog-prefix"),
        pytest.param("ecog", "PS评分：2分", 2, id="ps-score"),
        pytest.param("sex", "男", "male", id="sex-zh"),
        pytest.param("sex", "Ｆ", "female", id="sex-full-width"),
        pytest.param("disease_status", "进展", "refractory", id="progression"),
        pytest.param("disease_status", "PD", "refractory", id="pd"),
        pytest.param("disease_status", "复发", "relapsed", id="relapse"),
        pytest.param("disease_status", "难治", "refractory", id="refractory"),
        pytest.param("disease_status", "完全缓解", "remission", id="cr-zh"),
        pytest.param("disease_status", "初治", "newly_diagnosed", id="untreated"),
        pytest.param("date_of_birth", "1970/8/15", date(1970, 8, 15), id="slashes"),
        pytest.param("date_of_birth", "1970年8月15日", date(1970, 8, 15), id="chinese-date"),
        pytest.param("date_of_birth", "1970.8.15", date(1970, 8, 15), id="dots"),
        pytest.param("date_of_birth", "15/08/1970", date(1970, 8, 15), id="day-first"),
        pytest.param("date_of_birth", "08/15/1970", date(1970, 8, 15), id="month-first"),
        pytest.param("date_of_birth", 25795, date(1970, 8, 15), id="excel-serial"),
        pytest.param("date_of_birth", "25795", date(1970, 8, 15), id="excel-serial-text"),
    ],
)
def test_values_as_partners_write_them(field, raw, expected):
    assert getattr(read(**{field: raw}), field) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("强阳性", {"intensity": 3}),
        ("弱阳性", {"intensity": 1}),
        ("弱阳性(10%)", {"percent": 10.0, "intensity": 1}),
        ("阳性(+)", "positive"),
        ("（＋）", "positive"),
        ("（－）", "negative"),
        ("阴性(-)", "negative"),
        ("+++", {"intensity": 3}),
        ("部分阳性 30%", {"percent": 30.0}),
        ("部分阳性", "positive"),
        ("６０％ ２＋", {"percent": 60.0, "intensity": 2}),
    ],
)
def test_antigen_words(raw, expected):
    value = read(antigens={"CD19": raw}).antigens["CD19"]
    shown = value if isinstance(value, str) else value.model_dump(exclude_none=True)
    assert shown == expected


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        pytest.param({"disease_status": "PR"}, "partial response", id="pr-is-no-status"),
        pytest.param({"disease_status": "SD"}, "stable disease", id="sd-is-no-status"),
        pytest.param({"disease_status": "部分缓解"}, "partial response", id="pr-zh"),
        pytest.param({"date_of_birth": "05/08/1970"}, "day/month or month/day", id="dmy-both"),
        pytest.param({"date_of_birth": "1970年5月"}, "gives no day", id="month-only"),
        pytest.param({"prior_lines": ">3线"}, "not a count", id="bound"),
        pytest.param({"antigens": {"CD19": "±"}}, "equivocal", id="equivocal"),
        pytest.param({"antigens": {"CD19": "阴性(+)"}}, "two different things", id="conflict"),
        pytest.param({"age": "五十五岁半"}, "age", id="unreadable-age"),
    ],
)
def test_ambiguous_values_are_rejected_naming_the_field(fields, message):
    with pytest.raises(ProfileError) as raised:
        read(**fields)
    assert message in str(raised.value)
    assert raised.value.field and raised.value.field.split(".")[0] in fields


def test_cycle_counts_are_dropped_from_prior_therapies():
    therapies = read(prior_therapies="R-CHOP×6周期、R-ICE x2；GDP 2个疗程").prior_therapies
    assert therapies == ["R-CHOP", "R-ICE", "GDP"]
