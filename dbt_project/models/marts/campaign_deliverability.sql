{#- POLICY rules 5 and 7: campaign statistics with the hard-bounce threshold flagged.

    One row per campaign. Incremental (`delete+insert` on platform, campaign_id). A campaign that gained
    events since the newest `loaded_at` here adds them to its stored row: sends, deliveries, complaints,
    unsubscribes and machine opens add up, and the distinct recipients, human openers and clickers grow by
    the new addresses that had no such event in the campaign before (the day's few addresses probed against
    the stored events: 0.7 s at 1 M contacts against 4.4 s for the distinct counts over all events). The
    engagement counts of a campaign whose earlier opens or clicks int_engagement_events classified again
    since this table took its events are recounted from all of them. Bounce classes are counted again for
    every campaign each run (int_bounces_classified is small; its rules may have changed), and a campaign
    whose bounce counts, name, series or step differ from the stored row is written again. A run with other
    alert lines or machine-open vars, or another send_count_basis seed, than the rows here recounts every
    campaign (policy_vars).

    Rates are over `messages` (macros/message_count.sql): the sends, or for a platform that reports no send
    (Postmark) its deliveries and hard, soft and block bounces; null, so no rate and no alert, where neither
    can be counted (Zoho). -#}
{#- on_schema_change sync_all_columns with `layout` in policy_vars: a table of an older layout (before
    `count_basis` and `messages`, 29 Nov 2026) gets the new columns and every row recomputed, so an upgrade
    needs no full refresh. Change `layout` with the columns. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['platform', 'campaign_id'],
    on_schema_change='sync_all_columns'
) }}

