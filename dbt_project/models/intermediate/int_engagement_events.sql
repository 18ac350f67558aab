{#- POLICY rule 11: every open and click, human or machine, and why a machine one was discarded.

    Incremental (`delete+insert` on event_key): whether an open or click is a machine's depends only on
    the events of the same message (platform, message_id, address): its delivery, the other clicks. So a
    run takes the messages that gained an event since the newest `loaded_at` here and classifies all
    their opens and clicks again, old ones included (a delivery landed after the open may turn it into
    a machine open). A run with other machine-open vars than the rows here classifies every open and
    click again (policy_vars, macros/incremental.sql). `dbt build --full-refresh` rebuilds it. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='event_key',
    on_schema_change='fail'
) }}

{%- set policy = lh_policy_vars(lh_machine_open_vars()) %}
{%- set only_touched = is_incremental() and not lh_policy_changed(policy) %}

with

events as {{ lh_inline_cte() }} (select * from {{ ref('int_email_events') }}),

{% if only_touched %}
{%- set watermark = lh_loaded_watermark() %}
touched_messages as (

    select distinct platform, message_id, email
    from events
    where loaded_at > {{ watermark }}
        and event_type in ('delivered', 'open', 'click')
        and message_id is not null

),
{% endif %}

-- what this run classifies: every delivery, open and click; on an incremental run those of the
-- touched messages, and new events without a message id (nothing else can change them)
scoped as {{ lh_inline_cte() if not only_touched }} (

    {%- if only_touched %}
    select e.*
    from events as e
    inner join touched_messages as t
        on e.platform = t.platform
        and e.message_id = t.message_id
        and e.email = t.email
    where e.event_type in ('delivered', 'open', 'click')

    union all

    select *
    from events
    where loaded_at > {{ watermark }}
        and event_type in ('delivered', 'open', 'click')
        and message_id is null
    {%- else %}
    select *
    from events
    where event_type in ('delivered', 'open', 'click')
    {%- endif %}

),

deliveries as (

    select
        platform,
        message_id,
        email,
        min(occurred_at) as delivered_at
    from scoped
    where event_type = 'delivered'
    group by platform, message_id, email

),

clicks as (

    select event_key, platform, message_id, email, url, occurred_at
    from scoped
    where event_type = 'click'

),

-- a security scanner follows every link of a message within seconds; a person does not
click_bursts as (

    select
        c.event_key,
        count(distinct o.url) as links_in_burst
    from clicks as c
    inner join clicks as o
        on c.platform = o.platform
        and c.message_id = o.message_id
        and c.email = o.email
        and abs({{ dbt.datediff('c.occurred_at', 'o.occurred_at', 'second') }})
            <= {{ var('scanner_click_window_seconds') }}
    group by c.event_key

),

engagement as (

    select
        e.event_key,
        e.platform,
        e.email,
        e.message_id,
        e.campaign_id,
        e.event_type,
        e.occurred_at,
        e.user_agent,
        e.url,
        e.is_machine_open,
        e.loaded_at,
        d.delivered_at,
        b.links_in_burst
    from scoped as e
    left join deliveries as d
        on e.platform = d.platform
        and e.message_id = d.message_id
        and e.email = d.email
    left join click_bursts as b
        on e.event_key = b.event_key
    where e.event_type in ('open', 'click')

),

final as (

    select
        event_key,
        platform,
        email,
        message_id,
        campaign_id,
        event_type,
        occurred_at,
        user_agent,
        url,
        case
            when is_machine_open then 'platform_flag_or_proxy_user_agent'
            when event_type = 'open'
                and delivered_at is not null
                and {{ dbt.datediff('delivered_at', 'occurred_at', 'second') }}
                    <= {{ var('machine_open_max_seconds_after_delivery') }}
                then 'opened_seconds_after_delivery'
            when event_type = 'click'
                and links_in_burst >= {{ var('scanner_click_min_links') }}
                then 'clicked_every_link_at_once'
        end as machine_reason,
        loaded_at
    from engagement

)

select
    event_key,
    platform,
    email,
    message_id,
    campaign_id,
    event_type,
    occurred_at,
    user_agent,
    url,
    machine_reason,
    machine_reason is null as is_human,
    loaded_at,
    '{{ policy }}' as policy_vars,
    {{ lh_built_at() }} as built_at
from final
