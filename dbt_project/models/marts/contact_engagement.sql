{#- Human engagement per address with an exponentially decayed score (POLICY rules 9, 11, 17). -#}
with

events as (select * from {{ ref('int_email_events') }}),

as_of as (select {{ lh_as_of() }} as as_of_at),

deliveries as (

    select platform, message_id, email, min(occurred_at) as delivered_at
    from events
    where event_type = 'delivered'
    group by platform, message_id, email

),

-- an open seconds after delivery is a prefetch (Apple MPP, scanners), whatever the platform says
engagements as (

    select
        e.email,
        e.event_type,
        e.occurred_at,
        e.is_machine_open
            or (
                e.event_type = 'open'
                and d.delivered_at is not null
                and {{ dbt.datediff('d.delivered_at', 'e.occurred_at', 'second') }}
                    <= {{ var('machine_open_max_seconds_after_delivery') }}
            ) as is_machine
    from events as e
    left join deliveries as d
        on e.platform = d.platform
        and e.message_id = d.message_id
        and e.email = d.email
    where e.event_type in ('open', 'click')

),

human as (

    select
        g.email,
        g.event_type,
        g.occurred_at,
        case when g.event_type = 'click'
            then {{ var('engagement_click_weight') }}
            else {{ var('engagement_open_weight') }}
        end
        * power(
            0.5,
            {{ dbt.datediff('g.occurred_at', 'a.as_of_at', 'second') }} / 86400.0
                / {{ var('engagement_half_life_days') }}
        ) as decayed_weight
    from engagements as g
    cross join as_of as a
    where not g.is_machine
        and g.occurred_at <= a.as_of_at

),

sends as (

    select
        email,
        occurred_at,
        row_number() over (partition by email order by occurred_at desc) as recency_rank
    from events
    where event_type = 'send'

),

send_stats as (

    select
        email,
        count(*) as sends,
        min(occurred_at) as first_send_at,
        max(occurred_at) as last_send_at,
        max(case when recency_rank = {{ var('disengagement_sends') }} then occurred_at end) as nth_last_send_at
    from sends
    group by email

),

human_stats as (

    select
        email,
        sum(case when event_type = 'open' then 1 else 0 end) as human_opens,
        sum(case when event_type = 'click' then 1 else 0 end) as human_clicks,
        max(occurred_at) as last_human_engagement_at,
        sum(decayed_weight) as engagement_score
    from human
    group by email

),

machine_stats as (

    select email, count(*) as machine_opens_discarded
    from engagements
    where is_machine and event_type = 'open'
    group by email

),

delivery_stats as (

    select email, count(*) as deliveries
    from events
    where event_type = 'delivered'
    group by email

),

addresses as (

    select distinct email from events

),

sends_since as (

    select s.email, count(*) as sends_since_last_engagement
    from sends as s
    left join human_stats as h
        on s.email = h.email
    where h.last_human_engagement_at is null
        or s.occurred_at > h.last_human_engagement_at
    group by s.email

),

final as (

    select
        a.email,
        coalesce(s.sends, 0) as sends,
        coalesce(d.deliveries, 0) as deliveries,
        coalesce(h.human_opens, 0) as human_opens,
        coalesce(h.human_clicks, 0) as human_clicks,
        coalesce(m.machine_opens_discarded, 0) as machine_opens_discarded,
        s.first_send_at,
        s.last_send_at,
        h.last_human_engagement_at,
        coalesce(ss.sends_since_last_engagement, 0) as sends_since_last_engagement,
        -- rule 9: engaged with any of the last N sends (no Nth send yet: every send counts)
        h.last_human_engagement_at is not null
            and (s.nth_last_send_at is null or h.last_human_engagement_at >= s.nth_last_send_at)
            as engaged_in_last_n_sends,
        round(coalesce(h.engagement_score, 0), 4) as engagement_score,
        (select as_of_at from as_of) as as_of_at
    from addresses as a
    left join send_stats as s on a.email = s.email
    left join delivery_stats as d on a.email = d.email
    left join human_stats as h on a.email = h.email
    left join machine_stats as m on a.email = m.email
    left join sends_since as ss on a.email = ss.email

)

select * from final
