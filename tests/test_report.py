"""Reports to send (issue #15): the README's DLBCL, gastric and lupus examples written as PDF and
HTML, in English and Chinese, for the family and the MDT; each PDF rendered once per module."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from markupsafe import escape

from matcher.cli import cli
from matcher.core.engine import match
from matcher.core.patient import load_patient
from matcher.report import words as report_words
from matcher.report.content import ReportRequest, build_report
from matcher.report.document import render_html, write_report
from matcher.report.refs import number_ranges
from matcher.report.words import Words
from tests.conftest import TODAY

ROOT = Path(__file__).parents[1]

#: The README's examples, as profiles.
EXAMPLES = {
    "dlbcl": (
        {"diagnosis": "DLBCL", "disease_status": "refractory", "prior_lines": 2, "age": 54},
        "CNY",
        None,
    ),
    "gastric": (
        {
            "diagnosis": "胃癌",
            "antigens": {"CLDN18.2": "60%:2+", "HER2": "negative"},
            "prior_lines": 2,
            "age": 61,
        },
        "CNY",
        None,
    ),
    "lupus": ({"diagnosis": "lupus nephritis", "prior_lines": 3}, "USD", 7.1),
}
KINDS = [
    (example, lang, audience)
    for example in EXAMPLES
    for lang in ("en", "zh")
    for audience in ("family", "mdt")
]
DISCLAIMER = {
    "en": "It is not medical advice and does not confirm eligibility",
    "zh": "本报告不构成医疗建议",
}

needs_poppler = pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext, pdftoppm) not installed"
)


def report_of(catalog, example: str, lang: str, audience: str, **extra):
    profile, currency, fx = EXAMPLES[example]
    patient, warnings = load_patient({**profile, **extra}, catalog.lexicon, TODAY)
    result = match(patient, catalog, warnings=warnings, include_all=True, fx=fx, today=TODAY)
    return build_report(result, catalog, ReportRequest(audience, lang, currency, TODAY))


@pytest.fixture(scope="module")
def written(catalog, tmp_path_factory):
    """Every example x language x audience, as HTML and PDF, written once for the module."""
    folder = tmp_path_factory.mktemp("reports")
    report_words.UNTRANSLATED.clear()
    out = {}
    for kind in KINDS:
        report = report_of(catalog, *kind)
        paths = {}
        for suffix in ("html", "pdf"):
            paths[suffix] = folder / f"{'-'.join(kind)}.{suffix}"
            write_report(report, paths[suffix])
        out[kind] = (report, paths)
    return out


def squeeze(text: str) -> str:
    """Text without whitespace: PDF extraction breaks lines anywhere in Chinese."""
    return re.sub(r"\s+", "", text)


def pdf_text(path: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def shown(report) -> list[dict]:
    return [o for group in report["groups"] for o in group["options"]]


@needs_poppler
@pytest.mark.parametrize("kind", KINDS, ids="-".join)
def test_pdf_has_the_options_costs_sources_and_disclaimer(written, kind):
    report, paths = written[kind]
    text = squeeze(pdf_text(paths["pdf"]))
    options = shown(report)
    assert options, "every README example has options"
    for option in options[:3]:
        assert squeeze(option["name"]) in text
        # The MDT reads the cost in a table's narrow column: the figure in the chosen currency
        # is whole on its line, the other may wrap beside the next column's text.
        cost = option["cost"]["range"]
        assert squeeze(cost.split(" (")[0] if kind[2] == "mdt" else cost) in text
    assert squeeze(report["sources"][0]["title"]) in text
    assert squeeze(DISCLAIMER[kind[1]]) in text


@needs_poppler
@pytest.mark.parametrize("kind", KINDS, ids="-".join)
def test_pdf_pages_are_not_blank(written, kind, tmp_path):
    from PIL import Image

    _, paths = written[kind]
    subprocess.run(
        ["pdftoppm", "-r", "40", "-png", str(paths["pdf"]), str(tmp_path / "page")], check=True
    )
    pages = sorted(tmp_path.glob("page*.png"))
    assert pages
    for page in pages:
        darkest, _ = Image.open(page).convert("L").getextrema()
        assert darkest < 160, f"{page.name} is blank"


@needs_poppler
@pytest.mark.parametrize("kind", [k for k in KINDS if k[1] == "zh"], ids="-".join)
def test_chinese_pdf_embeds_the_cjk_font_and_every_glyph(written, kind):
    report, paths = written[kind]
    fonts = subprocess.run(
        ["pdffonts", str(paths["pdf"])], capture_output=True, text=True, check=True
    ).stdout
    embedded = fonts.splitlines()[2:]
    # Every text, the chart's and code's too, in the bundled font: no system font needed.
    assert embedded and all("Report-Sans" in line and " yes " in line for line in embedded), fonts
    text = pdf_text(paths["pdf"])
    assert "\ufffd" not in text and ".notdef" not in text
    squeezed = squeeze(text)
    for chinese in ("收到的患者资料", "需索取的病历和检查", "资料来源", shown(report)[0]["name"]):
        assert squeeze(chinese) in squeezed
    assert "万" in text


def test_money_is_rounded_as_people_read_it():
    en, zh = Words.of("en"), Words.of("zh")
    assert en.money(1_493_000, 1_629_000, "CNY") == "CNY 1.49–1.63 M"
    assert en.money(207_361, 226_250, "USD", about=True) == "about USD 207–226k"
    assert zh.money(1_493_000, 1_629_000, "CNY") == "149–163 万元"
    assert zh.money(207_361, 226_250, "USD", about=True) == "约 20.7–22.6 万美元"
    assert zh.date("2026-11-29") == "2026年11月29日"


def test_family_report_groups_the_dlbcl_options(written):
    report, paths = written[("dlbcl", "en", "family")]
    titles = [g["title"] for g in report["groups"]]
    assert titles[0] == "Can proceed"
    assert shown(report)[0]["name"].startswith("Axicabtagene ciloleucel")
    assert report["left_out"]["count"] > 0
    html = paths["html"].read_text(encoding="utf-8")
    assert "CNY 1.49–1.63 M (about USD 207–226k)" in html
    assert "Curator notes" not in html and "MedBridgeNZ lists" not in html


def test_mdt_report_has_the_criterion_table_and_curator_notes(written):
    _, paths = written[("dlbcl", "en", "mdt")]
    html = paths["html"].read_text(encoding="utf-8")
    assert "Label or protocol text" in html and "Patient value" in html
    assert "Curator notes" in html


def test_one_merged_list_of_what_to_request_says_what_it_decides(written):
    report, _ = written[("gastric", "en", "family")]
    asks = [a["ask"] for a in report["asks"]]
    assert len(asks) == len(set(asks))
    assert all(a["decides"] for a in report["asks"])


def test_lupus_report_leads_with_usd_at_the_rate_given(written):
    report, _ = written[("lupus", "en", "family")]
    cost = shown(report)[0]["cost"]
    assert cost["range"].startswith("USD ")
    assert cost["fx"] == "At 7.1 CNY per USD (the rate given for this report)."
    assert report["chart"]["currency"] == "USD"


def test_cost_chart_has_a_bar_per_option_and_the_us_reference(written):
    report, paths = written[("dlbcl", "en", "family")]
    html = paths["html"].read_text(encoding="utf-8")
    chart = html.split('<svg class="chart"', 1)[1].split("</svg>", 1)[0]
    assert chart.count("<rect") >= len(shown(report)) + 1
    assert "US reference" in chart


def test_every_fixed_text_is_translated(written):
    catalogue = yaml.safe_load((ROOT / "matcher/report/messages/zh.yaml").read_text("utf-8"))
    template = (ROOT / "matcher/report/templates/report.html.j2").read_text("utf-8")
    used = re.findall(r"""_\(\s*["']((?:[^"'\\]|\\.)+)["']""", template)
    assert used
    assert [text for text in used if text not in catalogue] == []
    assert not report_words.UNTRANSLATED, sorted(report_words.UNTRANSLATED)


def test_every_fixed_word_of_the_code_is_translated():
    from matcher.report import content, costs, refs

    catalogue = yaml.safe_load((ROOT / "matcher/report/messages/zh.yaml").read_text("utf-8"))
    fixed = [text for _, title, intro in content.GROUPS for text in (title, intro)]
    for table in (
        content.TRACKS,
        content.ENROLMENT,
        content.ENROLMENT_PLAIN,
        content.MDT_INTROS,
        content.OUTCOMES,
        content.STATUSES,
        content.SEXES,
        content.REASONS,
        costs.SCENARIOS,
        refs.ROLES,
        refs.CONTACTS,
    ):
        fixed += table.values()
    fixed += costs.NOT_INCLUDED
    fixed += costs.SCENARIO_HEADS.values()
    assert [text for text in fixed if text not in catalogue] == []


def test_every_label_of_the_cost_model_is_translated():
    """Tracks, what an estimate includes and the scenarios, from rules/costs.yaml, and the
    drug line made from an entry's price in each unit."""
    catalogue = yaml.safe_load((ROOT / "matcher/report/messages/zh.yaml").read_text("utf-8"))
    model = yaml.safe_load((ROOT / "rules/costs.yaml").read_text("utf-8"))
    labels = set()

    def walk(node):
        if isinstance(node, dict):
            labels.update(v for k, v in node.items() if k == "label" and isinstance(v, str))
            node = list(node.values())
        for child in node if isinstance(node, list) else []:
            walk(child)

    walk(model)
    for unit in ("per infusion", "per course", "unknown"):
        labels |= {f"CAR-T product, list price {unit}", f"CAR-T product, list price {unit} "
                   "(band; price unknown)"}  # fmt: skip
    assert len(labels) > 20
    assert sorted(text for text in labels if text not in catalogue) == []


def test_html_escapes_referral_text(catalog, tmp_path):
    report = report_of(catalog, "dlbcl", "en", "mdt", diagnosis="<script>alert(1)</script> DLBCL")
    html = render_html(report)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_report_command_writes_a_private_file(runner, tmp_path):
    target = tmp_path / "r.html"
    args = ["report", "--diagnosis", "DLBCL", "--prior-lines", "2", "--status", "refractory"]
    result = runner.invoke(cli, [*args, "-o", str(target), "--today", "2026-11-23"])
    assert result.exit_code == 0, result.output
    assert target.stat().st_mode & 0o777 == 0o600
    assert "axi-cel / lbcl-3l" not in target.read_text(encoding="utf-8")  # family: no ids
    bad = runner.invoke(cli, [*args, "-o", str(tmp_path / "r.txt")])
    assert bad.exit_code == 1
    assert "written as .pdf or .html" in bad.stderr


def test_report_from_a_screening_run_writes_one_file_per_referral(runner, tmp_path):
    sheet = tmp_path / "referrals.csv"
    sheet.write_text(
        "referral_id,diagnosis,prior_lines,age\nR-1,DLBCL,2,54\nR/2,lupus nephritis,3,30\n",
        encoding="utf-8",
    )
    screened = runner.invoke(cli, ["screen", str(sheet), "-o", str(tmp_path / "out.csv")])
    assert screened.exit_code == 0, screened.output
    folder = tmp_path / "reports"
    result = runner.invoke(cli, ["report", "--run", "1", "-o", str(folder), "--format", "html"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in folder.iterdir()) == ["R-1.html", "R_2.html"]
    missing = runner.invoke(cli, ["report", "--run", "99", "-o", str(folder)])
    assert missing.exit_code == 1 and "no saved referrals in run 99" in missing.stderr


def test_citations_read_as_ranges():
    assert number_ranges([7, 1, 2, 3, 5, 8]) == "1–3, 5, 7, 8"
    assert number_ranges([4]) == "4"
    assert number_ranges([]) == ""


@pytest.mark.parametrize("audience", ["family", "mdt"])
def test_each_note_is_said_once(written, audience):
    """A note on several options is said once with their numbers; a cost note is said in the
    cost section, not again among the curator notes (which only the MDT report has)."""
    report, paths = written[("dlbcl", "en", audience)]
    html = paths["html"].read_text(encoding="utf-8")
    cost = report["scenarios"]
    assert any("bridging" in n["text"] for n in cost["shared_notes"])
    notes = [n["text"] for n in cost["shared_notes"]]
    notes += [n for row in cost["rows"] for n in row["notes"]]
    if audience == "mdt":
        notes += [n["text"] for n in report["common_notes"]]
        notes += [n for o in shown(report) for n in o["notes"]]
    assert notes
    assert {n: html.count(escape(n)) for n in notes} == {n: 1 for n in notes}


def test_insurance_context_is_said_once(written):
    report, paths = written[("dlbcl", "en", "mdt")]
    html = paths["html"].read_text(encoding="utf-8")
    texts = [line["text"] for line in report["insurance"]]
    assert len(texts) == len(set(texts))
    assert all(html.count(escape(text)) == 1 for text in texts)
    assert report["insurance"][-1]["count"] == len(shown(report))  # said of all: last


@pytest.mark.parametrize("example", ["dlbcl", "gastric", "lupus"])
def test_mdt_cost_table_has_a_column_per_scenario_with_the_engine_totals(written, example):
    report, paths = written[(example, "en", "mdt")]
    table = report["scenarios"]
    names = [h["name"] for h in table["heads"]]
    assert "bridging" in names and "complicated" in names
    currency = "USD" if example == "lupus" else "CNY"
    numbers = [o["number"] for row in table["rows"] for o in row["options"]]
    assert sorted(numbers) == [o["number"] for o in shown(report)]  # each option in one row
    for row, option in [(r, option) for r in table["rows"] for option in r["options"]]:
        cost = option["cost_raw"]
        assert len(row["cells"]) == len(names)
        for name, cell in zip(names, row["cells"], strict=True):
            scenario = next((s for s in cost.get("scenarios", []) if s["name"] == name), None)
            if scenario is None or scenario.get("low") is None:
                assert cell == "—"
                continue
            low, high = (
                (scenario["usd_low"], scenario["usd_high"])
                if currency == "USD"
                else (scenario["low"], scenario["high"])
            )
            figure = Words.of("en").money(low, high, currency).removeprefix(f"{currency} ")
            assert cell == figure.replace(" ", "\u00a0")
    html = paths["html"].read_text(encoding="utf-8")
    assert all(f">{h['label']}</th>" in html for h in table["heads"])
    costs = html.split('<table class="cost-table mdt">', 1)[1].split("</table>", 1)[0]
    assumed = sum(1 for row in table["rows"] if row["cost"]["assumed_price"])
    assert costs.count("price not published; an assumed band") == assumed  # said in its row
    assert assumed or example != "gastric", "the gastric example has a product without a price"
    assert f"if that happens, in {currency}." in html  # the cells' currency, said once


def test_what_is_included_is_said_per_group_of_options_it_is_true_of(written):
    """A commercial option includes the product's list price; a trial's product is provided:
    each option's own list, never the first option's for all."""
    report, _ = written[("gastric", "en", "family")]
    options = {o["number"]: sorted(o["cost"]["included"]) for o in shown(report)}
    groups = report["included"]
    assert len(groups) > 1, "the gastric options are on more than one track"
    said: dict[int, list[str]] = {number: [] for number in options}
    for group in groups:
        for number in options:
            if number_in(group["options"], number):
                said[number] += group["parts"]
    assert {n: sorted(parts) for n, parts in said.items()} == options
    assert groups[-1]["count"] == len(options)  # what every option includes: said once, last


def test_options_with_the_same_estimate_share_a_row_and_a_bar(written):
    """Eighteen lupus trials on one pathway cost the same: one row of the cost table and one
    bar of the chart, naming them by number, not eighteen identical lines."""
    report, paths = written[("lupus", "en", "family")]
    rows = report["scenarios"]["rows"]
    assert len(rows) < len(shown(report))
    grouped = next(row for row in rows if len(row["options"]) > 3)
    numbers = [o["number"] for o in grouped["options"]]
    assert grouped["names"] == [f"Options {number_ranges(numbers)}"]
    bars = [b for b in report["chart"]["rows"] if not b["us"]]
    assert grouped["names"][0] in [b["label"] for b in bars] and len(bars) <= len(rows)
    html = paths["html"].read_text(encoding="utf-8")
    table = html.split('<table class="cost-table family">', 1)[1].split("</table>", 1)[0]
    assert table.count("<tr>") == 1 + len(rows)  # the head and one row per estimate
    assert f"{grouped['names'][0]}<br>" in table and grouped["cost"]["range"] in table
    chart = html.split('<svg class="chart"', 1)[1].split("</svg>", 1)[0]
    assert f">{grouped['names'][0]}</text>" in chart
    family, _ = written[("dlbcl", "en", "family")]
    assert all(len(row["options"]) <= 3 for row in family["scenarios"]["rows"])
    assert all(name[0].isdigit() for row in family["scenarios"]["rows"] for name in row["names"])


def number_in(ranges: str, number: int) -> bool:
    for part in ranges.split(", "):
        low, _, high = part.partition("–")
        if int(low) <= number <= int(high or low):
            return True
    return False


def test_a_trial_keeps_its_own_name_in_chinese(written):
    report, _ = written[("dlbcl", "zh", "family")]
    names = [o["name"] for o in shown(report)]
    assert len(names) == len(set(names)), names
    trial = next(o for o in shown(report) if "NCT06902012" in o["english_name"])
    assert trial["name"].startswith(trial["english_name"])
    assert trial["short_name"].endswith("试验")


@pytest.mark.parametrize("kind", KINDS, ids="-".join)
def test_no_catalog_source_id_is_shown(written, kind):
    """'(S07, S05)' in an engine note names sources a reader cannot look up: the report
    numbers its sources instead."""
    _, paths = written[kind]
    html = paths["html"].read_text(encoding="utf-8")
    assert not re.search(r"\((?:[A-Z]\d+[a-z]?)(?:, [A-Z]\d+[a-z]?)*\)", html)


def test_a_disease_status_in_the_criterion_table_is_in_the_report_language(written):
    report, _ = written[("dlbcl", "zh", "mdt")]
    values = [c["value"] for o in shown(report) for c in o["criteria"]]
    assert "refractory" not in values
    assert Words.of("zh")("refractory") in values


@pytest.mark.parametrize("example", ["dlbcl", "lupus"])
def test_each_criterion_row_is_shown_once_in_its_option_or_in_the_shared_table(
    catalog, written, example
):
    """The MDT reads a requirement that several options needing tests meet once, with their
    numbers; with each option's own rows, every row of every option's criterion table is
    there, once. What decides an option (its unknown and check rows) stays in its own table,
    and an option that can proceed or is close keeps its whole table."""
    from matcher.report.content import _shown, criterion_rows
    from matcher.report.shared import SHARED_BY_AT_LEAST

    report, paths = written[(example, "en", "mdt")]
    profile, _, fx = EXAMPLES[example]
    patient, warnings = load_patient(profile, catalog.lexicon, TODAY)
    result = match(patient, catalog, warnings=warnings, include_all=True, fx=fx, today=TODAY)
    engine = [o for o in result.options if _shown(o)]
    shared = [row for group in report["groups"] for row in group["shared"]]
    assert shared
    fields = ("text", "value", "outcome", "message")
    for option, verdicts in zip(shown(report), engine, strict=True):
        rows = criterion_rows(verdicts, catalog, Words.of("en"))
        expected = sorted(tuple(c[f] for f in fields) for c in rows)
        mine = [tuple(c[f] for f in fields) for c in option["criteria"]]
        theirs = [
            tuple(c[f] for f in fields) for c in shared if number_in(c["options"], option["number"])
        ]
        assert sorted(mine + theirs) == expected, option["name"]
        assert option["shared_criteria"] == len(theirs)
        undecided = [tuple(c[f] for f in fields) for c in rows if c["outcome"] != "met"]
        assert all(row in mine for row in undecided), option["name"]
        if option["status"] != "possible":
            assert not theirs and mine == [tuple(c[f] for f in fields) for c in rows]
    numbers = [o["number"] for o in shown(report)]
    assert all(len(_numbers(c["options"], numbers)) >= SHARED_BY_AT_LEAST for c in shared)
    assert all(c["outcome"] == "met" for c in shared)
    html = paths["html"].read_text(encoding="utf-8")
    assert "Requirements met by several options" in html
    told = sum(1 for o in shown(report) if o["shared_criteria"])
    assert told and html.count("Also met: ") == told
    rows = sum(len(o["criteria"]) for o in shown(report)) + len(shared)
    assert len(re.findall(r'<tr class="(?:met|not_met|unknown|warn)">', html)) == rows


def _numbers(ranges: str, numbers: list[int]) -> list[int]:
    return [n for n in numbers if number_in(ranges, n)]


def test_what_to_request_names_options_by_number_when_it_decides_many(written):
    """An ask that decides most of eighteen lupus trials names them by number ("options 1–4,
    6–13"), one that decides a few by number and name; either way the right options."""
    report, _ = written[("lupus", "en", "family")]
    options = shown(report)
    for ask in report["asks"]:
        wanted = [o["number"] for o in options if ask["ask"] in o["missing"]]
        if len(wanted) > 3:
            assert ask["decides"] == [f"options {number_ranges(wanted)}"]
        else:
            by_number = {o["number"]: o["short_name"] for o in options}
            assert ask["decides"] == [f"{n}. {by_number[n]}" for n in wanted]
    assert any(
        len(a["decides"]) == 1 and a["decides"][0].startswith("options ") for a in report["asks"]
    )


def test_where_lists_each_programme_with_its_options_and_the_rest_in_one_line(written):
    report, paths = written[("lupus", "en", "family")]
    sites = report["sites"]
    numbers = [n for p in sites["programmes"] for n in p["numbers"]]
    unnamed = [
        o["number"] for o in shown(report) if number_in(sites["unnamed"]["options"], o["number"])
    ]
    assert sites["unnamed"]["count"] == len(unnamed) > 1
    assert sorted(numbers + unnamed) == [o["number"] for o in shown(report)]
    assert all(p["sites"] for p in sites["programmes"])
    html = paths["html"].read_text(encoding="utf-8")
    said = f"No site is named in the sources read for options {sites['unnamed']['options']}."
    assert html.count("No site is named") == 1 and said in html
