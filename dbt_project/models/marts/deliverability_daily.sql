{#- Daily sending health per platform and receiving domain, with the alert lines of POLICY rule 5. -#}
with

events as (select * from {{ ref('fct_email_events') }}),

providers as (select * from {{ ref('mailbox_providers') }} where match_type = 'domain'),

daily as (

    select
        cast(occurred_at as date) as event_date,
        platform,
        email_domain,
        coalesce(max(p.provider), 'other') as mailbox_provider,
        sum(case when event_type = 'send' then 1 else 0 end) as sends,
        sum(case when event_type = 'delivered' then 1 else 0 end) as deliveries,
        sum(case when event_type = 'bounce' and bounce_class = 'hard' then 1 else 0 end) as hard_bounces,
        sum(case when event_type = 'bounce' and bounce_class = 'soft' then 1 else 0 end) as soft_bounces,
        sum(case when event_type = 'bounce' and bounce_class = 'block' then 1 else 0 end) as block_bounces,
        sum(case when event_type = 'complaint' then 1 else 0 end) as complaints,
        sum(case when event_type = 'unsubscribe' then 1 else 0 end) as unsubscribes,
        sum(case when event_type = 'open' and not is_machine_open then 1 else 0 end) as human_opens,
        sum(case when event_type = 'open' and is_machine_open then 1 else 0 end) as machine_opens,
        sum(case when event_type = 'click' then 1 else 0 end) as clicks
    from events as e
    left join providers as p
        on e.email_domain = p.pattern
    group by 1, 2, 3

),

final as (

    select
        *,
        case when sends > 0 then cast(hard_bounces as double precision) / sends end as hard_bounce_rate,
        case when sends > 0 then cast(complaints as double precision) / sends end as complaint_rate
    from daily

)

select * from final
