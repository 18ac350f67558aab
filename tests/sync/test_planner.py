"""The diff and the removal policy, without any platform."""

from __future__ import annotations

from list_hygiene.sync.planner import make_plan


def test_adds_and_policy_forbids_silent_removal() -> None:
    plan = make_plan("x", "", {"a@x.io": "hard_bounce", "b@x.io": "complaint"},
                     {"b@x.io": "complaint", "c@x.io": "unsubscribe"}, approved=set())
    assert [c.email for c in plan.adds] == ["a@x.io"]
    assert plan.removals == [] and [c.email for c in plan.kept] == ["c@x.io"]


def test_only_approved_removals_and_suppression_wins() -> None:
    plan = make_plan("x", "", {"a@x.io": "hard_bounce"}, {"a@x.io": "hard_bounce", "c@x.io": "unsubscribe"},
                     approved={"a@x.io", "c@x.io"})
    assert [c.email for c in plan.removals] == ["c@x.io"]  # a@ is still suppressed: never removed


def test_unsupported_removal_platform() -> None:
    plan = make_plan("x", "", {}, {"c@x.io": "unsubscribe"}, approved={"c@x.io"}, supports_removal=False)
    assert plan.removals == [] and [c.email for c in plan.unsupported_removals] == ["c@x.io"]


def test_reconcile_reports_drift_and_re_adds_what_the_platform_lost() -> None:
    plan = make_plan("x", "", {"a@x.io": "hard_bounce", "b@x.io": "complaint"},
                     {"a@x.io": "hard_bounce", "b@x.io": "complaint"}, approved=set(),
                     platform_state={"a@x.io", "z@x.io"})
    assert (plan.drift_platform_only, plan.drift_ledger_only) == (1, 1)
    assert [c.email for c in plan.adds] == ["b@x.io"]


def test_empty_export_does_not_unsuppress_anyone() -> None:
    ledger = {f"u{i}@x.io": "hard_bounce" for i in range(1000)}
    plan = make_plan("x", "", {}, ledger, approved=set())
    assert plan.changes == 0 and len(plan.kept) == 1000


def test_brake_limit_floor_and_ratio() -> None:
    plan = make_plan("x", "", {}, {f"u{i}@x.io": "r" for i in range(2000)}, approved=set())
    assert plan.brake_limit(0.10) == 200 and plan.brake_limit(0.01) == 50
