"""What the audit reads from the warehouse, one DataFrame per section, for one quarter [start, end).

Every query names the tables it needs; a table that is not there yet (issue 5's marts, the sync's ops
tables before the first sync) gives an empty section with a note saying which table is missing, so
the report states what it could not measure instead of showing zeros.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import duckdb
import pandas as pd


@dataclass
class Section:
    name: str
    frame: pd.DataFrame | None
    note: str | None = None
    extra: dict = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return self.frame is None or self.frame.empty


def tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {f"{s}.{t}" for s, t in con.execute("select table_schema, table_name from information_schema.tables").fetchall()}


def columns(con: duckdb.DuckDBPyConnection, qualified: str) -> list[str]:
    s, _, t = qualified.partition(".")
    return [r[0] for r in con.execute(
        "select column_name from information_schema.columns where table_schema = ? and table_name = ? order by ordinal_position",
        [s, t]).fetchall()]


PROVIDER = """
    case
        when mp.provider is not null then mp.provider
        when {d} like '%.example' then split_part({d}, '.', 1)
        else {d}
    end"""


def _provider_join(have: set[str], domain_col: str) -> tuple[str, str]:
    if "seeds.mailbox_providers" in have:
        join = (f"left join (select pattern, min(provider) as provider from seeds.mailbox_providers "
                f"where match_type = 'domain' group by 1) mp on mp.pattern = {domain_col}")
    else:
        join = f"left join (select null::varchar as pattern, null::varchar as provider) mp on mp.pattern = {domain_col}"
    return join, PROVIDER.format(d=domain_col)


def _events(con, have) -> str:
    """fct_email_events with `counts_as_message` (the event is a message in its platform's rate denominator, dbt
    seed send_count_basis) and `rated` (its platform's messages can be counted, so its failures belong in a
    rate). A warehouse not rebuilt since the seed existed: a message is a send event, every platform rated."""
    if "counts_as_message" in columns(con, "marts.fct_email_events") and "seeds.send_count_basis" in have:
        return """(select e.*, coalesce(b.count_basis, 'not_countable') <> 'not_countable' as rated
                   from marts.fct_email_events as e
                   left join seeds.send_count_basis as b on b.platform = e.platform)"""
    return "(select *, event_type = 'send' as counts_as_message, true as rated from marts.fct_email_events)"


def list_size(con, have, start: date, end: date) -> Section:
    if not {"marts.dim_contacts", "marts.suppression_list"} <= have:
        return Section("list_size", None, "needs marts.dim_contacts and marts.suppression_list")
    df = con.execute(
        """with weeks as (
               select unnest(generate_series(date_trunc('week', ?::timestamp),
                      least(?::timestamp - interval 1 day, (select max(last_seen_at) from marts.dim_contacts)),
                      interval 7 day)) as week_start),
           supp as (select email, min(suppressed_since) as since from marts.suppression_list group by 1),
           counted as (
               select w.week_start::date as week_start,
                      (select count(*) from marts.dim_contacts c
                       where c.first_seen_at < w.week_start + interval 7 day) as contacts_known,
                      (select count(*) from supp s where s.since < w.week_start + interval 7 day) as suppressed
               from weeks w)
           select *, contacts_known - suppressed as mailable from counted order by 1""",
        [start, end],
    ).df()
    extra = {}
    if not df.empty:
        first, last = df.iloc[0], df.iloc[-1]
        new_supp = int(last["suppressed"] - first["suppressed"])
        extra = {"start_mailable": int(first["mailable"]), "end_mailable": int(last["mailable"]),
                 "new_suppressions": new_supp,
                 "decay_share": round(new_supp / first["mailable"], 4) if first["mailable"] else None}
    return Section("list_size", df, extra=extra)


def bounce_rates_by_platform(con, have, start, end) -> Section:
    if "marts.fct_email_events" not in have:
        return Section("bounce_rates_by_platform", None, "needs marts.fct_email_events")
    df = con.execute(
        f"""select date_trunc('week', occurred_at)::date as week_start, platform,
                  count(*) filter (where counts_as_message) as messages,
                  count(*) filter (where event_type = 'bounce' and bounce_class = 'hard') as hard,
                  count(*) filter (where event_type in ('bounce', 'deferred') and bounce_class = 'soft') as soft,
                  count(*) filter (where event_type in ('bounce', 'dropped') and bounce_class = 'block') as block,
                  count(*) filter (where event_type = 'complaint') as complaints,
                  count(*) filter (where event_type = 'unsubscribe') as unsubscribes
           from {_events(con, have)}
           where occurred_at >= ? and occurred_at < ?
           group by all order by 1, 2""",
        [start, end],
    ).df()
    for c in ("hard", "soft", "block", "complaints", "unsubscribes"):
        df[f"{c}_rate"] = (df[c] / df["messages"].where(df["messages"] > 0)).round(5)
    return Section("bounce_rates_by_platform", df)


def rates_by_provider(con, have, start, end) -> Section:
    if "marts.fct_email_events" not in have:
        return Section("rates_by_provider", None, "needs marts.fct_email_events")
    join, provider = _provider_join(have, "e.email_domain")
    df = con.execute(
        f"""select {provider} as mailbox_provider,
                   count(*) filter (where counts_as_message) as messages,
                   count(*) filter (where event_type = 'bounce' and bounce_class = 'hard') as hard,
                   count(*) filter (where event_type in ('bounce', 'deferred') and bounce_class = 'soft') as soft,
                   count(*) filter (where event_type in ('bounce', 'dropped') and bounce_class = 'block') as block,
                   count(*) filter (where event_type = 'complaint') as complaints,
                   count(*) filter (where event_type = 'unsubscribe') as unsubscribes
            from {_events(con, have)} e {join}
            where rated and occurred_at >= ? and occurred_at < ?
            group by 1 order by messages desc""",
        [start, end],
    ).df()
    for c in ("hard", "soft", "block", "complaints", "unsubscribes"):
        df[f"{c}_rate"] = (df[c] / df["messages"].where(df["messages"] > 0)).round(5)
    # a provider's rates mix platforms: the events of one whose messages cannot be counted (Zoho, raw bounce
    # messages) would be failures over no messages, so they are left out here (they are in the other sections)
    return Section("rates_by_provider", df)


SEGMENT_DATE_COLUMNS = ("valid_from", "changed_at", "entered_at", "as_of_date", "snapshot_date", "as_of_at", "dbt_valid_from")


def segment_flows(con, have, start, end) -> Section:
    """Transitions between segments in the quarter from marts.segment_history (issue 5) when it exists."""
    if "marts.segment_history" in have:
        cols = columns(con, "marts.segment_history")
        when = next((c for c in SEGMENT_DATE_COLUMNS if c in cols), None)
        to_col = "to_segment" if "to_segment" in cols else "segment"
        if when and {"email", to_col} <= set(cols):
            prev_expr = "from_segment" if "from_segment" in cols else f"lag({to_col}) over (partition by email order by {when})"
            df = con.execute(
                f"""with h as (select email, {to_col} as segment, {when} as changed_on, {prev_expr} as from_segment
                               from marts.segment_history)
                    select coalesce(from_segment, '(new)') as from_segment, segment as to_segment, count(*) as contacts
                    from h where changed_on >= ? and changed_on < ? and coalesce(from_segment, '') <> segment
                    group by all order by 3 desc""",
                [start, end],
            ).df()
            return Section("segment_flows", df, extra={"source": "marts.segment_history"})
        note = f"marts.segment_history has no recognised date column ({', '.join(SEGMENT_DATE_COLUMNS)})"
    else:
        note = "marts.segment_history not in the warehouse yet: showing the current segments only"
    if "marts.sunset_segments" not in have:
        return Section("segment_flows", None, note)
    df = con.execute(
        """select '(now)' as from_segment, segment as to_segment, count(*) as contacts
           from marts.sunset_segments group by all order by 3 desc"""
    ).df()
    return Section("segment_flows", df, note, extra={"source": "marts.sunset_segments"})


def soft_bounce_escalations(con, have, start, end) -> Section:
    if "marts.suppression_list" not in have:
        return Section("soft_bounce_escalations", None, "needs marts.suppression_list")
    df = con.execute(
        """select date_trunc('week', suppressed_since)::date as week_start, platform, count(*) as escalations
           from marts.suppression_list
           where (reason = 'soft_bounce_escalated' or list_contains(string_split(coalesce(all_reasons::varchar, ''), ','),
                  'soft_bounce_escalated'))
             and suppressed_since >= ? and suppressed_since < ?
           group by all order by 1, 2""",
        [start, end],
    ).df()
    return Section("soft_bounce_escalations", df)


def corrections(con, have, start, end) -> Section:
    """Corrected addresses obtained (marts.correction_outcomes) and what still waits (correction_queue)."""
    extra: dict = {}
    if "marts.correction_queue" in have:
        extra["waiting"] = con.execute("select count(*) from marts.correction_queue").fetchone()[0]
    if "marts.correction_outcomes" in have:
        cols = columns(con, "marts.correction_outcomes")
        group = [c for c in ("platform", "action", "outcome", "status", "within_wait_window") if c in cols]
        when = next((c for c in ("corrected_at", "bounced_at") if c in cols), None)
        where = f"where {when} >= ? and {when} < ?" if when else ""
        agg = "count(*) as corrections" + (", round(avg(days_to_correct), 1) as avg_days_to_correct"
                                          if "days_to_correct" in cols else "")
        df = con.execute(
            f"select {', '.join(group) + ', ' if group else ''}{agg} from marts.correction_outcomes {where}"
            + (" group by all order by all" if group else ""),
            [start, end] if when else [],
        ).df()
        return Section("corrections", df, extra=extra | {"source": "marts.correction_outcomes"})
    if "waiting" in extra:
        return Section("corrections", None, f"marts.correction_outcomes not in the warehouse yet; "
                       f"{extra['waiting']} contacts wait in marts.correction_queue", extra=extra)
    return Section("corrections", None, "marts.correction_outcomes / correction_queue not in the warehouse yet")


def sync_changes(con, have, start, end) -> Section:
    """Changes written to each platform in the quarter; when none were, the last run's plan and why it was not
    applied (sync mode: no_credentials, dry_run, unsupported...), so an empty quarter is explained, not blank."""
    if "ops.sync_log" in have:
        df = con.execute(
            """select platform, action, status, count(*) as changes, count(distinct run_id) as runs
               from ops.sync_log where "at" >= ? and "at" < ? group by all order by all""",  # "at" is reserved in DuckDB
            [start, end],
        ).df()
        if not df.empty:
            return Section("sync_changes", df, extra={"source": "ops.sync_log"})
        why = f"no change written to a platform between {start} and {end} (ops.sync_log has no rows in the quarter)"
    else:
        why = "ops.sync_log not in the warehouse yet (no sync has run)"
    if "ops.sync_plan" not in have:
        return Section("sync_changes", None, why)
    mode = ("coalesce((select any_value(r.mode order by r.finished_at desc) from ops.sync_runs r "
            "where r.run_id = p.run_id and r.platform = p.platform), 'unknown')" if "ops.sync_runs" in have else "'unknown'")
    df = con.execute(f"""select p.platform, p.action, {mode} as sync_mode, count(*) as changes
                         from ops.sync_plan p group by all order by all""").df()
    return Section("sync_changes", df, f"{why}: changes planned by each platform's last run, with its sync mode",
                   extra={"source": "ops.sync_plan"})


def quality_history(con, have, start, end) -> Section:
    if "ops.quality_results" not in have:
        return Section("quality_history", None, "ops.quality_results not in the warehouse yet (the gate has not run)")
    df = con.execute(
        """select run_id, min(checked_at) as checked_at,
                  count(*) filter (where source <> 'deliverability') as checks,
                  count(*) filter (where success = false and severity = 'fail') as failures,
                  count(*) filter (where success = false and severity = 'warn') as warnings,
                  count(*) filter (where success is null) as skipped,
                  count(*) filter (where severity = 'alert') as alerts
           from ops.quality_results where checked_at >= ? and checked_at < ?
           group by 1 order by 2""",
        [start, end],
    ).df()
    df["passed"] = df["failures"] == 0
    failing = con.execute(
        """select suite, expectation, severity, count(*) as runs, max(checked_at) as last_seen,
                  arg_max(observed_value, checked_at) as last_observed
           from ops.quality_results
           where checked_at >= ? and checked_at < ? and success = false and severity in ('fail', 'warn')
           group by all order by runs desc, suite limit 30""",
        [start, end],
    ).df()
    return Section("quality_history", df, extra={"failing": failing})


def failing_domains(con, have, start, end, limit: int = 15) -> Section:
    if "marts.fct_email_events" not in have:
        return Section("failing_domains", None, "needs marts.fct_email_events")
    df = con.execute(
        f"""select email_domain,
                  count(*) filter (where counts_as_message) as messages,
                  count(*) filter (where event_type = 'bounce' and bounce_class = 'hard') as hard,
                  count(*) filter (where event_type in ('bounce', 'dropped') and bounce_class = 'block') as block,
                  count(*) filter (where event_type = 'complaint') as complaints,
                  count(distinct email) filter (where bounce_class in ('hard', 'block')) as addresses_failing,
                  count(*) filter (where rated and ((event_type = 'bounce' and bounce_class = 'hard')
                                   or (event_type in ('bounce', 'dropped') and bounce_class = 'block'))) as rated_failures
           from {_events(con, have)} where occurred_at >= ? and occurred_at < ?
           group by 1 having hard + block + complaints > 0
           order by hard + block + complaints desc, email_domain limit ?""",
        [start, end, limit],
    ).df()
    # over the messages of the platforms that count them: a Zoho or raw-message bounce is in hard/block, not the rate
    df["failure_rate"] = (df.pop("rated_failures") / df["messages"].where(df["messages"] > 0)).round(5)
    return Section("failing_domains", df)


def campaigns_over_threshold(con, have, start, end, lines: dict) -> Section:
    if "marts.fct_email_events" not in have:
        return Section("campaigns_over_threshold", None, "needs marts.fct_email_events")
    df = con.execute(
        f"""select platform, coalesce(campaign_id, '(none)') as campaign_id, min(occurred_at)::date as first_event,
                  count(*) filter (where counts_as_message) as messages,
                  count(*) filter (where event_type = 'bounce' and bounce_class = 'hard') as hard_bounces,
                  count(*) filter (where event_type = 'complaint') as complaints
           from {_events(con, have)} where occurred_at >= ? and occurred_at < ?
           group by 1, 2 having messages > 0""",
        [start, end],
    ).df()
    df["hard_bounce_rate"] = (df["hard_bounces"] / df["messages"]).round(5)
    df["complaint_rate"] = (df["complaints"] / df["messages"]).round(5)

    def level(rate: float, warn: float, maximum: float) -> str:
        return "critical" if rate > maximum else "warning" if rate > warn else ""

    hb_warn, hb_max = lines["hard_bounce_rate_warn"], lines["hard_bounce_rate_max"]
    df["hard_bounce_level"] = [level(r, hb_warn, hb_max) for r in df["hard_bounce_rate"]]
    df["complaint_level"] = [level(r, lines["complaint_rate_warn"], lines["complaint_rate_max"]) for r in df["complaint_rate"]]
    df = df[(df["hard_bounce_level"] != "") | (df["complaint_level"] != "")]
    df = df.sort_values(["hard_bounce_rate", "complaint_rate"], ascending=False).reset_index(drop=True)
    return Section("campaigns_over_threshold", df)


SECTIONS: list[Callable] = [
    list_size, bounce_rates_by_platform, rates_by_provider, segment_flows, soft_bounce_escalations, corrections,
    sync_changes, quality_history, failing_domains,
]


def collect(con: duckdb.DuckDBPyConnection, start: date, end: date, lines: dict) -> dict[str, Section]:
    have = tables(con)
    out = {}
    for fn in SECTIONS:
        s = fn(con, have, start, end)
        out[s.name] = s
    out["campaigns_over_threshold"] = campaigns_over_threshold(con, have, start, end, lines)
    return out