{#- the machine-open vars too: they decide which opens count as human (int_engagement_events) -#}
{#- and what the rates are over (seed send_count_basis) -#}
{%- set policy = lh_policy_vars(['hard_bounce_rate_max', 'hard_bounce_rate_warn', 'complaint_rate_max'] + lh_machine_open_vars())
    ~ ';count_basis=' ~ lh_rows_digest([ref('send_count_basis')]) ~ ';layout=2' %}
{%- set merge = is_incremental() and not lh_policy_changed(policy) %}
{#- per campaign, over some events -#}
{%- set event_counts -%}
sum(case when event_type = 'send' then 1 else 0 end) as sends,
        sum(case when event_type = 'delivered' then 1 else 0 end) as deliveries,
        sum(case when event_type = 'complaint' then 1 else 0 end) as complaints,
        sum(case when event_type = 'unsubscribe' then 1 else 0 end) as unsubscribes,
        max(loaded_at) as loaded_at
{%- endset %}

with

events as {{ lh_inline_cte() }} (select * from {{ ref('int_email_events') }}),

classified as (select * from {{ ref('int_bounces_classified') }}),

engagement as {{ lh_inline_cte() }} (select * from {{ ref('int_engagement_events') }}),

campaigns as (select * from {{ ref('int_campaigns') }}),

count_basis as (select * from {{ ref('send_count_basis') }}),

{% if merge %}
{%- set watermark = lh_loaded_watermark() %}
new_events as {{ lh_inline_cte() }} (

    select *
    from events
    where loaded_at > {{ watermark }}
        and campaign_id is not null

),

new_engagement as {{ lh_inline_cte() }} (

    select *
    from engagement
    where loaded_at > {{ watermark }}
        and campaign_id is not null

),

stored as {{ lh_inline_cte() }} (select * from {{ this }}),

-- campaigns whose opens or clicks landed earlier were classified again since this table took its events:
-- their engagement is recounted
reclassified as (

    select distinct platform, campaign_id
    from engagement
    where campaign_id is not null
        and {{ lh_reclassified_since_taken('events', watermark) }}

),

new_counts as (

    select
        platform,
        campaign_id,
        {{ event_counts }}
    from new_events
    group by platform, campaign_id

),

-- the new addresses sent to that had no send of the campaign before
new_recipients as (

    select n.platform, n.campaign_id, count(*) as recipients
    from (select distinct platform, campaign_id, email from new_events where event_type = 'send') as n
    where not exists (
        select 1
        from events as e
        where e.loaded_at <= {{ watermark }}
            and e.event_type = 'send'
            and e.platform = n.platform
            and e.campaign_id = n.campaign_id
            and e.email = n.email
    )
    group by n.platform, n.campaign_id

),

-- the same for human opens and clicks, in the campaigns not recounted
new_engaged as (

    select n.platform, n.campaign_id, n.event_type, count(*) as addresses
    from (
        select distinct g.platform, g.campaign_id, g.event_type, g.email
        from new_engagement as g
        where g.is_human
            and not exists (
                select 1 from reclassified as r where r.platform = g.platform and r.campaign_id = g.campaign_id
            )
    ) as n
    where not exists (
        select 1
        from engagement as o
        where o.loaded_at <= {{ watermark }}
            and o.is_human
            and o.platform = n.platform
            and o.campaign_id = n.campaign_id
            and o.event_type = n.event_type
            and o.email = n.email
    )
    group by n.platform, n.campaign_id, n.event_type

),

new_machine as (

    select platform, campaign_id, sum(case when event_type = 'open' then 1 else 0 end) as machine_opens
    from new_engagement
    where not is_human
    group by platform, campaign_id

),

recounted_engagement as (

    select
        g.platform,
        g.campaign_id,
        count(distinct case when g.event_type = 'open' and g.is_human then g.email end) as unique_human_openers,
        count(distinct case when g.event_type = 'click' and g.is_human then g.email end) as unique_clickers,
        sum(case when not g.is_human and g.event_type = 'open' then 1 else 0 end) as machine_opens_discarded
    from engagement as g
    inner join reclassified as r
        on g.platform = r.platform
        and g.campaign_id = r.campaign_id
    group by g.platform, g.campaign_id

),

-- every campaign this run writes
touched as (

    select platform, campaign_id from new_counts

    union

    select platform, campaign_id from reclassified

),

summed as (

    select
        t.platform,
        t.campaign_id,
        coalesce(s.recipients, 0) + coalesce(nr.recipients, 0) as recipients,
        coalesce(s.sends, 0) + coalesce(n.sends, 0) as sends,
        coalesce(s.deliveries, 0) + coalesce(n.deliveries, 0) as deliveries,
        coalesce(s.complaints, 0) + coalesce(n.complaints, 0) as complaints,
        coalesce(s.unsubscribes, 0) + coalesce(n.unsubscribes, 0) as unsubscribes,
        coalesce(
            rc.unique_human_openers,
            coalesce(s.unique_human_openers, 0) + coalesce(no.addresses, 0)
        ) as unique_human_openers,
        coalesce(rc.unique_clickers, coalesce(s.unique_clickers, 0) + coalesce(nc.addresses, 0)) as unique_clickers,
        coalesce(
            rc.machine_opens_discarded,
            coalesce(s.machine_opens_discarded, 0) + coalesce(m.machine_opens, 0)
        ) as machine_opens_discarded,
        coalesce(n.loaded_at, s.loaded_at) as loaded_at
    from touched as t
    left join stored as s on t.platform = s.platform and t.campaign_id = s.campaign_id
    left join new_counts as n on t.platform = n.platform and t.campaign_id = n.campaign_id
    left join new_recipients as nr on t.platform = nr.platform and t.campaign_id = nr.campaign_id
    left join new_engaged as no
        on t.platform = no.platform and t.campaign_id = no.campaign_id and no.event_type = 'open'
    left join new_engaged as nc
        on t.platform = nc.platform and t.campaign_id = nc.campaign_id and nc.event_type = 'click'
    left join new_machine as m on t.platform = m.platform and t.campaign_id = m.campaign_id
    left join recounted_engagement as rc on t.platform = rc.platform and t.campaign_id = rc.campaign_id

    union all

    -- untouched campaigns, kept as stored unless their bounce counts or names changed (filtered below)
    select
        s.platform,
        s.campaign_id,
        s.recipients,
        s.sends,
        s.deliveries,
        s.complaints,
        s.unsubscribes,
        s.unique_human_openers,
        s.unique_clickers,
        s.machine_opens_discarded,
        s.loaded_at
    from stored as s
    where not exists (
        select 1 from touched as t where t.platform = s.platform and t.campaign_id = s.campaign_id
    )

),
{% else %}
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
        {{ event_counts }}
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

summed as (

    select
        c.platform,
        c.campaign_id,
        coalesce(r.recipients, 0) as recipients,
        c.sends,
        c.deliveries,
        c.complaints,
        c.unsubscribes,
        coalesce(e.unique_human_openers, 0) as unique_human_openers,
        coalesce(e.unique_clickers, 0) as unique_clickers,
        coalesce(e.machine_opens_discarded, 0) as machine_opens_discarded,
        c.loaded_at
    from counts as c
    left join recipients as r
        on c.platform = r.platform
        and c.campaign_id = r.campaign_id
    left join engaged as e
        on c.platform = e.platform
        and c.campaign_id = e.campaign_id

),
{% endif %}

-- a bounce's class is on its int_bounces_classified row (same event_key, platform and campaign): counted
-- there, not by joining every event to it; every campaign, every run
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

-- the stored counts with this run's bounce classes and the messages the rates are over
measured as (

    select
        c.*,
        coalesce(b.hard_bounces, 0) as hard_bounces,
        coalesce(b.soft_bounces, 0) as soft_bounces,
        coalesce(b.block_bounces, 0) as block_bounces,
        cb.count_basis
    from summed as c
    left join bounces as b
        on c.platform = b.platform
        and c.campaign_id = b.campaign_id
    left join count_basis as cb
        on c.platform = cb.platform

),

with_messages as (

    select
        *,
        {{ lh_messages('count_basis', 'sends', 'deliveries', 'hard_bounces', 'soft_bounces', 'block_bounces') }} as messages
    from measured

),

final as (

    select
        c.platform,
        c.campaign_id,
        k.campaign_name,
        k.series_name,
        k.step_number,
        c.recipients,
        c.count_basis,
        c.messages,
        c.sends,
        c.deliveries,
        c.hard_bounces,
        c.soft_bounces,
        c.block_bounces,
        c.complaints,
        c.unsubscribes,
        c.unique_human_openers,
        c.unique_clickers,
        c.machine_opens_discarded,
        case when c.messages > 0 then cast(c.deliveries as double precision) / c.messages end as delivered_rate,
        case when c.messages > 0 then cast(c.hard_bounces as double precision) / c.messages end as hard_bounce_rate,
        case when c.messages > 0 then cast(c.soft_bounces as double precision) / c.messages end as soft_bounce_rate,
        case when c.messages > 0 then cast(c.block_bounces as double precision) / c.messages end as block_rate,
        case when c.deliveries > 0 then cast(c.unique_human_openers as double precision) / c.deliveries end as human_open_rate,
        case when c.deliveries > 0 then cast(c.unique_clickers as double precision) / c.deliveries end as click_rate,
        case when c.messages > 0 then cast(c.complaints as double precision) / c.messages end as complaint_rate,
        case when c.messages > 0 then cast(c.unsubscribes as double precision) / c.messages end as unsubscribe_rate,
        coalesce(c.messages > 0 and cast(c.hard_bounces as double precision) / c.messages > {{ var('hard_bounce_rate_max') }}, false) as is_over_hard_bounce_ceiling,
        coalesce(c.messages > 0 and cast(c.hard_bounces as double precision) / c.messages > {{ var('hard_bounce_rate_warn') }}, false) as is_over_hard_bounce_target,
        coalesce(c.messages > 0 and cast(c.complaints as double precision) / c.messages > {{ var('complaint_rate_max') }}, false) as is_over_complaint_ceiling,
        c.loaded_at,
        '{{ policy }}' as policy_vars
    from with_messages as c
    left join campaigns as k
        on c.platform = k.platform
        and c.campaign_id = k.campaign_id

)

select f.*
from final as f
{%- if merge %}
-- what changed: a touched campaign, or one whose bounce counts or name differ from the stored row
where f.loaded_at > {{ watermark }}
    or exists (select 1 from reclassified as r where r.platform = f.platform and r.campaign_id = f.campaign_id)
    or not exists (
        select 1
        from stored as s
        where s.platform = f.platform
            and s.campaign_id = f.campaign_id
            and s.hard_bounces = f.hard_bounces
            and s.soft_bounces = f.soft_bounces
            and s.block_bounces = f.block_bounces
            and {{ lh_same('s.campaign_name', 'f.campaign_name') }}
            and {{ lh_same('s.series_name', 'f.series_name') }}
            and {{ lh_same('s.step_number', 'f.step_number') }}
    )
{%- endif %}
