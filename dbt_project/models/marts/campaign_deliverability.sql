{#- POLICY rules 5 and 7: campaign statistics with the hard-bounce threshold flagged.

    A table, rebuilt every run. It holds one row per campaign, so it does not grow with history, and distinct
    recipients and openers cannot be added up day by day: an incremental version had to find every event of
    the touched campaigns among all events and then delete+insert, which cost twice the whole recount
    (docs/scaling.md §1: 32 s against ~15 s on the next day at 1 M contacts). -#}
{{ config(materialized='table') }}

{#- the machine-open vars too: they decide which opens count as human (int_engagement_events) -#}
{%- set policy = lh_policy_vars(['hard_bounce_rate_max', 'hard_bounce_rate_warn', 'complaint_rate_max'] + lh_machine_open_vars()) %}

with

events as {{ lh_inline_cte() }} (select * from {{ ref('int_email_events') }}),

classified as (select * from {{ ref('int_bounces_classified') }}),

engagement as (select * from {{ ref('int_engagement_events') }}),

campaigns as (select * from {{ ref('int_campaigns') }}),

-- distinct recipients over the sends alone. Counted beside the other sums over every event joined to its
-- bounce class (fct_email_events), the distinct aggregate kept DuckDB on one thread: 6 s at 1 M contacts,
-- against 2.3 s for the whole model now, the same rows.
recipients as (

    select
        platform,
        campaign_id,
        count(distinct email) as recipients
    from events
    where campaign_id is not null
        and event_type = 'send'
    group by platform, campaign_id

),

counts as (

    select
        platform,
        campaign_id,
        sum(case when event_type = 'send' then 1 else 0 end) as sends,
        sum(case when event_type = 'delivered' then 1 else 0 end) as deliveries,
        sum(case when event_type = 'complaint' then 1 else 0 end) as complaints,
        sum(case when event_type = 'unsubscribe' then 1 else 0 end) as unsubscribes,
        max(loaded_at) as loaded_at
    from events
    where campaign_id is not null
    group by platform, campaign_id

),

-- a bounce's class is on its int_bounces_classified row (same event_key, platform and campaign): counted
-- there, not by joining every event to it
bounces as (

    select
        platform,
        campaign_id,
        sum(case when bounce_class = 'hard' then 1 else 0 end) as hard_bounces,
        sum(case when bounce_class = 'soft' then 1 else 0 end) as soft_bounces,
        sum(case when bounce_class = 'block' then 1 else 0 end) as block_bounces
    from classified
    where campaign_id is not null
        and event_type = 'bounce'
    group by platform, campaign_id

),

totals as (

    select
        c.platform,
        c.campaign_id,
        coalesce(r.recipients, 0) as recipients,
        c.sends,
        c.deliveries,
        coalesce(b.hard_bounces, 0) as hard_bounces,
        coalesce(b.soft_bounces, 0) as soft_bounces,
        coalesce(b.block_bounces, 0) as block_bounces,
        c.complaints,
        c.unsubscribes,
        c.loaded_at
    from counts as c
    left join recipients as r
        on c.platform = r.platform
        and c.campaign_id = r.campaign_id
    left join bounces as b
        on c.platform = b.platform
        and c.campaign_id = b.campaign_id

),

engaged as (

    select
        platform,
        campaign_id,
        count(distinct case when event_type = 'open' and is_human then email end) as unique_human_openers,
        count(distinct case when event_type = 'click' and is_human then email end) as unique_clickers,
        sum(case when not is_human and event_type = 'open' then 1 else 0 end) as machine_opens_discarded
    from engagement
    where campaign_id is not null
    group by platform, campaign_id

),

final as (

    select
        c.platform,
        c.campaign_id,
        k.campaign_name,
        k.series_name,
        k.step_number,
        c.recipients,
        c.sends,
        c.deliveries,
        c.hard_bounces,
        c.soft_bounces,
        c.block_bounces,
        c.complaints,
        c.unsubscribes,
        coalesce(e.unique_human_openers, 0) as unique_human_openers,
        coalesce(e.unique_clickers, 0) as unique_clickers,
        coalesce(e.machine_opens_discarded, 0) as machine_opens_discarded,
        case when c.sends > 0 then cast(c.deliveries as double precision) / c.sends end as delivered_rate,
        case when c.sends > 0 then cast(c.hard_bounces as double precision) / c.sends end as hard_bounce_rate,
        case when c.sends > 0 then cast(c.soft_bounces as double precision) / c.sends end as soft_bounce_rate,
        case when c.sends > 0 then cast(c.block_bounces as double precision) / c.sends end as block_rate,
        case when c.deliveries > 0 then cast(coalesce(e.unique_human_openers, 0) as double precision) / c.deliveries end as human_open_rate,
        case when c.deliveries > 0 then cast(coalesce(e.unique_clickers, 0) as double precision) / c.deliveries end as click_rate,
        case when c.sends > 0 then cast(c.complaints as double precision) / c.sends end as complaint_rate,
        case when c.sends > 0 then cast(c.unsubscribes as double precision) / c.sends end as unsubscribe_rate,
        c.sends > 0 and cast(c.hard_bounces as double precision) / c.sends > {{ var('hard_bounce_rate_max') }} as is_over_hard_bounce_ceiling,
        c.sends > 0 and cast(c.hard_bounces as double precision) / c.sends > {{ var('hard_bounce_rate_warn') }} as is_over_hard_bounce_target,
        c.sends > 0 and cast(c.complaints as double precision) / c.sends > {{ var('complaint_rate_max') }} as is_over_complaint_ceiling,
        c.loaded_at,
        '{{ policy }}' as policy_vars
    from totals as c
    left join engaged as e
        on c.platform = e.platform
        and c.campaign_id = e.campaign_id
    left join campaigns as k
        on c.platform = k.platform
        and c.campaign_id = k.campaign_id

)

select * from final
