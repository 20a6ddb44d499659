"""The command line: exit codes, stdout payloads, stderr errors, database state."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from matcher.cli import cli

DLBCL = ["--diagnosis", "DLBCL", "--status", "refractory", "--prior-lines", "2", "--age", "54"]


def test_match_details_shows_ranked_explained_options(runner):
    result = runner.invoke(cli, ["match", *DLBCL, "--details"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "1. axi-cel / lbcl-3l  [ELIGIBLE]" in out
    assert "✓ prior-lines: 2 prior line(s) meets ≥ 2." in out
    assert "tier order: status > approval > fit > track > enrolment > unknowns > cost > id" in out
    assert "CNY 1.49–1.63 M (about USD 207–226k)" in out


def test_match_default_is_one_line_per_option_within_100_columns(runner):
    result = runner.invoke(cli, ["match", *DLBCL])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert " 1. axi-cel / lbcl-3l  [ELIGIBLE]  approved, open  CNY 1.49–1.63 M" in out
    assert "✓ prior-lines" not in out  # criteria only with --details
    assert max(len(line) for line in out.splitlines()) <= 100
    asks = out.split("Ask the referring doctor for", 1)[1].split("Not shown", 1)[0]
    assert asks.count("CD19 expression") == 1  # one merged list, not one per option


def test_match_currency_reaches_the_notes_and_output_goes_to_a_private_file(runner, tmp_path):
    target = tmp_path / "out.txt"
    args = ["match", *DLBCL, "--tempo", "rapid", "--budget-cny", "1200000", "--currency", "USD"]
    result = runner.invoke(cli, [*args, "--details", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert target.stat().st_mode & 0o777 == 0o600
    text = target.read_text(encoding="utf-8")
    assert "over budget: low estimate USD 217k exceeds the budget of USD 167k" in text
    assert "bridging therapy (USD 9.7–22.2k)" in text
    assert "CNY 70,000" not in text


def test_match_json_has_the_contract_shape(runner):
    result = runner.invoke(cli, ["match", *DLBCL, "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {"patient", "catalog", "options", "warnings"} <= set(data)
    assert data["patient"]["indication"] == "dlbcl"
    assert data["catalog"]["version"] and data["catalog"]["entries"] >= 2
    option = data["options"][0]
    assert {
        "rank",
        "entry_id",
        "indication_id",
        "name",
        "track",
        "status",
        "tier",
        "criteria",
        "missing",
        "cost",
    } <= set(option)
    assert (option["rank"], option["entry_id"], option["status"]) == (1, "axi-cel", "eligible")
    assert isinstance(option["tier"], list)
    for criterion in option["criteria"]:
        assert {"id", "text", "outcome", "recoverable", "message"} <= set(criterion)
        assert criterion["outcome"] in {"met", "not_met", "unknown", "warn"}
    assert {"track", "currency", "low", "high", "usd_low", "usd_high", "components"} <= set(
        option["cost"]
    )


def test_match_reads_a_profile_file_and_stdin(runner, tmp_path):
    profile = tmp_path / "referral.json"
    profile.write_text(
        json.dumps(
            {
                "diagnosis": "弥漫大B细胞淋巴瘤",
                "prior_lines": 3,
                "age": 60,
                "disease_status": "relapsed",
            }
        ),
        encoding="utf-8",
    )
    from_file = runner.invoke(cli, ["match", str(profile), "--format", "json"])
    from_stdin = runner.invoke(cli, ["match", "-", "--format", "json"], input=profile.read_text())
    assert from_file.exit_code == from_stdin.exit_code == 0, from_file.output + from_stdin.output
    assert json.loads(from_file.stdout)["options"] == json.loads(from_stdin.stdout)["options"]


def test_flags_override_the_file(runner, tmp_path):
    profile = tmp_path / "p.json"
    profile.write_text('{"diagnosis": "DLBCL", "prior_lines": 0, "age": 50}', encoding="utf-8")
    result = runner.invoke(
        cli,
        ["match", str(profile), "--prior-lines", "2", "--status", "refractory", "--format", "json"],
    )
    assert json.loads(result.stdout)["patient"]["prior_lines"] == 2


def test_markdown_has_a_table_and_breakdown(runner):
    result = runner.invoke(cli, ["match", *DLBCL, "--format", "markdown"])
    assert result.exit_code == 0
    assert "| # | option | track | status | estimated cost | tier |" in result.stdout
    assert "**Cost breakdown:**" in result.stdout


def test_all_shows_ineligible_with_the_excluding_criterion(runner):
    result = runner.invoke(cli, ["match", *DLBCL, "--all", "--format", "json"])
    options = json.loads(result.stdout)["options"]
    satri = next(o for o in options if o["entry_id"] == "satri-cel")
    assert satri["status"] == "ineligible"
    assert any(c["id"] == "disease" and c["outcome"] == "not_met" for c in satri["criteria"])
    assert satri["excluded_by"] == ["disease"]


@pytest.mark.parametrize(
    ("content", "words"),
    [
        pytest.param(
            '{"diagnosis": "DLBCL",\n "age": 50,,}',
            "line 2, column 12: invalid JSON",
            id="malformed-json",
        ),
        pytest.param("", "is empty", id="empty-file"),
        pytest.param(
            '{"diagnosis": "DLBCL", "prior_line": 2}',
            "unknown field 'prior_line' (did you mean prior_lines?)",
            id="unknown-field",
        ),
        pytest.param('{"diagnosis": "DLBCL", "age": -4}', "field 'age'", id="impossible-value"),
        pytest.param(
            '{"diagnosis": "GC", "antigens": {"CLDN182X": "positive"}}',
            "unknown antigen 'CLDN182X'",
            id="unknown-antigen",
        ),
        pytest.param(
            '{"referral_id": "R-7"}', "needs a diagnosis or an indication", id="only-a-name"
        ),
        pytest.param('{"name": "Jane Doe"}', "unknown field 'name'", id="a-name-field"),
        pytest.param("[1, 2]", "expected a JSON object", id="json-list"),
    ],
)
def test_bad_input_gets_one_clear_sentence_and_nothing_else(
    runner, tmp_path, db_path, content, words
):
    profile = tmp_path / "bad.json"
    profile.write_text(content, encoding="utf-8")
    result = runner.invoke(cli, ["match", str(profile)])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert words in result.stderr
    assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


def test_missing_profile_file(runner, tmp_path):
    result = runner.invoke(cli, ["match", str(tmp_path / "nope.json")])
    assert result.exit_code == 1 and "no such file" in result.stderr


def test_match_without_any_profile_is_a_usage_error(runner):
    result = runner.invoke(cli, ["match"])
    assert result.exit_code == 2 and "give a PROFILE" in result.stderr


def test_bad_antigen_flag(runner):
    result = runner.invoke(cli, ["match", "--diagnosis", "GC", "--antigen", "CLDN18.2"])
    assert result.exit_code == 1 and "NAME=VALUE" in result.stderr


# The look-up list is in tests/test_catalog.py; here: names put the entry first.
@pytest.mark.parametrize(
    ("query", "entry_id"),
    [("Yescarta", "axi-cel"), ("奕凯达", "axi-cel"), ("NCT04581473", "satri-cel"),
     ("axicabtagne", "axi-cel"), ("CT041", "satri-cel")],
)  # fmt: skip
def test_lookup_puts_a_named_entry_first(runner, query, entry_id):
    result = runner.invoke(cli, ["lookup", query, "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)[0]["entry_id"] == entry_id


def test_lookup_with_no_hit_says_so(runner):
    result = runner.invoke(cli, ["lookup", "zzqqxx"])
    assert result.exit_code == 0 and "No catalog entry matches" in result.stdout


def test_show_prints_label_results_trials_price_and_sources(runner):
    result = runner.invoke(cli, ["show", "satri-cel"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    for words in (
        "HER2-negative",
        "7.92 vs 5.49",
        "NCT04581473",
        "Peking University Cancer",
        "list price: UNKNOWN",
        "sources:",
        "onclive.com",
    ):
        assert words in out, words


def test_show_unknown_id_suggests(runner):
    result = runner.invoke(cli, ["show", "satricel"])
    assert result.exit_code == 1 and "did you mean satri-cel?" in result.stderr


def test_catalog_validate_passes_on_the_shipped_catalog(runner):
    result = runner.invoke(cli, ["catalog", "validate"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("catalog OK:")


def test_catalog_validate_fails_on_a_broken_copy_naming_file_and_field(runner, tmp_path):
    import shutil

    shutil.copytree(Path(__file__).parents[1] / "catalog", tmp_path / "catalog")
    path = tmp_path / "catalog" / "entries" / "axi-cel.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("track: nmpa_commercial", "track: commercial"),
        "utf-8",
    )
    result = runner.invoke(cli, ["catalog", "validate", "--catalog", str(tmp_path / "catalog")])
    assert result.exit_code == 1
    assert "axi-cel.yaml line" in result.stderr and "track" in result.stderr


def _all_commands(group=cli, prefix=()):
    yield prefix
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            yield from _all_commands(command, (*prefix, name))
        else:
            yield (*prefix, name)


@pytest.mark.parametrize("command", list(_all_commands()), ids=lambda c: " ".join(c) or "cli")
def test_every_help_ends_with_an_example(runner, command):
    result = runner.invoke(cli, [*command, "--help"])
    assert result.exit_code == 0
    assert "Example" in result.stdout


def test_a_bad_exchange_rate_is_a_usage_error(runner):
    result = runner.invoke(cli, ["match", *DLBCL, "--fx", "-3"])
    assert result.exit_code == 2 and "--fx" in result.stderr and "Traceback" not in result.output


def test_an_unrecognised_diagnosis_ranks_nothing_and_says_so(runner):
    result = runner.invoke(cli, ["match", "--diagnosis", "Castleman disease", "--age", "40"])
    assert result.exit_code == 0
    assert "was not recognised" in result.stdout
    assert "No option: diagnosis not recognised" in result.stdout
    assert "POSSIBLE" not in result.stdout and "ELIGIBLE" not in result.stdout


def test_a_diagnosis_naming_two_diseases_lists_their_options_to_confirm(runner):
    result = runner.invoke(cli, ["match", "--diagnosis", "breast cancer, now DLBCL"])
    assert result.exit_code == 0
    assert "confirm it first" in result.stdout
    assert "axi-cel / lbcl-3l  [POSSIBLE]" in result.stdout
    assert "satri-cel" not in result.stdout


@pytest.mark.parametrize(
    ("diagnosis", "said"),
    [
        # Not glioblastoma since batch 14: two MSLN trials take any MSLN-positive solid tumour.
        pytest.param(
            "myelodysplastic syndrome", "Myelodysplastic syndrome (OncoTree MDS", id="oncotree"
        ),
        # Not 卵巢癌 since batch 14: the MSLN trials take MSLN-positive ovarian cancer.
        pytest.param(
            "骨髓增生异常综合征", "no CAR-T product or trial in the catalog treats", id="chinese"
        ),
        pytest.param("type 1 diabetes", "no CAR-T product or trial", id="autoimmune"),
        # A target hint ("GPC3 is reported in this tumour") needed a solid tumour no cohort
        # treats: the mesothelin trials now take any MSLN-positive solid tumour.
    ],
)
def test_a_recognised_disease_no_cohort_treats_gets_one_line(runner, diagnosis, said):
    result = runner.invoke(cli, ["match", "--diagnosis", diagnosis, "--format", "json"])
    data = json.loads(result.stdout)
    assert data["options"] == [] and said in data["no_option"]
