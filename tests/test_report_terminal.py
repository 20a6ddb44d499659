"""The compact terminal view of `match` (issue #15, part 4) and amounts in notes."""

from __future__ import annotations

import re

import pytest

from matcher.render.compact import display_width, match_compact
from matcher.render.money import amount_range, money_in_text
from tests.conftest import run_match

GASTRIC = {
    "diagnosis": "胃癌",
    "antigens": {"CLDN18.2": "60%:2+", "HER2": "negative"},
    "prior_lines": 2,
    "age": 61,
}


@pytest.mark.parametrize("width", [100, 72, 50])
def test_compact_view_fits_the_terminal(catalog, width):
    result = run_match(catalog, **GASTRIC)
    shown = result.options
    text = match_compact(result, "CNY", width)
    assert max(display_width(line) for line in text.splitlines()) <= width
    assert "satri-cel / gastric-3l [ELIGIBLE]" in " ".join(text.split())
    assert len(shown) > 1


def test_compact_view_lists_each_ask_once_with_the_options_it_decides(catalog):
    text = match_compact(run_match(catalog, **GASTRIC))
    asks = text.split("Ask the referring doctor for", 1)[1]
    assert asks.count("ECOG performance status from a recent visit") == 1
    assert "ECOG performance status from a recent visit (" in asks


def test_amounts_read_as_people_read_them():
    assert amount_range(1_493_000, 1_629_000, "CNY") == "CNY 1.49–1.63 M"
    assert amount_range(70_000, 160_000, "CNY") == "CNY 70–160k"
    assert amount_range(5_556, 6_250, "USD") == "USD 5,600–6,200"


def test_notes_follow_the_chosen_currency():
    note = "disease tempo unknown: bridging (CNY 70,000-160,000) not included"
    assert money_in_text(note, "USD", 7.2) == (
        "disease tempo unknown: bridging (USD 9.7–22.2k) not included"
    )
    assert money_in_text(note, "CNY", 7.2) == (
        "disease tempo unknown: bridging (CNY 70–160k) not included"
    )


def test_details_date_the_model_rate_and_not_a_rate_given(runner):
    from matcher.cli import cli

    args = ["match", "--diagnosis", "DLBCL", "--prior-lines", "2", "--details"]
    model = runner.invoke(cli, args)
    given = runner.invoke(cli, [*args, "--fx", "7.0"])
    assert model.exit_code == given.exit_code == 0
    assert re.search(r"at [\d.]+ CNY/USD \(\d{4}-\d{2}\)", model.stdout)  # the model's date
    assert "at 7 CNY/USD (the rate given)" in given.stdout
    assert not re.search(r"CNY/USD \(\d{4}", given.stdout)
