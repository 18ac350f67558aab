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
-- open or click landed earlier and classified again since this table took its events (the newest build
-- time among the events it has taken)
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
    where loaded_at <= {{ watermark }}
        and built_at > (select max(built_at) from all_events where loaded_at <= {{ watermark }})

),

-- what this run writes: every pair with a new event, and the recounted ones
written as (

    select distinct email, platform from new_events

    union

    select email, platform from recount

),

events as {{ lh_inline_cte() }} (

    select e.*
    from all_events as e
    inner join recount as r
        on e.email = r.email
        and e.platform = r.platform

),

engagement as (

    select g.*
    from all_engagement as g
    inner join recount as r
        on g.email = r.email
        and g.platform = r.platform

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
    inner join recent as r
        on g.platform = r.platform
        and g.message_id = r.message_id
        and g.email = r.email
    cross join as_of as a
    where g.is_human
        and g.occurred_at <= a.as_of_at

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

{#- every pair's row from all its events: all pairs, or on a merging run the recounted ones -#}
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
        h.email,
        h.platform,
        sum(
            case when h.event_type = 'click'
                then {{ var('engagement_click_weight') }}
                else {{ var('engagement_open_weight') }}
            end
            * power(
                0.5,
                {{ dbt.datediff('h.occurred_at', 's.last_human_engagement_at', 'second') }} / 86400.0
                    / {{ half_life }}
            )
        ) as engagement_score_at_last
    from human as h
    inner join human_stats as s
        on h.email = s.email
        and h.platform = s.platform
    group by h.email, h.platform

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

sends_since as (

    select e.email, e.platform, count(*) as sends_since_last_engagement
    from events as e
    left join human_stats as h
        on e.email = h.email
        and e.platform = h.platform
    where e.event_type = 'send'
        and (h.last_human_engagement_at is null or e.occurred_at > h.last_human_engagement_at)
    group by e.email, e.platform

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

counted as (

    select
        p.email,
        p.platform,
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
        hs.engagement_score_at_last,
        p.first_event_at,
        p.last_event_at,
        p.loaded_at
    from pairs as p
    left join human_stats as h on p.email = h.email and p.platform = h.platform
    left join human_scores as hs on p.email = hs.email and p.platform = hs.platform
    left join machine_stats as m on p.email = m.email and p.platform = m.platform
    left join sends_since as ss on p.email = ss.email and p.platform = ss.platform

),
{% if merge %}

{#- the other pairs with new events: the stored row plus the new events, which all happened at or after
    the stored ones (so a stored first time stays first and a new last time is last) -#}
fresh as {{ lh_inline_cte() }} (

    select n.*
    from new_events as n
    where not exists (
        select 1 from recount as r where r.email = n.email and r.platform = n.platform
    )

),

fresh_engagement as {{ lh_inline_cte() }} (

    select g.*
    from all_engagement as g
    where g.loaded_at > {{ watermark }}
        and not exists (
            select 1 from recount as r where r.email = g.email and r.platform = g.platform
        )

),

fresh_pairs as (

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
    from fresh
    group by email, platform

),

fresh_human_stats as (

    select
        email,
        platform,
        sum(case when is_human and event_type = 'open' then 1 else 0 end) as human_opens,
        sum(case when is_human and event_type = 'click' then 1 else 0 end) as human_clicks,
        sum(case when not is_human and event_type = 'open' then 1 else 0 end) as machine_opens,
        sum(case when not is_human and event_type = 'click' then 1 else 0 end) as machine_clicks,
        max(case when is_human then occurred_at end) as last_human_engagement_at
    from fresh_engagement
    group by email, platform

),

fresh_human_scores as (

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
    from fresh_engagement as g
    inner join fresh_human_stats as s
        on g.email = s.email
        and g.platform = s.platform
    where g.is_human
    group by g.email, g.platform

),

-- the latest human engagement after the new events: a new one, else the stored one
fresh_last_engagement as (

    select
        p.email,
        p.platform,
        coalesce(h.last_human_engagement_at, s.last_human_engagement_at) as last_human_engagement_at
    from fresh_pairs as p
    left join fresh_human_stats as h on p.email = h.email and p.platform = h.platform
    left join stored as s on p.email = s.email and p.platform = s.platform

),

fresh_sends_since as (

    select n.email, n.platform, count(*) as sends
    from fresh as n
    inner join fresh_last_engagement as l
        on n.email = l.email
        and n.platform = l.platform
    where n.event_type = 'send'
        and (l.last_human_engagement_at is null or n.occurred_at > l.last_human_engagement_at)
    group by n.email, n.platform

),

merged as (

    select
        p.email,
        p.platform,
        coalesce(s.sends, 0) + p.sends as sends,
        coalesce(s.deliveries, 0) + p.deliveries as deliveries,
        coalesce(s.human_opens, 0) + coalesce(h.human_opens, 0) as human_opens,
        coalesce(s.human_clicks, 0) + coalesce(h.human_clicks, 0) as human_clicks,
        coalesce(s.machine_opens_discarded, 0) + coalesce(h.machine_opens, 0) as machine_opens_discarded,
        coalesce(s.machine_clicks_discarded, 0) + coalesce(h.machine_clicks, 0) as machine_clicks_discarded,
        coalesce(s.first_send_at, p.first_send_at) as first_send_at,
        coalesce(p.last_send_at, s.last_send_at) as last_send_at,
        l.last_human_engagement_at,
        -- no new engagement: the stored count goes on; a new one: only new sends can follow it
        case when h.last_human_engagement_at is null then coalesce(s.sends_since_last_engagement, 0) else 0 end
            + coalesce(ss.sends, 0) as sends_since_last_engagement,
        case
            when h.last_human_engagement_at is null then s.engagement_score_at_last
            else hs.engagement_score_at_last + coalesce(
                s.engagement_score_at_last * power(
                    0.5,
                    {{ dbt.datediff('s.last_human_engagement_at', 'h.last_human_engagement_at', 'second') }}
                        / 86400.0 / {{ half_life }}
                ),
                0
            )
        end as engagement_score_at_last,
        coalesce(s.first_event_at, p.first_event_at) as first_event_at,
        p.last_event_at,
        p.loaded_at
    from fresh_pairs as p
    inner join fresh_last_engagement as l on p.email = l.email and p.platform = l.platform
    left join stored as s on p.email = s.email and p.platform = s.platform
    left join fresh_human_stats as h on p.email = h.email and p.platform = h.platform
    left join fresh_human_scores as hs on p.email = hs.email and p.platform = hs.platform
    left join fresh_sends_since as ss on p.email = ss.email and p.platform = ss.platform

),
{% endif %}

summed as (

    select * from counted
    {%- if merge %}

    union all

    select * from merged
    {%- endif %}

),

final as (

    select
        c.email,
        c.platform,
        c.sends,
        c.deliveries,
        c.human_opens,
        c.human_clicks,
        c.machine_opens_discarded,
        c.machine_clicks_discarded,
        c.first_send_at,
        c.last_send_at,
        c.last_human_engagement_at,
        c.sends_since_last_engagement,
        coalesce(l.last_n_sends, 0) as last_n_sends,
        coalesce(l.engaged_of_last_n_sends, 0) as engaged_of_last_n_sends,
        c.engagement_score_at_last,
        c.first_event_at,
        c.last_event_at,
        c.loaded_at,
        '{{ policy }}' as policy_vars
    from summed as c
    left join last_n_sends as l on c.email = l.email and c.platform = l.platform

)

select * from final
