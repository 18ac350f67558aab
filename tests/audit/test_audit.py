"""The quarterly audit on the samples: report, tables, quarters, and the DAG end to end."""

from __future__ import annotations

import base64
import re
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from list_hygiene.audit import build_audit
from list_hygiene.quarters import parse_quarter, previous_quarter, quarter_of

REPO = Path(__file__).resolve().parents[2]


def test_quarters() -> None:
    assert parse_quarter("2026Q3") == (date(2026, 7, 1), date(2026, 10, 1))
    assert parse_quarter("2026-q4") == (date(2026, 10, 1), date(2027, 1, 1))
    assert previous_quarter(date(2027, 1, 1)) == "2026Q4"
    assert previous_quarter(date(2026, 8, 15)) == "2026Q2"
    assert quarter_of(date(2026, 11, 23)) == "2026Q4"
    with pytest.raises(ValueError, match="expected YYYYQn"):
        parse_quarter("2026-11")


@pytest.fixture(scope="session")
def audit_html(gated_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    with duckdb.connect(str(gated_warehouse), read_only=True) as con:
        latest = con.execute("select max(occurred_at) from marts.fct_email_events").fetchone()[0]
    return build_audit(gated_warehouse, quarter_of(latest.date()), tmp_path_factory.mktemp("audit"))


def test_report_is_self_contained(audit_html: Path) -> None:
    html = audit_html.read_text()
    # nothing loaded from outside: no http(s) src/href, no external scripts or stylesheets
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "<script" not in html
    charts = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert len(charts) >= 4
    assert base64.b64decode(charts[0])[:8] == b"\x89PNG\r\n\x1a\n"
    for heading in ("List size and decay", "Bounce rates by class over time, per platform", "Per mailbox provider",
                    "Complaint and unsubscribe rates", "Segment flows", "Soft-bounce escalations", "Corrections obtained",
                    "Suppression changes synced per platform", "Quality-check history", "Needs a human",
                    "Campaigns over a deliverability line", "Top failing domains"):
        assert heading in html, heading
    assert "baseline" in html  # the gate run of the session fixture is in the quality history


def test_tables_exported_as_csv_and_parquet(audit_html: Path) -> None:
    tables = audit_html.parent / "tables"
    for name in ("list_size", "bounce_rates_by_platform", "rates_by_provider", "segment_flows", "quality_history",
                 "failing_domains", "campaigns_over_threshold"):
        csv, pq = pd.read_csv(tables / f"{name}.csv"), pd.read_parquet(tables / f"{name}.parquet")
        assert list(csv.columns) == list(pq.columns) and len(csv) == len(pq), name
    assert (tables / "manifest.json").exists()
    rates = pd.read_parquet(tables / "bounce_rates_by_platform.parquet")
    assert {"platform", "messages", "hard_rate", "soft_rate", "block_rate", "complaints_rate"} <= set(rates.columns)


def test_rates_are_over_messages_where_a_platform_reports_no_send(audit_html: Path, gated_warehouse: Path) -> None:
    """Postmark (no send event) gets rates over deliveries + bounces; Zoho (neither) gets none, and its
    failures are not counted into a cross-platform rate over messages it has none of."""
    tables = audit_html.parent / "tables"
    rates = pd.read_parquet(tables / "bounce_rates_by_platform.parquet")
    postmark, zoho = rates[rates["platform"] == "postmark"], rates[rates["platform"] == "zoho"]
    assert postmark.loc[postmark["messages"] > 0, "hard_rate"].notna().all()
    assert (zoho["messages"] == 0).all() and zoho["hard_rate"].isna().all() and zoho["hard"].sum() > 0
    with duckdb.connect(str(gated_warehouse), read_only=True) as con:
        latest = con.execute("select max(occurred_at) from marts.fct_email_events").fetchone()[0]
        start, end = parse_quarter(quarter_of(latest.date()))
        quarter_events = con.execute(
            """select count(*) filter (where event_type = 'delivered'
                                       or (event_type = 'bounce' and bounce_class in ('hard', 'soft', 'block')))
               from marts.fct_email_events where platform = 'postmark' and occurred_at >= ? and occurred_at < ?""",
            [start, end]).fetchone()[0]
    assert postmark["messages"].sum() == quarter_events > 0
    over = pd.read_parquet(tables / "campaigns_over_threshold.parquet")
    assert "postmark" in set(over["platform"]) and "zoho" not in set(over["platform"])
    providers = pd.read_parquet(tables / "rates_by_provider.parquet")
    per_platform = rates.groupby("platform")["messages"].sum()
    counted = rates[rates["platform"].isin(per_platform[per_platform > 0].index)]
    assert providers["messages"].sum() == counted["messages"].sum()
    assert providers["hard"].sum() == counted["hard"].sum()  # Zoho's and raw messages' hard bounces left out


def test_missing_ops_tables_are_noted_not_zero(audit_html: Path) -> None:
    html = audit_html.read_text()
    assert "ops.sync_log not in the warehouse yet (no sync has run)" in html
    assert not (audit_html.parent / "tables" / "sync_changes.csv").exists()


@pytest.fixture
def warehouse_copy(gated_warehouse: Path, tmp_path: Path) -> Path:
    """The session's gated sample warehouse, copied for a test that writes to it."""
    import shutil

    wh = tmp_path / "wh.duckdb"
    shutil.copy2(gated_warehouse, wh)
    return wh


def test_synced_changes_are_counted_per_platform_within_the_quarter(warehouse_copy: Path, tmp_path: Path) -> None:
    """A warehouse the sync has written to (ops.sync_log has an "at" column: a reserved word in DuckDB)."""
    from datetime import datetime

    from list_hygiene.sync.base import RowResult
    from list_hygiene.sync.ledger import Ledger

    wh = warehouse_copy
    with duckdb.connect(str(wh)) as con:
        latest = con.execute("select max(occurred_at) from marts.fct_email_events").fetchone()[0]
        quarter = quarter_of(latest.date())
        start, _ = parse_quarter(quarter)
        inside, before = datetime(start.year, start.month, 2, 3), datetime(start.year, start.month, 1) - pd.Timedelta(days=1)
        ok = [RowResult(f"a{i}@example.com", "ok") for i in range(3)]
        Ledger(con, "run-1").log("sendgrid", "", "suppress", ok + [RowResult("b@example.com", "failed", "429", 429)],
                                 "b1", at=inside)
        Ledger(con, "run-2").log("mailchimp", "list1", "suppress", ok[:2], "b2", at=inside)
        Ledger(con, "run-0").log("sendgrid", "", "suppress", ok, "b0", at=before)  # previous quarter: not counted
    html = build_audit(wh, quarter, tmp_path / "audit")
    changes = pd.read_csv(tmp_path / "audit" / "tables" / "sync_changes.csv")
    got = {(r.platform, r.status): (r.changes, r.runs) for r in changes.itertuples()}
    assert got == {("mailchimp", "ok"): (2, 1), ("sendgrid", "failed"): (1, 1), ("sendgrid", "ok"): (3, 1)}
    assert "ops.sync_log not in the warehouse yet" not in html.read_text()


def test_a_quarter_without_synced_changes_shows_the_plan_and_why(warehouse_copy: Path, tmp_path: Path) -> None:
    from list_hygiene.sync.ledger import Ledger

    wh = warehouse_copy
    with duckdb.connect(str(wh)) as con:
        ledger = Ledger(con, "run-9")  # creates the ops tables; nothing written to a platform
        ledger.write_plan("sendgrid", "", [("add", f"a{i}@example.com", "hard_bounce", None) for i in range(4)])
        ledger.write_run("sendgrid", "", {"mode": "no_credentials", "planned_adds": 4, "planned_removals": 0,
                                          "applied": 0, "failed": 0, "skipped_forbidden_removals": 0})
        latest = con.execute("select max(occurred_at) from marts.fct_email_events").fetchone()[0]
    html = build_audit(wh, quarter_of(latest.date()), tmp_path / "audit").read_text()
    changes = pd.read_csv(tmp_path / "audit" / "tables" / "sync_changes.csv")
    assert changes.to_dict("records") == [{"platform": "sendgrid", "action": "add", "sync_mode": "no_credentials",
                                           "changes": 4}]
    assert "no change written to a platform between" in html and "with its sync mode" in html


@pytest.mark.e2e
def test_audit_dag_runs_end_to_end(airflow_db, warehouse_copy: Path, tmp_path: Path) -> None:
    """dag.test() on a copy of the sample warehouse: quality snapshot, report, tables."""
    from airflow.dag_processing.dagbag import DagBag

    wh = warehouse_copy
    bag = DagBag(dag_folder=str(REPO / "dags"))
    assert not bag.import_errors, bag.import_errors
    dag = bag.dags["list_hygiene_quarterly_audit"]
    assert dag.schedule == "0 6 1 1,4,7,10 *"
    assert [t.task_id for t in dag.tasks] == ["quality_snapshot", "build_report", "export_tables"]
    assert {t.pool for t in dag.tasks} == {"list_hygiene_warehouse"}
    with duckdb.connect(str(wh), read_only=True) as con:
        latest = con.execute("select max(occurred_at) from marts.fct_email_events").fetchone()[0]
    quarter = quarter_of(latest.date())
    run = dag.test(run_conf={"warehouse": str(wh), "quarter": quarter})
    assert str(run.state) == "success", run.state
    out = tmp_path / "wh_outputs" / "audit" / quarter
    assert (out / f"audit_{quarter}.html").exists()
    assert (out / "tables" / "quality_history.parquet").exists()
    with duckdb.connect(str(wh), read_only=True) as con:
        assert con.execute("select count(*) from ops.quality_results where run_id like 'audit-%'").fetchone()[0] > 0
