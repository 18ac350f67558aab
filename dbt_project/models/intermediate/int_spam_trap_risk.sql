{#- POLICY rule 10: recycled-trap risk (dead, then alive again) and risky acquisition sources. -#}
with

-- the event-history part of the rule, summed per address (int_contact_activity)
activity as (select * from {{ ref('int_contact_activity') }}),

crm as (select * from {{ ref('int_crm_contacts') }}),

risky_sources as (select * from {{ ref('risky_lead_sources') }}),

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

    -- alive again after a hard bounce: the mailbox was re-created, perhaps as a trap
    select email, 'recycled_after_hard_bounce' as risk_reason, revived_after_hard_bounce_at as since
    from activity
    where revived_after_hard_bounce_at is not null
    union all
    -- alive again after a long silence
    select email, 'recycled_after_silence', revived_after_silence_at
    from activity
    where revived_after_silence_at is not null
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
