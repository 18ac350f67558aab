{#- POLICY rule 11: every open and click, human or machine, and why a machine one was discarded. -#}
with

events as (select * from {{ ref('int_email_events') }}),

deliveries as (

    select
        platform,
        message_id,
        email,
        min(occurred_at) as delivered_at
    from events
    where event_type = 'delivered'
    group by platform, message_id, email

),

clicks as (

    select event_key, platform, message_id, email, url, occurred_at
    from events
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
        d.delivered_at,
        b.links_in_burst
    from events as e
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
        end as machine_reason
    from engagement

)

select
    *,
    machine_reason is null as is_human
from final
