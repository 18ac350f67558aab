"""The seed rules: well-formed, in the TAXONOMY.md vocabulary, and valid for both Python re and DuckDB RE2."""

from __future__ import annotations

import re

import duckdb
import pytest
from tests.bounces.conftest import REPO

from list_hygiene.bounces import rules
from list_hygiene.bounces.classify import Classifier

TAXONOMY = REPO.parent / "shared" / "TAXONOMY.md"


def test_seeds_validate():
    rules.validate_rules()


def test_reason_vocabulary_matches_taxonomy():
    if not TAXONOMY.exists():
        pytest.skip(f"{TAXONOMY} not found (../shared beside the repository)")
    table = re.findall(r"^\| (\w+) \| [^|]+ \| (\w+) \| (yes|no)", TAXONOMY.read_text(), re.M)
    expected = {reason: (bounce_class, hard == "yes") for reason, bounce_class, hard in table}
    seed = {row["reason"]: (row["bounce_class"], row["is_hard"] == "true") for row in rules.read_seed("bounce_reasons")}
    assert seed == expected


def test_every_wording_pattern_runs_in_duckdb_re2():
    con = duckdb.connect()
    for rule in rules.wording_rules():
        con.execute("select regexp_matches('sample text', ?)", [rule.pattern]).fetchall()
        re.compile(rule.pattern)


@pytest.mark.parametrize(
    ("pattern", "keyword", "expected"),
    [
        ("user unknown", "unknown", True),
        ("dkim|domainkeys", "dkim|domainkeys", True),
        ("(no such|unknown) user", "user", True),
        ("(no such|unknown) user", "unknown", False),
        ("quota|over the limit", "quota", False),
        ("mail ?box full", "mailbox", False),
    ],
)
def test_keyword_prefilter_check(pattern, keyword, expected):
    assert rules.keyword_is_required(pattern, keyword) is expected


def test_bad_seed_is_reported_with_its_line(tmp_path):
    for name in rules.SEED_COLUMNS:
        (tmp_path / f"{name}.csv").write_text(rules.seed_path(name).read_text())
    path = tmp_path / "bounce_wording_rules.csv"
    path.write_text(path.read_text() + "bad_rule,zzz,user unknown,,userunknown,60,en,\n")
    with pytest.raises(rules.RuleError, match=r"line \d+ .*bad_rule.*keyword"):
        rules.validate_rules(tmp_path)


def test_the_cli_renders_the_dbt_model_itself():
    """One source of truth: the command line runs the model file, with every wording rule in it."""
    sql = Classifier().sql
    assert "{{" not in sql and "{%" not in sql
    for name in ("int_email_events", *rules.SEED_COLUMNS):
        assert re.search(rf"\bfrom {name}\b", sql), name
    for rule in rules.wording_rules():
        assert f"then '{rule.rule_id}'" in sql


def test_taxonomy_module_reads_the_seed():
    from list_hygiene.bounces.taxonomy import reason, reasons

    assert reason("userunknown").is_hard and reason("notaccept").hard_only_when_permanent
    assert reason("feedback").bounce_class == "complaint"
    assert len(reasons()) == 34
    with pytest.raises(KeyError, match="not a bounce reason"):
        reason("nope")


def test_model_with_unsupported_jinja_is_refused(tmp_path):
    from list_hygiene.bounces.classify import ModelSqlError, render_model_sql

    model = tmp_path / "m.sql"
    model.write_text("select {{ config(materialized='table') }} 1")
    with pytest.raises(ModelSqlError, match="ref\\(\\), run_query\\(\\) and execute"):
        render_model_sql(duckdb.connect(), model)
