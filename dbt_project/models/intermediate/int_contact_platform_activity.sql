{#- Sends, deliveries and human engagement per address and platform, summed over every event so the
    marts read one row per address instead of the whole history (POLICY rules 9, 11, 17).

    Incremental (`delete+insert` on email, platform): a run recomputes, from all their events, the
    addresses and platforms that gained an event since the newest `loaded_at` here (a new delivery can
    also turn an earlier open of the same message into a machine open: same address and platform). The
    engagement score is kept at `last_human_engagement_at` (`engagement_score_at_last`); contact_engagement
    decays it to the evaluation date, so nothing here changes just because a day passed. A run with other
    engagement vars than the rows here recomputes every row (policy_vars, macros/incremental.sql).

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

with

all_events as {{ lh_inline_cte() }} (select * from {{ ref('int_email_events') }}),

all_engagement as {{ lh_inline_cte() }} (select * from {{ ref('int_engagement_events') }}),

as_of as (select {{ lh_as_of() }} as as_of_at),

{% if is_incremental() and not lh_policy_changed(policy) %}
touched as (

    select distinct email, platform
    from all_events
    where loaded_at > {{ lh_loaded_watermark() }}

),

-- read by two CTEs (the per-pair counts, the ranked sends), each joining again: materialising the touched
-- pairs' events (half the history on a newsletter day) cost more than the second join (docs/scaling.md §1)
events as {{ lh_inline_cte() }} (

    select e.*
    from all_events as e
    inner join touched as t
        on e.email = t.email
        and e.platform = t.platform

),

engagement as (

    select g.*
    from all_engagement as g
    inner join touched as t
        on g.email = t.email
        and g.platform = t.platform

),
{% else %}
events as {{ lh_inline_cte() }} (select * from all_events),

engagement as {{ lh_inline_cte() }} (select * from all_engagement),
{% endif %}

sends as (

    select
        email,
        platform,
        message_id,
        occurred_at,
        row_number() over (partition by email, platform order by occurred_at desc, message_id) as recency_rank
    from events
    where event_type = 'send'

),

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
                    / {{ var('engagement_half_life_days') }}
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

engaged_messages as (

    select distinct platform, message_id, email
    from human

),

-- rule 9: of the last N sends, how many drew a human open or click
last_n_sends as (

    select
        s.email,
        s.platform,
        count(*) as last_n_sends,
        sum(case when m.message_id is not null then 1 else 0 end) as engaged_of_last_n_sends
    from sends as s
    left join engaged_messages as m
        on s.platform = m.platform
        and s.message_id = m.message_id
        and s.email = m.email
    where s.recency_rank <= {{ var('disengagement_sends') }}
    group by s.email, s.platform

),

sends_since as (

    select s.email, s.platform, count(*) as sends_since_last_engagement
    from sends as s
    left join human_stats as h
        on s.email = h.email
        and s.platform = h.platform
    where h.last_human_engagement_at is null
        or s.occurred_at > h.last_human_engagement_at
    group by s.email, s.platform

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

final as (

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
        coalesce(l.last_n_sends, 0) as last_n_sends,
        coalesce(l.engaged_of_last_n_sends, 0) as engaged_of_last_n_sends,
        hs.engagement_score_at_last,
        p.first_event_at,
        p.last_event_at,
        p.loaded_at,
        '{{ policy }}' as policy_vars
    from pairs as p
    left join human_stats as h on p.email = h.email and p.platform = h.platform
    left join human_scores as hs on p.email = hs.email and p.platform = hs.platform
    left join machine_stats as m on p.email = m.email and p.platform = m.platform
    left join sends_since as ss on p.email = ss.email and p.platform = ss.platform
    left join last_n_sends as l on p.email = l.email and p.platform = l.platform

)

select * from final
