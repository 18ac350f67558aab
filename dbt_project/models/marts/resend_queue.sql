{#- POLICY rule 2: soft-bounced messages to resend in a second wave, once the cause has likely passed.
    Anything suppressed since (on any platform, for any reason) is left out. -#}
with

bounces as (select * from {{ ref('int_bounces_classified') }}),

events as (select * from {{ ref('int_email_events') }}),

suppressed as (select distinct email from {{ ref('suppression_list') }}),

as_of as (select {{ lh_as_of() }} as as_of_at),

soft as (

    select
        b.email,
        b.platform,
        b.campaign_id,
        b.message_id,
        b.occurred_at as bounced_at,
        b.reason,
        row_number() over (partition by b.email, b.platform, b.campaign_id order by b.occurred_at desc) as recency_rank
    from bounces as b
    cross join as_of as a
    where b.bounce_class = 'soft'
        and b.event_type = 'bounce'
        and b.occurred_at >= {{ dbt.dateadd('day', -1 * var('soft_bounce_resend_lookback_days'), 'a.as_of_at') }}

),

-- a later delivery of the same campaign means the message got through after all
delivered_later as (

    select distinct s.email, s.platform, s.campaign_id
    from soft as s
    inner join events as e
        on e.email = s.email
        and e.platform = s.platform
        and e.campaign_id = s.campaign_id
        and e.event_type = 'delivered'
        and e.occurred_at > s.bounced_at

),

final as (

    select
        s.email,
        s.platform,
        s.campaign_id,
        s.message_id,
        s.reason,
        s.bounced_at,
        {{ dbt.dateadd('day', var('soft_bounce_resend_after_days'), 's.bounced_at') }} as resend_after,
        2 as wave
    from soft as s
    left join delivered_later as d
        on s.email = d.email
        and s.platform = d.platform
        and s.campaign_id = d.campaign_id
    where s.recency_rank = 1
        and d.email is null
        and s.email not in (select email from suppressed)

)

select * from final
