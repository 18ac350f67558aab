"""The seeded generator: determinism, incremental drops, formats, scenarios and malformed rows."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
import statistics
from collections import defaultdict
from pathlib import Path

import pytest
from gen_helpers import (
    csv_rows,
    file_digests,
    hubspot_contacts,
    mailchimp_activity,
    mailchimp_members,
    norm,
    sendgrid_events,
    ses_recipient,
    ses_records,
)

from list_hygiene.generate import MALFORMED, SCENARIOS, generate, last_run_malformed
from list_hygiene.generate.writers import HUBSPOT_HEADER, mc_header

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
END = dt.datetime(2026, 11, 24, tzinfo=dt.UTC)  # the samples' window end (last day 2026-11-23)
RESERVED = re.compile(r"@([a-z0-9-]+\.)*(example\.(com|org|net)|[a-z0-9-]+\.example)$")


def _iso(ts: str) -> dt.datetime:
    return dt.datetime.fromisoformat(ts.replace("Z", "+00:00"))


def _unix(ts: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts, dt.UTC)


# ------------------------------------------------------------------ determinism and drops
def test_same_seed_same_bytes(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    ca = generate(a, contacts=120, days=40, start=dt.date(2026, 9, 1), seed=11)
    cb = generate(b, contacts=120, days=40, start=dt.date(2026, 9, 1), seed=11)
    assert ca == cb
    assert file_digests(a) == file_digests(b)
    c = tmp_path / "c"
    generate(c, contacts=120, days=40, start=dt.date(2026, 9, 1), seed=12)
    assert file_digests(a) != file_digests(c), "a different seed must give different data"


def test_bundled_samples_are_current(gen_default: tuple) -> None:
    samples = REPO / "data_samples"
    assert (samples / "hubspot").is_dir(), "data_samples/ is bundled with the repository and must be there"
    root, *_ = gen_default
    got = {k: v for k, v in file_digests(samples).items() if k != "README.md"}
    assert got == file_digests(root), "data_samples/ differs from a fresh generation; regenerate (see its README)"
    assert sum((samples / k).stat().st_size for k in got) < 5_000_000


def test_incremental_drop_adds_up(tmp_path: Path) -> None:
    kw = {"contacts": 150, "seed": 3, "scenarios": False, "malformed": False}
    generate(tmp_path / "d1", start=dt.date(2026, 8, 1), days=20, **kw)
    generate(tmp_path / "d2", start=dt.date(2026, 8, 21), days=10, **kw)
    generate(tmp_path / "all", start=dt.date(2026, 8, 1), days=30, **kw)
    e1, e2, ea = (sendgrid_events(tmp_path / d) for d in ("d1", "d2", "all"))
    assert e1 and e2
    assert max(e["timestamp"] for e in e1) < dt.datetime(2026, 8, 21, tzinfo=dt.UTC).timestamp() <= min(
        e["timestamp"] for e in e2)
    key = lambda e: e["sg_event_id"]  # noqa: E731
    assert not {key(e) for e in e1} & {key(e) for e in e2}
    assert sorted(map(key, e1 + e2)) == sorted(map(key, ea))
    s1, s2, sa = (ses_records(tmp_path / d) for d in ("d1", "d2", "all"))
    assert len(s1) + len(s2) == len(sa)
    assert min(_iso(r["mail"]["timestamp"]) for r in s2 if r["eventType"] == "Send") >= dt.datetime(
        2026, 8, 21, tzinfo=dt.UTC)
    # the same population in both drops: the follow-up drop holds the contacts changed in it (a "modified since"
    # export), each exactly as the longer drop, which ends on the same day, shows it
    h1, h2, ha = (hubspot_contacts(tmp_path / d) for d in ("d1", "d2", "all"))
    assert set(h1) <= set(ha) and h2 and len(h2) < len(ha)
    assert all(h2[k] == ha[k] for k in h2)
    # and no file name shared between drops
    names1 = {p.relative_to(tmp_path / "d1") for p in (tmp_path / "d1").rglob("*") if p.is_file()}
    names2 = {p.relative_to(tmp_path / "d2") for p in (tmp_path / "d2").rglob("*") if p.is_file()}
    assert not names1 & names2


# ------------------------------------------------------------------ formats
def test_formats_parse(gen_default: tuple) -> None:
    root, counts, _ = gen_default
    sg_dir = root / "sendgrid" / "events"
    assert list(sg_dir.glob("*.json")) and list(sg_dir.glob("*.jsonl"))
    n = 0
    for f in sg_dir.glob("*.json"):
        body = json.loads(f.read_text())
        assert isinstance(body, list) and body
        for e in body:
            assert {"email", "timestamp", "event", "sg_event_id", "sg_message_id", "category",
                    "marketing_campaign_id", "marketing_campaign_name"} <= set(e)
            assert isinstance(e["timestamp"], int)
        n += len(body)
    n += sum(1 for _ in (sg_dir / next(p.name for p in sg_dir.glob("*.jsonl"))).open())
    assert n == counts["sendgrid/events"]
    events = sendgrid_events(root)
    kinds = {e["event"] for e in events}
    assert {"processed", "delivered", "open", "click", "bounce", "deferred", "dropped", "unsubscribe"} <= kinds
    assert {e["type"] for e in events if e["event"] == "bounce"} == {"bounce", "blocked"}
    assert {e["sg_machine_open"] for e in events if e["event"] == "open"} == {True, False}
    assert any("crm_contact_id" in e for e in events)
    assert all("url" in e for e in events if e["event"] == "click")

    recs = ses_records(root)
    assert len(recs) == counts["ses/events"]
    assert {r["eventType"] for r in recs} == {"Send", "Delivery", "Open", "Click", "Bounce", "Complaint"}
    for r in recs:
        assert {"timestamp", "messageId", "source", "destination", "tags"} <= set(r["mail"])
    bounce_types = {r["bounce"]["bounceType"] for r in recs if r["eventType"] == "Bounce"}
    assert {"Permanent", "Transient"} <= bounce_types

    camps = json.loads(next((root / "mailchimp" / "campaigns").iterdir()).read_text())
    assert camps["total_items"] == len(camps["campaigns"]) == counts["mailchimp/campaigns"]
    ids = set()
    for c in camps["campaigns"]:
        assert c["type"] == "regular" and c["status"] == "sent"
        assert c["settings"]["title"] and c["recipients"]["list_id"]
        _iso(c["send_time"])
        ids.add(c["id"])
    reports = list((root / "mailchimp" / "email_activity").iterdir())
    assert len(reports) == len(ids)
    rows = 0
    for f in reports:
        body = json.loads(f.read_text())
        assert body["campaign_id"] in ids and body["total_items"] == len(body["emails"])
        for e in body["emails"]:
            assert e["email_id"] == hashlib.md5(norm(e["email_address"]).encode()).hexdigest()
            for a in e["activity"]:
                assert a["action"] in {"open", "click", "bounce"}
                assert a["action"] != "bounce" or a["type"] in {"hard", "soft"}
            rows += 1 + len(e["activity"])
    assert rows == counts["mailchimp/email_activity"]


def test_csv_headers_match_platforms(gen_default: tuple) -> None:
    root, *_ = gen_default
    for status in ("subscribed", "unsubscribed", "cleaned"):
        f = next((root / "mailchimp" / "members").glob(f"{status}_members_export_*.csv"))
        first = f.read_text().splitlines()[0]
        assert first == mc_header(status)
        example = SHARED / "platform-examples" / "mailchimp" / f"{status}_members_export.csv"
        if example.exists():
            assert first == example.read_text().splitlines()[0]
    header, _ = csv_rows(next((root / "hubspot" / "contacts").iterdir()))
    assert header == HUBSPOT_HEADER
    example = SHARED / "platform-examples" / "hubspot" / "contacts_export_sample.csv"
    if example.exists():
        assert set(example.read_text().splitlines()[0].split(",")) <= set(header)


def test_only_reserved_domains(gen_default: tuple) -> None:
    root, *_ = gen_default
    emails = {norm(e["email"]) for e in sendgrid_events(root)}
    emails |= {norm(ses_recipient(r)) for r in ses_records(root)}
    emails |= set(mailchimp_members(root)) | set(hubspot_contacts(root))
    emails |= {norm(e["email_address"]) for e in mailchimp_activity(root)}
    bad = sorted(e for e in emails if not RESERVED.search(e))
    assert not bad, bad[:5]


# ------------------------------------------------------------------ scenarios
def _presence(root: Path) -> dict[str, set[str]]:
    return {
        "hubspot": set(hubspot_contacts(root)),
        "sendgrid": {norm(e["email"]) for e in sendgrid_events(root)},
        "mailchimp": set(mailchimp_members(root)) | {norm(e["email_address"]) for e in mailchimp_activity(root)},
        "ses": {norm(ses_recipient(r)) for r in ses_records(root)},
    }


def test_every_scenario_where_the_registry_says(gen_default: tuple) -> None:
    root, *_ = gen_default
    seen = _presence(root)
    for name, s in SCENARIOS.items():
        assert s.email == norm(s.email)
        for plat, emails in seen.items():
            assert (s.email in emails) == (plat in s.platforms), (name, plat)


def _sg(root: Path, email: str) -> list[dict]:
    return sorted((e for e in sendgrid_events(root) if norm(e["email"]) == email), key=lambda e: e["timestamp"])


def _ses(root: Path, email: str) -> list[dict]:
    def when(r: dict) -> str:
        return (r.get(r["eventType"].lower()) or {}).get("timestamp") or r["mail"]["timestamp"]
    return sorted((r for r in ses_records(root) if norm(ses_recipient(r)) == email), key=when)


def test_scenario_timelines(gen_default: tuple) -> None:
    root, *_ = gen_default
    S = {k: v.email for k, v in SCENARIOS.items()}

    # hard_bounce_multi: 5.1.1 on SendGrid, spelled differently on each platform
    hb = _sg(root, S["hard_bounce_multi"])
    bounces = [e for e in hb if e["event"] == "bounce"]
    assert len(bounces) == 1 and bounces[0]["type"] == "bounce" and bounces[0]["status"] == "5.1.1"
    assert {e["email"] for e in hb} == {"HARD.BOUNCE.MULTI@EXAMPLE.COM"}
    assert hubspot_contacts(root)[S["hard_bounce_multi"]]["Email"] == "Hard.Bounce.Multi@Example.com"

    # hard_bounce_ses: one Permanent bounce, nothing sent afterwards
    hs = _ses(root, S["hard_bounce_ses"])
    assert hs[-1]["eventType"] == "Bounce" and hs[-1]["bounce"]["bounceType"] == "Permanent"

    # soft_bounce_repeat: >= 3 MailboxFull bounces over >= 15 days, nothing else in between
    sr = _ses(root, S["soft_bounce_repeat"])
    times = [_iso(r["bounce"]["timestamp"]) for r in sr if r["eventType"] == "Bounce"]
    assert len(times) >= 3 and (times[-1] - times[0]).days >= 15
    assert all(r["bounce"]["bounceSubType"] == "MailboxFull" for r in sr if r["eventType"] == "Bounce")
    after_first = [r["eventType"] for r in sr if _iso(r["mail"]["timestamp"]) >= times[0] - dt.timedelta(minutes=5)]
    assert set(after_first) <= {"Send", "Bounce"}

    # soft_bounce_once: exactly one soft bounce, in the last 7 days, and it is the last event
    so = _ses(root, S["soft_bounce_once"])
    assert [r["eventType"] for r in so].count("Bounce") == 1 and so[-1]["eventType"] == "Bounce"
    assert so[-1]["bounce"]["bounceType"] == "Transient" and END - _iso(so[-1]["bounce"]["timestamp"]) < dt.timedelta(7)

    # complaint: an SES complaint, no sends after it
    co = _ses(root, S["complaint"])
    assert co[-1]["eventType"] == "Complaint" and co[-1]["complaint"]["complaintFeedbackType"] == "abuse"

    # unsubscribe: SendGrid event + Mailchimp unsubscribed export
    assert any(e["event"] == "unsubscribe" for e in _sg(root, S["unsubscribe"]))
    assert mailchimp_members(root)[S["unsubscribe"]]["status"] == "unsubscribed"

    # re_engaged: human opens 100+ days apart, the last with a click in the final 7 days
    re_ = [e for e in _sg(root, S["re_engaged"]) if e["event"] in ("open", "click")]
    human = [_unix(e["timestamp"]) for e in re_ if e["event"] == "click" or not e["sg_machine_open"]]
    gaps = [b - a for a, b in zip(human, human[1:], strict=False)]
    assert max(gaps).days >= 100
    assert re_[-1]["event"] == "click" and END - _unix(re_[-1]["timestamp"]) < dt.timedelta(7)

    # sunset: deliveries, no engagement at all
    su = _sg(root, S["sunset"])
    assert sum(e["event"] == "delivered" for e in su) >= 10 and not any(e["event"] in ("open", "click") for e in su)

    # machine_open_only: only machine opens, on both platforms
    mo = _sg(root, S["machine_open_only"])
    assert all(e["sg_machine_open"] for e in mo if e["event"] == "open") and not any(e["event"] == "click" for e in mo)
    ms = _ses(root, S["machine_open_only"])
    opens = [r["open"] for r in ms if r["eventType"] == "Open"]
    assert opens and all(o["userAgent"] == "Mozilla/5.0" and o["ipAddress"].startswith("17.") for o in opens)
    assert not any(r["eventType"] == "Click" for r in ms)

    # block_only: blocks only, all 5.7.1
    bo = [e for e in _sg(root, S["block_only"]) if e["event"] == "bounce"]
    assert len(bo) >= 3 and all(e["type"] == "blocked" and e["status"] == "5.7.1" for e in bo)

    # cooling: last engagement 45-60 days before the end
    co_act = [a for e in mailchimp_activity(root) if norm(e["email_address"]) == S["cooling"] for a in e["activity"]]
    last = max(_iso(a["timestamp"]) for a in co_act)
    assert 45 <= (END - last).days <= 60

    # active: a click every week
    ac = [e for e in _sg(root, S["active"]) if e["event"] == "click"]
    assert len(ac) >= 15

    # case_variants: one spelling per platform, one normalized address
    assert hubspot_contacts(root)[S["case_variants"]]["Email"] == "  Mixed.Case@Example.COM "
    assert {e["email"] for e in _sg(root, S["case_variants"])} == {"mixed.case@example.com"}


# ------------------------------------------------------------------ malformed rows
def _record(root: Path, m) -> bytes:
    lines = (root / m.file).read_bytes().split(b"\n")
    # no generated CSV field contains a newline, so record n is line n + 1 (after the header)
    return lines[m.row - 1] if m.file.endswith(".jsonl") else lines[m.row]


def test_malformed_rows_at_registered_places(gen_default: tuple) -> None:
    root, _, malformed = gen_default
    mailbox = [m for m in MALFORMED if m.platform == "mailbox"]  # registered by scenarios.py, not by malformed_rows()
    assert malformed + mailbox == MALFORMED, "scenarios.MALFORMED is out of date with the generator"
    assert len(MALFORMED) == 8 and len(mailbox) == 1
    for m in MALFORMED:
        _check_malformed(root, m)


def _check_malformed(root: Path, m) -> None:
    """The row at the registered (file, row) is malformed the registered way."""
    raw = _record(root, m)
    if m.kind == "invalid_json":
        with pytest.raises(json.JSONDecodeError):
            json.loads(raw)
    elif m.kind == "bad_timestamp" and m.platform == "sendgrid":
        assert json.loads(raw)[m.field] == "not-a-time"
    elif m.kind in ("bad_timestamp", "missing_required"):
        header, _ = csv_rows(root / m.file)
        row = next(csv.reader(io.StringIO(raw.decode())))
        value = row[header.index(m.field)]
        assert value == ("31/02/2026 25:61" if m.kind == "bad_timestamp" else "")
    elif m.kind == "invalid_utf8":
        assert b"\xff\xfe" in raw
        with pytest.raises(UnicodeDecodeError):
            raw.decode("utf-8")
    elif m.kind == "field_count":
        header, _ = csv_rows(root / m.file)
        assert len(next(csv.reader(io.StringIO(raw.decode())))) != len(header)
    elif m.kind == "unparsable_message":
        from list_hygiene.bounces.dsn import UnparsableMessage, parse_message

        with pytest.raises(UnparsableMessage):
            parse_message((root / m.file).read_bytes(), m.file)
    elif m.kind == "unterminated_quote":
        assert raw.count(b'"') % 2 == 1
        assert (root / m.file).read_bytes().rstrip(b"\n").split(b"\n")[-1] == raw, "must be the last row"
    else:
        raise AssertionError(m.kind)


def test_malformed_rows_are_quarantined_by_ingest(gen_default: tuple) -> None:
    loader = pytest.importorskip("list_hygiene.ingest.loader")
    import duckdb

    root, *_ = gen_default
    con = duckdb.connect()
    loader.ingest(con, root)
    got = sorted(con.sql("select file, row_number from raw.quarantine").fetchall())
    assert got == sorted((m.file, m.row) for m in MALFORMED)


# ------------------------------------------------------------------ plausibility
def test_events_per_contact_plausible(gen_default: tuple) -> None:
    root, *_ = gen_default
    events = [e for e in sendgrid_events(root) if isinstance(e["timestamp"], int)]
    per = defaultdict(lambda: defaultdict(int))
    for e in events:
        per[norm(e["email"])][e["event"]] += 1
    processed = sum(c["processed"] for c in per.values())
    delivered = sum(c["delivered"] for c in per.values())
    weeks = 115 / 7
    sends_per_week = statistics.median(c["processed"] for c in per.values() if c["processed"]) / weeks
    assert 0.7 <= sends_per_week <= 2.5
    assert 0.93 <= delivered / processed <= 1.0
    opens = [e for e in events if e["event"] == "open"]
    human = sum(not e["sg_machine_open"] for e in opens) / delivered
    machine = sum(e["sg_machine_open"] for e in opens) / delivered
    assert 0.08 <= human <= 0.5 and 0.15 <= machine <= 0.6
    bounces = [e for e in events if e["event"] == "bounce"]
    assert 0 < len(bounces) / processed < 0.05
    # SES: every Delivery follows its Send (same messageId)
    recs = ses_records(root)
    sends = {r["mail"]["messageId"] for r in recs if r["eventType"] == "Send"}
    deliveries = [r for r in recs if r["eventType"] == "Delivery"]
    assert sum(r["mail"]["messageId"] in sends for r in deliveries) / len(deliveries) > 0.97
    # Apple proxy opens come seconds after delivery
    delivered_at = {r["mail"]["messageId"]: _iso(r["delivery"]["timestamp"]) for r in deliveries}
    lag = [(_iso(r["open"]["timestamp"]) - delivered_at[r["mail"]["messageId"]]).total_seconds()
           for r in recs if r["eventType"] == "Open" and r["open"]["userAgent"] == "Mozilla/5.0"
           and r["mail"]["messageId"] in delivered_at]
    assert lag and max(lag) <= 60 and min(lag) >= 0


@pytest.mark.parametrize(("contacts", "days", "start"), [(0, 1, dt.date(2026, 8, 1)), (20, 5, dt.date(2026, 11, 24)),
                                                        (40, 3, dt.date(2027, 1, 5))])
def test_small_and_empty_windows(tmp_path: Path, contacts: int, days: int, start: dt.date) -> None:
    counts = generate(tmp_path, contacts=contacts, days=days, start=start, seed=5)
    assert counts["hubspot/contacts"] >= len(SCENARIOS)
    for m in last_run_malformed():  # short files: the malformed rows move up, and the registry says where
        _check_malformed(tmp_path, m)
    for f in (tmp_path / "ses" / "events").iterdir():
        for line in f.read_text().splitlines():
            json.loads(json.loads(line)["Message"])
    for f in (tmp_path / "sendgrid" / "events").glob("*.json"):
        assert isinstance(json.loads(f.read_text()), list)


def test_mailgun_events_are_api_pages_of_at_most_300_items(tmp_path: Path) -> None:
    """The Events API returns at most 300 items a page: the window's events come as such pages, one response
    per JSONL line, each with its paging links, and together they hold every event once, in time order."""
    counts = generate(tmp_path, contacts=8000, days=30, start=dt.date(2026, 8, 1), seed=5)
    (path,) = (tmp_path / "mailgun" / "events").glob("mailgun_events_*.jsonl")
    pages = [json.loads(line) for line in path.read_text().splitlines()]
    sizes = [len(p["items"]) for p in pages]
    assert len(pages) > 2 and all(s == 300 for s in sizes[:-1]) and 0 < sizes[-1] <= 300
    assert all(set(p["paging"]) >= {"next", "previous"} for p in pages)
    items = [i for p in pages for i in p["items"]]
    assert len(items) == counts["mailgun/events"]
    assert len({(i["id"], int(i["timestamp"]) // 86400) for i in items}) == len(items)
    assert [i["timestamp"] for i in items] == sorted(i["timestamp"] for i in items)


# ------------------------------------------------------------------ send cadence
def test_newsletter_cadence_spreads_the_average_over_the_weeks() -> None:
    from list_hygiene.generate.model import MC, NEWSLETTER_WEEKDAY, SES, SG, newsletter_weekdays

    for p in (SG, MC, SES):
        # one a week: the platform's own weekday, every week (the cadence of the bundled samples)
        assert all(newsletter_weekdays(p, w, 1) == {NEWSLETTER_WEEKDAY[p]} for w in range(2900, 2960))
        # 1.75 a week: 7 in every 4 weeks, never fewer than 1 or more than 2 in a week, the own day always one
        per_week = [newsletter_weekdays(p, w, 1.75) for w in range(2900, 2960)]
        assert all(NEWSLETTER_WEEKDAY[p] in days and 1 <= len(days) <= 2 for days in per_week)
        assert all(sum(len(d) for d in per_week[i:i + 4]) == 7 for i in range(0, 56, 4))
        assert newsletter_weekdays(p, 2901, 7) == set(range(7))
    for bad in (0.5, 8):
        with pytest.raises(ValueError, match="newsletters per week"):
            newsletter_weekdays(SG, 2900, bad)


def test_a_faster_cadence_sends_more_and_its_drops_still_add_up(tmp_path: Path) -> None:
    """--newsletters-per-week 1.75 is the benchmark's ~30 events per contact per quarter: more newsletter sends
    (one campaign each), the same contacts, and a follow-up drop continues the longer window exactly."""
    kw = {"contacts": 400, "seed": 3, "scenarios": False, "malformed": False}
    slow = generate(tmp_path / "slow", start=dt.date(2026, 8, 1), days=28, **kw)
    fast = generate(tmp_path / "fast", start=dt.date(2026, 8, 1), days=28, newsletters_per_week=1.75, **kw)
    assert fast["hubspot/contacts"] == slow["hubspot/contacts"]
    assert fast["mailchimp/campaigns"] >= slow["mailchimp/campaigns"] + 3  # three more Mailchimp newsletters
    ratio = sum(fast[k] for k in ("sendgrid/events", "ses/events", "mailchimp/email_activity")) / sum(
        slow[k] for k in ("sendgrid/events", "ses/events", "mailchimp/email_activity"))
    assert 1.3 < ratio < 1.9
    generate(tmp_path / "d1", start=dt.date(2026, 8, 1), days=20, newsletters_per_week=1.75, **kw)
    generate(tmp_path / "d2", start=dt.date(2026, 8, 21), days=8, newsletters_per_week=1.75, **kw)
    key = lambda e: e["sg_event_id"]  # noqa: E731
    parts = sendgrid_events(tmp_path / "d1") + sendgrid_events(tmp_path / "d2")
    assert sorted(map(key, parts)) == sorted(map(key, sendgrid_events(tmp_path / "fast")))


def test_the_command_line_takes_the_cadence(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from list_hygiene.cli import app

    args = ["generate", "--out", str(tmp_path / "{}"), "--contacts", "60", "--days", "14", "--start", "2026-09-01",
            "--seed", "2"]
    slow = CliRunner().invoke(app, [a.format("slow") for a in args])
    fast = CliRunner().invoke(app, [a.format("fast") for a in args] + ["--newsletters-per-week", "3"])
    assert slow.exit_code == 0 and fast.exit_code == 0, slow.output + fast.output
    campaigns = [json.loads(r.output[r.output.index("{"):])["mailchimp/campaigns"] for r in (slow, fast)]
    assert campaigns[1] > campaigns[0]
    bad = CliRunner().invoke(app, [a.format("bad") for a in args] + ["--newsletters-per-week", "9"])
    assert bad.exit_code != 0
