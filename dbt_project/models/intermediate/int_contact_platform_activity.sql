{#- Sends, deliveries and human engagement per address and platform, summed over every event so the
    marts read one row per address instead of the whole history (POLICY rules 9, 11, 17).

    Incremental (`delete+insert` on email, platform). A pair that gained events since the newest
    `loaded_at` here adds them to its stored row: counts add up, the engagement score at the new latest
    human engagement is the stored one decayed to it plus the new events' (0.5^(a+b) = 0.5^a × 0.5^b),
    the sends since the latest engagement are the stored ones plus the new, or only the new ones after a
    new engagement. That holds while the new events all happened at or after the pair's latest stored
    event; a pair with an older new event (landed late), or with an open or click landed earlier that
    int_engagement_events classified again since this table took its events (a late delivery or scanner
    click makes it a machine's), is recounted from all its events instead. "Engaged in the last N sends"
    is counted over int_recent_sends, which keeps each pair's last N sends, against the human opens and
    clicks as they are now. The engagement score is kept at `last_human_engagement_at`
    (`engagement_score_at_last`); contact_engagement decays it to the evaluation date, so nothing here
    changes just because a day passed. A run with other engagement vars than the rows here recomputes
    every row (policy_vars, macros/incremental.sql).

    With var `as_of_date` set (evaluating the policy at a date that may lie before the latest events) the
    model is ephemeral: the marts compute it from all events, as of that date, and the table kept for the
    daily runs is left alone. -#}
{{ config(
    materialized=('ephemeral' if var('as_of_date') else 'incremental'),
    incremental_strategy='delete+insert',
    unique_key=['email', 'platform'],
    on_schema_change='fail'
) }}

{#- the machine-open vars too: int_engagement_events reclassifies every open and click when they change -#}
{%- set policy = lh_policy_vars([
    'disengagement_sends', 'engagement_half_life_days', 'engagement_open_weight', 'engagement_click_weight'
] + lh_machine_open_vars()) %}
{%- set merge = is_incremental() and not lh_policy_changed(policy) %}
{%- set half_life = var('engagement_half_life_days') %}

with

all_events as {{ lh_inline_cte() }} (select * from {{ ref('int_email_events') }}),

all_engagement as {{ lh_inline_cte() }} (select * from {{ ref('int_engagement_events') }}),

recent_sends as {{ lh_inline_cte() }} (select * from {{ ref('int_recent_sends') }}),

as_of as (select {{ lh_as_of() }} as as_of_at),

{% if merge %}
{%- set watermark = lh_loaded_watermark() %}
new_events as {{ lh_inline_cte() }} (

    select *
    from all_events
    where loaded_at > {{ watermark }}

),

stored as {{ lh_inline_cte() }} (select * from {{ this }}),

-- the pairs recounted from all their events: a new event older than the pair's latest stored one, or an
-- open or click landed earlier and classified again since this table took its events
recount as (

    select n.email, n.platform
    from new_events as n
    inner join stored as s
        on n.email = s.email
        and n.platform = s.platform
    where n.occurred_at < s.last_event_at

    union

    select email, platform
    from all_engagement
    where {{ lh_reclassified_since_taken('all_events', watermark) }}

),

-- what this run writes: every pair with a new event, and the recounted ones
written as (

    select distinct email, platform from new_events

    union

    select email, platform from recount

),

-- the events this run reads: every event of a recounted pair, the new ones of the others
events as (

    select e.*
    from all_events as e
    inner join recount as r
        on e.email = r.email
        and e.platform = r.platform

    union all

    select n.*
    from new_events as n
    where not exists (select 1 from recount as r where r.email = n.email and r.platform = n.platform)

),

engagement as (

    {#- exists (a semi join), not an inner join: the planner then always builds its hash table from the few
        recounted pairs, never from all the opens and clicks (1.4 s on a day with nothing new, at 1 M) -#}
    select g.*
    from all_engagement as g
    where exists (select 1 from recount as r where r.email = g.email and r.platform = g.platform)

    union all

    select g.*
    from all_engagement as g
    where g.loaded_at > {{ watermark }}
        and not exists (select 1 from recount as r where r.email = g.email and r.platform = g.platform)

),

-- the stored rows the new events are added to (a recounted pair has none)
kept as (

    select s.*
    from stored as s
    inner join written as w
        on s.email = w.email
        and s.platform = w.platform
    where not exists (select 1 from recount as r where r.email = s.email and r.platform = s.platform)

),

recent as (

    select s.*
    from recent_sends as s
    inner join written as w
        on s.email = w.email
        and s.platform = w.platform

),
{% else %}
events as {{ lh_inline_cte() }} (select * from all_events),

engagement as {{ lh_inline_cte() }} (select * from all_engagement),

recent as {{ lh_inline_cte() }} (select * from recent_sends),
{% endif %}

-- rule 9: of the last N sends (int_recent_sends), how many drew a human open or click
engaged_recent as (

    select distinct g.platform, g.message_id, g.email
    from all_engagement as g
    cross join as_of as a
    where g.is_human
        and g.occurred_at <= a.as_of_at
        and exists (
            select 1 from recent as r
            where r.platform = g.platform and r.message_id = g.message_id and r.email = g.email
        )

),

last_n_sends as (

    select
        r.email,
        r.platform,
        count(*) as last_n_sends,
        sum(case when m.message_id is not null then 1 else 0 end) as engaged_of_last_n_sends
    from recent as r
    left join engaged_recent as m
        on r.platform = m.platform
        and r.message_id = m.message_id
        and r.email = m.email
    group by r.email, r.platform

),

{#- over the events this run reads; on a merging run `final` adds the stored rows they continue -#}
human as {{ lh_inline_cte() }} (

    select g.*
    from engagement as g
    cross join as_of as a
    where g.is_human
        and g.occurred_at <= a.as_of_at

),

human_stats as (

    select
        email,
        platform,
        sum(case when event_type = 'open' then 1 else 0 end) as human_opens,
        sum(case when event_type = 'click' then 1 else 0 end) as human_clicks,
        max(occurred_at) as last_human_engagement_at
    from human
    group by email, platform

),

-- the decayed score at the latest human engagement: Σ weight × 0.5^(days before it / half-life)
human_scores as (

    select
        g.email,
        g.platform,
        sum(
            case when g.event_type = 'click'
                then {{ var('engagement_click_weight') }}
                else {{ var('engagement_open_weight') }}
            end
            * power(
                0.5,
                {{ dbt.datediff('g.occurred_at', 's.last_human_engagement_at', 'second') }} / 86400.0
                    / {{ half_life }}
            )
        ) as engagement_score_at_last
    from human as g
    inner join human_stats as s
        on g.email = s.email
        and g.platform = s.platform
    group by g.email, g.platform

),

machine_stats as (

    select
        email,
        platform,
        sum(case when event_type = 'open' then 1 else 0 end) as machine_opens_discarded,
        sum(case when event_type = 'click' then 1 else 0 end) as machine_clicks_discarded
    from engagement
    where not is_human
    group by email, platform

),

-- every per-pair count and bound in one pass over the events
pairs as (

    select
        email,
        platform,
        count(case when event_type = 'send' then 1 end) as sends,
        min(case when event_type = 'send' then occurred_at end) as first_send_at,
        max(case when event_type = 'send' then occurred_at end) as last_send_at,
        count(case when event_type = 'delivered' then 1 end) as deliveries,
        min(occurred_at) as first_event_at,
        max(occurred_at) as last_event_at,
        max(loaded_at) as loaded_at
    from events
    group by email, platform

),

-- the latest human engagement: among the events read, else the stored one
latest_engagement as (

    select
        p.email,
        p.platform,
        {%- if merge %}
        coalesce(h.last_human_engagement_at, k.last_human_engagement_at) as last_human_engagement_at
        {%- else %}
        h.last_human_engagement_at
        {%- endif %}
    from pairs as p
    left join human_stats as h on p.email = h.email and p.platform = h.platform
    {%- if merge %}
    left join kept as k on p.email = k.email and p.platform = k.platform
    {%- endif %}

),

sends_since as (

    select e.email, e.platform, count(*) as sends_since_last_engagement
    from events as e
    inner join latest_engagement as l
        on e.email = l.email
        and e.platform = l.platform
    where e.event_type = 'send'
        and (l.last_human_engagement_at is null or e.occurred_at > l.last_human_engagement_at)
    group by e.email, e.platform

),

final as (

    select
        p.email,
        p.platform,
        {%- if merge %}
        -- a kept row goes on: its counts add up, its first times stand, the new last times win (the new events
        -- are no older than its own), the sends since its latest engagement go on unless a new one came
        coalesce(k.sends, 0) + p.sends as sends,
        coalesce(k.deliveries, 0) + p.deliveries as deliveries,
        coalesce(k.human_opens, 0) + coalesce(h.human_opens, 0) as human_opens,
        coalesce(k.human_clicks, 0) + coalesce(h.human_clicks, 0) as human_clicks,
        coalesce(k.machine_opens_discarded, 0) + coalesce(m.machine_opens_discarded, 0) as machine_opens_discarded,
        coalesce(k.machine_clicks_discarded, 0) + coalesce(m.machine_clicks_discarded, 0) as machine_clicks_discarded,
        coalesce(k.first_send_at, p.first_send_at) as first_send_at,
        coalesce(p.last_send_at, k.last_send_at) as last_send_at,
        le.last_human_engagement_at,
        case when h.last_human_engagement_at is null then coalesce(k.sends_since_last_engagement, 0) else 0 end
            + coalesce(ss.sends_since_last_engagement, 0) as sends_since_last_engagement,
        {%- else %}
        p.sends,
        p.deliveries,
        coalesce(h.human_opens, 0) as human_opens,
        coalesce(h.human_clicks, 0) as human_clicks,
        coalesce(m.machine_opens_discarded, 0) as machine_opens_discarded,
        coalesce(m.machine_clicks_discarded, 0) as machine_clicks_discarded,
        p.first_send_at,
        p.last_send_at,
        h.last_human_engagement_at,
        coalesce(ss.sends_since_last_engagement, 0) as sends_since_last_engagement,
        {%- endif %}
        coalesce(l.last_n_sends, 0) as last_n_sends,
        coalesce(l.engaged_of_last_n_sends, 0) as engaged_of_last_n_sends,
        {%- if merge %}
        -- the kept score decayed to the new latest engagement, plus the new events' (0.5^(a+b) = 0.5^a × 0.5^b)
        case
            when h.last_human_engagement_at is null then k.engagement_score_at_last
            else hs.engagement_score_at_last + coalesce(
                k.engagement_score_at_last * power(
                    0.5,
                    {{ dbt.datediff('k.last_human_engagement_at', 'h.last_human_engagement_at', 'second') }}
                        / 86400.0 / {{ half_life }}
                ),
                0
            )
        end as engagement_score_at_last,
        coalesce(k.first_event_at, p.first_event_at) as first_event_at,
        {%- else %}
        hs.engagement_score_at_last,
        p.first_event_at,
        {%- endif %}
        p.last_event_at,
        p.loaded_at,
        '{{ policy }}' as policy_vars
    from pairs as p
    left join human_stats as h on p.email = h.email and p.platform = h.platform
    left join human_scores as hs on p.email = hs.email and p.platform = hs.platform
    left join machine_stats as m on p.email = m.email and p.platform = m.platform
    left join latest_engagement as le on p.email = le.email and p.platform = le.platform
    left join sends_since as ss on p.email = ss.email and p.platform = ss.platform
    left join last_n_sends as l on p.email = l.email and p.platform = l.platform
    {%- if merge %}
    left join kept as k on p.email = k.email and p.platform = k.platform
    {%- endif %}

)

select * from final
