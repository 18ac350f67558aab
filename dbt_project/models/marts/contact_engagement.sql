{#- Human engagement per address and platform with an exponentially decayed score (POLICY rules 9, 11, 17). -#}
with

events as (select * from {{ ref('int_email_events') }}),

engagement as (select * from {{ ref('int_engagement_events') }}),

as_of as (select {{ lh_as_of() }} as as_of_at),

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

human as (

    select
        g.*,
        case when g.event_type = 'click'
            then {{ var('engagement_click_weight') }}
            else {{ var('engagement_open_weight') }}
        end
        * power(
            0.5,
            {{ dbt.datediff('g.occurred_at', 'a.as_of_at', 'second') }} / 86400.0
                / {{ var('engagement_half_life_days') }}
        ) as decayed_weight
    from engagement as g
    cross join as_of as a
    where g.is_human
        and g.occurred_at <= a.as_of_at

),

send_stats as (

    select
        email,
        platform,
        count(*) as sends,
        min(occurred_at) as first_send_at,
        max(occurred_at) as last_send_at
    from sends
    group by email, platform

),

human_stats as (

    select
        email,
        platform,
        sum(case when event_type = 'open' then 1 else 0 end) as human_opens,
        sum(case when event_type = 'click' then 1 else 0 end) as human_clicks,
        max(occurred_at) as last_human_engagement_at,
        sum(decayed_weight) as engagement_score
    from human
    group by email, platform

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

delivery_stats as (

    select email, platform, count(*) as deliveries
    from events
    where event_type = 'delivered'
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

pairs as (

    select distinct email, platform from events

),

final as (

    select
        p.email,
        p.platform,
        coalesce(s.sends, 0) as sends,
        coalesce(d.deliveries, 0) as deliveries,
        coalesce(h.human_opens, 0) as human_opens,
        coalesce(h.human_clicks, 0) as human_clicks,
        coalesce(m.machine_opens_discarded, 0) as machine_opens_discarded,
        coalesce(m.machine_clicks_discarded, 0) as machine_clicks_discarded,
        s.first_send_at,
        s.last_send_at,
        h.last_human_engagement_at,
        coalesce(ss.sends_since_last_engagement, 0) as sends_since_last_engagement,
        coalesce(l.last_n_sends, 0) as last_n_sends,
        coalesce(l.engaged_of_last_n_sends, 0) as engaged_of_last_n_sends,
        round(coalesce(h.engagement_score, 0), 4) as engagement_score,
        (select as_of_at from as_of) as as_of_at
    from pairs as p
    left join send_stats as s on p.email = s.email and p.platform = s.platform
    left join delivery_stats as d on p.email = d.email and p.platform = d.platform
    left join human_stats as h on p.email = h.email and p.platform = h.platform
    left join machine_stats as m on p.email = m.email and p.platform = m.platform
    left join sends_since as ss on p.email = ss.email and p.platform = ss.platform
    left join last_n_sends as l on p.email = l.email and p.platform = l.platform

)

select * from final
