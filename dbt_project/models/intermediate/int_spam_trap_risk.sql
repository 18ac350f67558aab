{#- POLICY rule 10: recycled-trap risk (dead, then alive again) and risky acquisition sources. -#}
with

events as (select * from {{ ref('int_email_events') }}),

bounces as (select * from {{ ref('int_bounces_classified') }}),

crm as (select * from {{ ref('int_crm_contacts') }}),

risky_sources as (select * from {{ ref('risky_lead_sources') }}),

first_hard_bounce as (

    select email, min(occurred_at) as died_at
    from bounces
    where is_hard
    group by email

),

activity as (

    select email, occurred_at
    from events
    where event_type in ('delivered', 'open', 'click')

),

-- alive again after a hard bounce: the mailbox was re-created, perhaps as a trap
revived_after_bounce as (

    select
        b.email,
        b.died_at,
        min(a.occurred_at) as revived_at
    from first_hard_bounce as b
    inner join activity as a
        on a.email = b.email
        and a.occurred_at > b.died_at
    group by b.email, b.died_at

),

-- alive again after a long silence
gaps as (

    select
        email,
        occurred_at,
        lag(occurred_at) over (partition by email order by occurred_at) as previous_at
    from activity

),

revived_after_silence as (

    select email, min(previous_at) as died_at, min(occurred_at) as revived_at
    from gaps
    where {{ dbt.datediff('previous_at', 'occurred_at', 'day') }} >= {{ var('spam_trap_silence_days') }}
    group by email

),

sourced as (

    select
        c.email,
        c.modified_at as since,
        s.risk
    from crm as c
    inner join risky_sources as s
        on lower(trim(c.lead_source)) = s.lead_source

),

unioned as (

    select email, 'recycled_after_hard_bounce' as risk_reason, revived_at as since from revived_after_bounce
    union all
    select email, 'recycled_after_silence', revived_at from revived_after_silence
    union all
    select email, risk || '_source', since from sourced

),

final as (

    select
        email,
        min(risk_reason) as risk_reason,
        {{ dbt.listagg('distinct risk_reason', "','", "order by risk_reason") }} as risk_reasons,
        min(since) as since
    from unioned
    where email is not null
    group by email

)

select * from final
