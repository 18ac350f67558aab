"""Follow-up drops: cumulative summary fields and "modified since" snapshot exports.

A first drop (2026-08-01, 40 days), then the next day as a follow-up drop (`--start` at the first drop's end), and
the same day again with every record (`full=True`). A record nothing happened to reads byte for byte the same in
the next day's full snapshot as in the first drop, and the follow-up drop holds exactly the records that changed.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pytest
from gen_helpers import csv_rows

from list_hygiene.generate import generate
from list_hygiene.generate import scenarios as sc
from list_hygiene.generate.model import (
    BOUNCE,
    CLICK,
    DAY,
    FIRST_DROP,
    OPEN,
    PROCESSED,
    SIM_ORIGIN,
    build_population,
    build_sends,
    day_number,
    simulate,
)
from list_hygiene.generate.summary import History, Summary, summarize
from list_hygiene.generate.writers import HUBSPOT_HEADER

SEED, CONTACTS, DAYS = 3, 600, 40
NEXT = FIRST_DROP + dt.timedelta(days=DAYS)  # a Thursday: the Mailchimp newsletter goes out
SNAPSHOTS = ("hubspot/contacts", "hubspot/companies", "mailchimp/members", "salesforce/contacts", "salesforce/leads",
             "salesforce/accounts", "pipedrive/persons", "pipedrive/organizations")
KW = {"contacts": CONTACTS, "seed": SEED, "scenarios": False, "malformed": False}


@pytest.fixture(scope="module")
def drops(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("drops")
    generate(root / "first", start=FIRST_DROP, days=DAYS, **KW)
    generate(root / "next", start=NEXT, days=1, **KW)  # a later start: a follow-up drop by default
    generate(root / "next_full", start=NEXT, days=1, full=True, **KW)
    return {name: root / name for name in ("first", "next", "next_full")}


def _records(root: Path, source: str) -> dict[str, tuple]:
    """Record id (email for Mailchimp) -> the record as written (its status file, its fields or JSON item)."""
    out: dict[str, tuple] = {}
    for f in sorted((root / source).iterdir()):
        if f.suffix == ".json":
            out |= {str(item["id"]): (json.dumps(item),) for item in json.loads(f.read_text())["data"]}
            continue
        _, rows = csv_rows(f)
        out |= {r[0].strip().lower(): (f.name.split("_")[0], *r) for r in rows}
    return out


def _window_events(start: dt.date, days: int):
    """The population and the simulated events of [start, start + days), as generate() makes them."""
    pop = build_population(CONTACTS, SEED, [])
    first_day = min(day_number(SIM_ORIGIN), day_number(start) - 30)
    lo = day_number(start) * DAY
    ev, _ = simulate(pop, build_sends(first_day, day_number(start) + days, SEED), SEED, lo, lo + days * DAY)
    return pop, ev, lo, lo + days * DAY


def _minutes(ts: int) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%d %H:%M")


def test_follow_up_drop_holds_exactly_the_changed_records(drops: dict[str, Path]) -> None:
    total = changed_total = 0
    for source in SNAPSHOTS:
        first, nxt, full = (_records(drops[d], source) for d in ("first", "next", "next_full"))
        changed = {k for k, v in full.items() if first.get(k) != v}  # new records, or a column moved
        assert set(nxt) == changed, source
        assert all(nxt[k] == full[k] for k in nxt), f"{source}: a record reads differently in the two exports"
        total += len(full)
        changed_total += len(changed)
    # the Mailchimp newsletter day: its recipients' last send moves, and little else
    assert 0 < changed_total < 0.3 * total, (changed_total, total)
    for source in ("hubspot/contacts", "mailchimp/members", "salesforce/contacts", "pipedrive/persons"):
        assert _records(drops["next"], source), f"{source}: something changes every day"


def test_a_contact_nothing_happened_to_keeps_its_row(drops: dict[str, Path]) -> None:
    pop, ev, lo, hi = _window_events(NEXT, 1)
    moved = set(ev.contact.tolist())
    for when in (pop.created, pop.dead_at, pop.unsub_at):
        moved |= set(np.nonzero((when >= lo) & (when < hi))[0].tolist())
    first, nxt, full = (_records(drops[d], "hubspot/contacts") for d in ("first", "next", "next_full"))
    still = [k for k in full if int(k) - 10001 not in moved]
    assert len(still) > 0.7 * len(full)  # a newsletter day: its recipients had a send
    assert all(full[k] == first[k] for k in still), "a contact nothing happened to must keep its row byte for byte"
    assert not set(still) & set(nxt), "and a follow-up drop leaves it out"
    assert {int(k) - 10001 for k in nxt} <= moved

    members = {pop.spelling["mailchimp"][c].strip().lower() for c in moved}
    first, nxt, full = (_records(drops[d], "mailchimp/members") for d in ("first", "next", "next_full"))
    still = [k for k in full if k not in members]
    assert still and all(full[k] == first[k] for k in still)
    assert set(nxt) <= members


def test_new_day_engagement_updates_the_summary_fields(drops: dict[str, Path]) -> None:
    pop, ev, lo, hi = _window_events(NEXT, 1)
    first, nxt = (_records(drops[d], "hubspot/contacts") for d in ("first", "next"))
    col = {name: 1 + HUBSPOT_HEADER.index(name) for name in (  # + 1: the status in front of the fields
        "Last marketing email send date", "Last marketing email open date", "Last marketing email click date",
        "Marketing emails bounced")}
    checked = {OPEN: 0, CLICK: 0, PROCESSED: 0, BOUNCE: 0}
    for etype, name in ((PROCESSED, "Last marketing email send date"), (OPEN, "Last marketing email open date"),
                        (CLICK, "Last marketing email click date")):
        mask = (ev.etype == etype) & ~ev.machine
        last = np.full(pop.size, -1)
        np.maximum.at(last, ev.contact[mask], ev.ts[mask])
        for c in np.nonzero(last >= 0)[0].tolist():
            if pop.on_hubspot[c]:
                assert nxt[str(10001 + c)][col[name]] == _minutes(int(last[c])), (name, c)
                checked[etype] += 1
    bounces = np.bincount(ev.contact[ev.etype == BOUNCE], minlength=pop.size)
    for c in np.nonzero(bounces)[0].tolist():
        key = str(10001 + c)
        if pop.on_hubspot[c] and key in first and not lo <= pop.dead_at[c] < hi:
            name = "Marketing emails bounced"
            assert int(nxt[key][col[name]]) == int(first[key][col[name]]) + bounces[c], c
            checked[BOUNCE] += 1
    assert all(checked.values()), checked  # the window has sends, human opens, clicks and bounces to check


def test_summary_before_the_window_is_that_of_its_events() -> None:
    """The sends too early to reach the window feed the summary without being kept as events; the summary is the
    one the events of [FIRST_DROP, window end) give when they are all kept."""
    seed, contacts = 5, 300
    pop = build_population(contacts, seed, sc.scenario_rows())
    scripted = sc.scripts(pop.n_random)
    since = day_number(FIRST_DROP) * DAY
    start, end = day_number(dt.date(2026, 10, 1)) * DAY, day_number(dt.date(2026, 10, 8)) * DAY
    sends = build_sends(day_number(SIM_ORIGIN), end // DAY, seed)
    history = History(pop.size, since, start)
    ev, _ = simulate(pop, sends, seed, start, end, scripted, history)
    assert (history.summary.last_open >= 0).sum() > contacts / 4 and history.summary.bounces.sum() > 0
    got = summarize(pop, ev, history)
    every, _ = simulate(pop, sends, seed, since, end, scripted)
    want = summarize(pop, every)
    for name in Summary.__dataclass_fields__:
        assert (getattr(got, name) == getattr(want, name)).all(), name
