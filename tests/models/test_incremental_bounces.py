"""int_bounces_classified is incremental: a run classifies only the bounces landed since the last one, and
a change to the rule seeds (its `rules_version`) classifies every bounce again."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import duckdb

from list_hygiene.dbt_runner import run_dbt
from list_hygiene.ingest import ingest

SELECT = ["build", "--select", "+int_bounces_classified", "--exclude", "test_type:data", "test_type:unit"]
COLUMNS = "event_key, reason, bounce_class, is_hard, classified_by, rule_id, rules_version"


def ses_bounce(n: int, diagnostic: str, bounce_type: str = "Permanent", sub_type: str = "General") -> str:
    return json.dumps({
        "eventType": "Bounce",
        "bounce": {"bounceType": bounce_type, "bounceSubType": sub_type, "timestamp": f"2026-06-10T10:00:0{n}.000Z",
                   "bouncedRecipients": [{"emailAddress": f"r{n}@example.com", "status": "5.1.1",
                                          "diagnosticCode": diagnostic}]},
        "mail": {"messageId": f"ses-m{n}", "timestamp": "2026-06-10T09:59:00.000Z",
                 "destination": [f"r{n}@example.com"]},
    }) + "\n"


def land(data: Path, warehouse: Path, name: str, text: str, hour: int) -> None:
    (data / "ses" / "events").mkdir(parents=True, exist_ok=True)
    (data / "ses" / "events" / name).write_text(text)
    with duckdb.connect(str(warehouse)) as con:
        ingest(con, data, loaded_at=datetime(2026, 11, 1, hour))


def rows(warehouse: Path) -> dict[str, tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {r[0]: r[1:] for r in con.execute(f"select {COLUMNS} from intermediate.int_bounces_classified").fetchall()}


def test_new_bounces_only_then_everything_after_a_rule_change(tmp_path: Path) -> None:
    data, warehouse = tmp_path / "data", tmp_path / "w.duckdb"
    land(data, warehouse, "a.jsonl", ses_bounce(1, "smtp; 550 5.1.1 user unknown"), 1)
    run_dbt(SELECT, warehouse)
    first = rows(warehouse)
    assert len(first) == 1
    [(reason, _, _, _, _, version)] = first.values()
    assert reason == "userunknown" and len(version) == 32

    # a row of the first run changed behind the model's back stays as it is: the second run reads only
    # the bounces landed since (and classifies them as a full build would)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("update intermediate.int_bounces_classified set classified_by = 'untouched'")
    land(data, warehouse, "b.jsonl", ses_bounce(2, "smtp; 552 5.2.2 mailbox full", "Transient", "MailboxFull"), 2)
    run_dbt(SELECT, warehouse)
    second = rows(warehouse)
    assert len(second) == 2
    assert [r[3] for r in second.values()].count("untouched") == 1
    new = [r for r in second.values() if r[3] != "untouched"]
    assert [r[0] for r in new] == ["mailboxfull"]

    # rows built under other rules (another rules_version) are all classified again
    with duckdb.connect(str(warehouse)) as con:
        con.execute("update intermediate.int_bounces_classified set rules_version = 'old rules', reason = 'wrong'")
    run_dbt(SELECT, warehouse)
    third = rows(warehouse)
    assert sorted(r[0] for r in third.values()) == ["mailboxfull", "userunknown"]
    assert {r[5] for r in third.values()} == {version}
    assert "untouched" not in {r[3] for r in third.values()}

    # and the result is what a full refresh builds
    run_dbt([*SELECT, "--full-refresh"], warehouse)
    assert rows(warehouse) == third
