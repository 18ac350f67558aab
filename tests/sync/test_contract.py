"""The same scenarios for every platform, each against its loopback emulator (SES: moto server)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from list_hygiene.privacy import hash_email
from list_hygiene.sync import Connection, SyncBrakeTripped, SyncFailed, run_sync
from list_hygiene.sync.ledger import Ledger

from .cases import CASES, Case
from .helpers import SleepRecorder, addr, fast_policy, ledger_emails, log_statuses, query, write_suppressions

REASONS = ("hard_bounce", "complaint", "unsubscribe", "sunset", "soft_bounce_escalated")


@pytest.fixture(params=sorted(CASES))
def case(request: pytest.FixtureRequest) -> Case:
    return CASES[request.param]


@pytest.fixture
def emu(case: Case):
    with case.start() as e:
        yield e


@pytest.fixture
def wh(tmp_path: Path) -> Path:
    return tmp_path / "wh" / "test.duckdb"


def rows(case: Case, n: int, start: int = 0) -> list[tuple[str, str, str]]:
    return [(addr(i), case.platform, REASONS[i % len(REASONS)]) for i in range(start, start + n)]


def setup(case: Case, emu, wh: Path, n: int, **kw) -> set[str]:
    r = rows(case, n)
    write_suppressions(wh, r, **kw)
    emails = {e for e, _, _ in r}
    case.seed(emu, sorted(emails))
    return emails


def sync(case: Case, emu, wh: Path, *, apply: bool = True, secret: str | None = None, conn: Connection | None = None,
         **kw):
    kw.setdefault("policy", fast_policy())
    return run_sync(wh, apply=apply, platforms=[case.platform], out_dir=wh.parent / "out",
                    connections={case.platform: conn or case.connection(emu, secret)}, **kw)


def writes(case: Case, emu) -> list:
    return emu.calls(case.write_method, case.write_path)


def assert_once(case: Case, emu, emails: set[str]) -> None:
    counts = case.add_counts(emu)
    assert {e: counts.get(e, 0) for e in emails} == dict.fromkeys(emails, 1)


# ----------------------------------------------------------------------------------------------
def test_dry_run_writes_plan_and_calls_no_api(case: Case, emu, wh: Path) -> None:
    emails = setup(case, emu, wh, 10)
    s = sync(case, emu, wh, apply=False).platforms[case.platform]
    assert (s.mode, s.planned_adds, s.planned_removals) == ("dry_run", 10, 0)
    assert emu.requests == []
    plan = query(wh, "select action, email from ops.sync_plan where platform = ?", [case.platform])
    assert {e for a, e in plan if a == "add"} == emails
    with open(s.plan_file, newline="") as fh:
        assert {r["email"] for r in csv.DictReader(fh)} == emails
    assert query(wh, "select count(*) from ops.sync_log")[0][0] == 0
    assert ledger_emails(wh, case.platform) == set()


def test_no_connection_plans_only(case: Case, wh: Path, tmp_path: Path) -> None:
    write_suppressions(wh, rows(case, 3))
    s = run_sync(wh, apply=True, platforms=[case.platform], connections={}, out_dir=tmp_path / "o").platforms[case.platform]
    assert (s.mode, s.planned_adds, s.applied) == ("no_credentials", 3, 0)


def test_apply_end_to_end_then_nothing_to_do(case: Case, emu, wh: Path) -> None:
    emails = setup(case, emu, wh, 10)
    s = sync(case, emu, wh).platforms[case.platform]
    assert (s.mode, s.applied, s.failed) == ("applied", 10, 0), s
    assert case.state(emu) >= emails
    assert ledger_emails(wh, case.platform) == emails
    assert_once(case, emu, emails)
    assert log_statuses(wh, case.platform) == {"ok": 10}
    assert not any("@" in (r[0] or "") for r in query(wh, "select email_hash from ops.sync_log"))
    n_writes = len(writes(case, emu))
    s2 = sync(case, emu, wh).platforms[case.platform]
    assert (s2.planned_adds, s2.applied) == (0, 0)
    assert len(writes(case, emu)) == n_writes


@pytest.mark.parametrize("kind", ["wrong", "missing"])
def test_auth_rejected(case: Case, emu, wh: Path, kind: str) -> None:
    setup(case, emu, wh, 3)
    secret = case.wrong_secret if kind == "wrong" else None
    conn = case.connection(emu, secret)
    if kind == "missing":
        conn = Connection(conn.conn_id, conn.conn_type, conn.host, conn.login, None, conn.schema, conn.port, conn.extra)
    with pytest.raises(SyncFailed) as ei:
        sync(case, emu, wh, conn=conn)
    s = ei.value.summary.platforms[case.platform]
    assert s.mode == "failed" and s.applied == 0
    assert any(w in (s.error or "").lower() for w in ("credential", "auth", "401", "403", "token", "password"))
    assert ledger_emails(wh, case.platform) == set()
    assert case.state(emu) == set()


def test_batches_never_exceed_the_api_limit(case: Case, emu, wh: Path) -> None:
    n = case.batch_limit + 1
    emails = setup(case, emu, wh, n)
    base = case.connection(emu, None)
    conn = Connection(base.conn_id, base.conn_type, base.host, base.login, base.password, base.schema, base.port,
                      dict(base.extra) | {"batch_size": 10 * n})
    s = sync(case, emu, wh, conn=conn, approve=True).platforms[case.platform]
    assert (s.applied, s.failed) == (n, 0), s
    sizes = [case.batch_len(r) for r in writes(case, emu)]
    assert max(sizes) <= case.batch_limit and len(sizes) >= 2
    assert case.state(emu) >= emails


def test_429_storm_then_success_honours_retry_after(case: Case, emu, wh: Path) -> None:
    emails = setup(case, emu, wh, 8)
    emu.storm(4, retry_after=3, method=case.write_method, path_contains=case.write_path)
    rec = SleepRecorder()
    s = sync(case, emu, wh, policy=fast_policy(rec, attempts=8)).platforms[case.platform]
    assert (s.mode, s.applied) == ("applied", 8), s
    assert s.retries >= 4
    if case.retry_after_header:
        assert sum(1 for w in rec.waits if 2.0 <= w <= 3.0) >= 4, rec.waits
    assert case.state(emu) >= emails
    assert_once(case, emu, emails)


def test_500_on_one_batch_is_retried(case: Case, emu, wh: Path) -> None:
    emails = setup(case, emu, wh, 10)
    emu.fail(500, method=case.write_method, path_contains=case.write_path, after=1)
    s = sync(case, emu, wh).platforms[case.platform]
    assert (s.mode, s.applied, s.failed) == ("applied", 10, 0), s
    assert s.retries >= 1
    assert_once(case, emu, emails)


def test_batch_failing_after_all_retries_is_not_fatal(case: Case, emu, wh: Path) -> None:
    emails = setup(case, emu, wh, 10)
    emu.fail(503, method=case.write_method, path_contains=case.write_path, after=1, times=3)
    s = sync(case, emu, wh, policy=fast_policy(attempts=3)).platforms[case.platform]
    assert s.mode == "partial" and s.failed > 0 and s.applied == 10 - s.failed, s
    assert query(wh, "select count(*) from ops.sync_log where status = 'failed'")[0][0] == s.failed
    s2 = sync(case, emu, wh).platforms[case.platform]
    assert (s2.planned_adds, s2.applied, s2.failed) == (s.failed, s.failed, 0)
    assert ledger_emails(wh, case.platform) == emails


# only platforms whose API reports per-row errors for an invalid address
@pytest.mark.parametrize("case", sorted(k for k, c in CASES.items() if c.invalid_email is not None), indirect=True)
def test_per_row_errors_logged_not_fatal(case: Case, emu, wh: Path) -> None:
    r = rows(case, 6) + [(case.invalid_email, case.platform, "hard_bounce")]
    write_suppressions(wh, r)
    case.seed(emu, [e for e, _, _ in r])
    s = sync(case, emu, wh).platforms[case.platform]
    assert (s.mode, s.applied, s.failed + s.not_found) == ("partial" if s.failed else "applied", 6, 1), s
    logged = query(wh, "select status, error from ops.sync_log where email_hash = ?", [hash_email(case.invalid_email)])
    assert logged and logged[0][0] in ("failed", "not_found") and logged[0][1]
    assert case.invalid_email not in ledger_emails(wh, case.platform)


class Killed(BaseException):
    """Stands in for SIGKILL inside the process (the subprocess test does the real thing)."""


@pytest.mark.parametrize("when", ["before_ledger", "after_ledger"])
def test_killed_half_way_then_resumed(case: Case, emu, wh: Path, monkeypatch: pytest.MonkeyPatch, when: str) -> None:
    emails = setup(case, emu, wh, 14)  # 3 batches of 5
    original = Ledger.finish_batch
    calls = {"n": 0}

    def dying(self, *a, **k):
        calls["n"] += 1
        if calls["n"] == 2 and when == "before_ledger":
            raise Killed()
        original(self, *a, **k)
        if calls["n"] == 2 and when == "after_ledger":
            raise Killed()

    monkeypatch.setattr(Ledger, "finish_batch", dying)
    with pytest.raises(Killed):
        sync(case, emu, wh)
    monkeypatch.setattr(Ledger, "finish_batch", original)
    assert 0 < len(ledger_emails(wh, case.platform)) < 14
    s = sync(case, emu, wh).platforms[case.platform]
    assert s.mode == "applied", s
    assert case.state(emu) >= emails
    assert ledger_emails(wh, case.platform) == emails
    assert query(wh, "select count(*) from ops.sync_batches where state = 'in_flight'")[0][0] == 0
    counts = case.add_counts(emu)
    from list_hygiene.sync import connector_class

    if when == "after_ledger" or connector_class(case.platform).can_list:
        assert_once(case, emu, emails)
    else:  # platform list not readable: the interrupted batch is re-sent (idempotent writes), nothing else is
        assert sum(1 for e in emails if counts.get(e) == 2) <= 5 and all(counts.get(e, 0) >= 1 for e in emails)


def test_forbidden_removal_kept_and_reported(case: Case, emu, wh: Path) -> None:
    emails = setup(case, emu, wh, 6)
    sync(case, emu, wh)
    write_suppressions(wh, rows(case, 6)[2:])  # a later export lacks the first two
    s = sync(case, emu, wh).platforms[case.platform]
    assert (s.planned_removals, s.skipped_forbidden_removals, s.applied) == (0, 2, 0)
    assert case.state(emu) >= emails and ledger_emails(wh, case.platform) == emails
    kept = query(wh, "select email, note from ops.sync_plan where platform = ? and action = 'keep'", [case.platform])
    assert {e for e, _ in kept} == {addr(0), addr(1)} and "policy forbids removal" in kept[0][1]


def test_approved_removal(case: Case, emu, wh: Path) -> None:
    emails = setup(case, emu, wh, 6)
    sync(case, emu, wh)
    write_suppressions(wh, rows(case, 6)[1:], removals=[
        (addr(0), case.platform, "corrected_address", "ops@example.com"),
        (addr(9), case.platform, "corrected_address", None),  # not approved: ignored
    ])
    s = sync(case, emu, wh).platforms[case.platform]
    if case.supports_removal:
        assert (s.planned_removals, s.applied, s.failed) == (1, 1, 0), s
        assert addr(0) not in case.state(emu)
        assert ledger_emails(wh, case.platform) == emails - {addr(0)}
    else:
        assert (s.planned_removals, s.unsupported_removals) == (0, 1)
        assert addr(0) in case.state(emu)


def test_brake_trips_then_approval_passes(case: Case, emu, wh: Path) -> None:
    emails = setup(case, emu, wh, 12)
    with pytest.raises(SyncBrakeTripped) as ei:
        sync(case, emu, wh, brake_floor=5)
    msg = str(ei.value)
    assert case.platform in msg and "12 planned changes > limit 5" in msg and "approve_large_sync" in msg and "--approve" in msg
    assert ei.value.summary.platforms[case.platform].mode == "brake_tripped"
    assert writes(case, emu) == [] and ledger_emails(wh, case.platform) == set()
    s = sync(case, emu, wh, approve=True, brake_floor=5).platforms[case.platform]
    assert (s.applied, s.failed) == (12, 0)
    assert case.state(emu) >= emails
