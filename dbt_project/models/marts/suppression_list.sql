{#- Every address that must not be mailed, once per platform where it is known (POLICY rules 1, 3, 8, 19). -#}
with

reasons as (select * from {{ ref('int_suppression_reasons') }}),

permanent as (select * from {{ ref('int_permanent_suppressions') }}),

segments as (select * from {{ ref('sunset_segments') }}),

platforms as (select * from {{ ref('int_contact_platforms') }}),

priorities as (select * from {{ ref('suppression_reasons') }}),

all_reasons as (

    select email, reason, since from reasons
    union all
    select email, reason, since from permanent
    union all
    select email, 'sunset' as reason, disengaged_since as since
    from segments
    where segment = 'sunset'

),

ranked as (

    select
        r.email,
        r.reason,
        r.since,
        p.is_permanent,
        row_number() over (partition by r.email order by p.priority, r.since) as reason_rank
    from all_reasons as r
    inner join priorities as p
        on r.reason = p.reason

),

per_address as (

    select
        email,
        max(case when reason_rank = 1 then reason end) as reason,
        {{ dbt.listagg('reason', "','", "order by reason_rank") }} as all_reasons,
        min(since) as suppressed_since,
        max(case when reason_rank = 1 then cast(is_permanent as integer) end) = 1 as is_permanent
    from ranked
    group by email

),

final as (

    select
        a.email,
        p.platform,
        a.reason,
        a.all_reasons,
        a.suppressed_since,
        a.is_permanent
    from per_address as a
    inner join platforms as p
        on a.email = p.email

)

select * from final
