{#- POLICY rule 3: soft bounces since the last delivery or human engagement, and whether they escalate. -#}
with

bounces as (select * from {{ ref('int_bounces_classified') }}),

activity as (select * from {{ ref('int_contact_activity') }}),

soft_bounces as (

    select email, occurred_at
    from bounces
    where bounce_class = 'soft'
        and event_type = 'bounce'

),

-- a delivery, a click or a human-looking open ends a streak (int_contact_activity)
last_success as (

    select email, last_success_at
    from activity
    where last_success_at is not null

),

streaks as (

    select
        s.email,
        count(*) as soft_bounces_in_streak,
        min(s.occurred_at) as first_soft_bounce_at,
        max(s.occurred_at) as last_soft_bounce_at,
        max(l.last_success_at) as last_success_at
    from soft_bounces as s
    left join last_success as l
        on s.email = l.email
    where l.last_success_at is null
        or s.occurred_at > l.last_success_at
    group by s.email

),

final as (

    select
        email,
        soft_bounces_in_streak,
        first_soft_bounce_at,
        last_soft_bounce_at,
        last_success_at,
        {{ dbt.datediff('first_soft_bounce_at', 'last_soft_bounce_at', 'day') }} as streak_span_days,
        soft_bounces_in_streak >= {{ var('soft_bounce_escalation_count') }}
            and {{ dbt.datediff('first_soft_bounce_at', 'last_soft_bounce_at', 'day') }}
                >= {{ var('soft_bounce_escalation_min_days') }} as is_escalated
    from streaks

)

select * from final
