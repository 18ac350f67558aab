{#- POLICY rules 5 and 7: campaign statistics with the hard-bounce threshold flagged.

    Incremental (`delete+insert` on platform, campaign_id): a run recomputes, from all their events, the
    campaigns that gained an event since the newest `loaded_at` here, the campaigns of opens and clicks
    int_engagement_events classified again (same messages as the new events), and the campaigns whose
    name or step changed in int_campaigns. Distinct recipients and openers cannot be added up day by day,
    so a touched campaign is counted again whole. A run with other alert lines or machine-open vars than
    the rows here recomputes every campaign (policy_vars, macros/incremental.sql). -#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['platform', 'campaign_id'],
    on_schema_change='fail'
) }}

{#- the machine-open vars too: they decide which opens count as human (int_engagement_events) -#}
{%- set policy = lh_policy_vars(['hard_bounce_rate_max', 'hard_bounce_rate_warn', 'complaint_rate_max'] + lh_machine_open_vars()) %}

with

all_events as (select * from {{ ref('fct_email_events') }}),

all_engagement as (select * from {{ ref('int_engagement_events') }}),

campaigns as (select * from {{ ref('int_campaigns') }}),

{% if is_incremental() and not lh_policy_changed(policy) %}
{%- set watermark = lh_loaded_watermark() %}
new_events as (

    select platform, campaign_id, message_id, email, event_type
    from all_events
    where loaded_at > {{ watermark }}

),

-- int_engagement_events classified the opens and clicks of these messages again
touched_messages as (

    select distinct platform, message_id, email
    from new_events
    where event_type in ('delivered', 'open', 'click')
        and message_id is not null

),

touched as (

    select platform, campaign_id
    from new_events
    where campaign_id is not null

    union

    select g.platform, g.campaign_id
    from all_engagement as g
    inner join touched_messages as t
        on g.platform = t.platform
        and g.message_id = t.message_id
        and g.email = t.email
    where g.campaign_id is not null

    union

    -- a name or step that changed without new events (a renamed Mailchimp campaign, another step pattern)
    select k.platform, k.campaign_id
    from campaigns as k
    inner join {{ this }} as existing
        on k.platform = existing.platform
        and k.campaign_id = existing.campaign_id
    where k.campaign_name is distinct from existing.campaign_name
        or k.series_name is distinct from existing.series_name
        or k.step_number is distinct from existing.step_number

),

events as (

    select e.*
    from all_events as e
    inner join touched as t
        on e.platform = t.platform
        and e.campaign_id = t.campaign_id

),

engagement as (

    select g.*
    from all_engagement as g
    inner join touched as t
        on g.platform = t.platform
        and g.campaign_id = t.campaign_id

),
{% else %}
events as (select * from all_events),

engagement as (select * from all_engagement),
{% endif %}

counts as (

    select
        platform,
        campaign_id,
        count(distinct case when event_type = 'send' then email end) as recipients,
        sum(case when event_type = 'send' then 1 else 0 end) as sends,
        sum(case when event_type = 'delivered' then 1 else 0 end) as deliveries,
        sum(case when event_type = 'bounce' and bounce_class = 'hard' then 1 else 0 end) as hard_bounces,
        sum(case when event_type = 'bounce' and bounce_class = 'soft' then 1 else 0 end) as soft_bounces,
        sum(case when event_type = 'bounce' and bounce_class = 'block' then 1 else 0 end) as block_bounces,
        sum(case when event_type = 'complaint' then 1 else 0 end) as complaints,
        sum(case when event_type = 'unsubscribe' then 1 else 0 end) as unsubscribes,
        max(loaded_at) as loaded_at
    from events
    where campaign_id is not null
    group by platform, campaign_id

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
    from counts as c
    left join engaged as e
        on c.platform = e.platform
        and c.campaign_id = e.campaign_id
    left join campaigns as k
        on c.platform = k.platform
        and c.campaign_id = k.campaign_id

)

select * from final
