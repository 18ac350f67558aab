{#- Current lifecycle segment per address and the rule that put it there (POLICY rules 9, 17, 19). -#}
with

contacts as (select * from {{ ref('dim_contacts') }}),

health as (select * from {{ ref('contact_health') }}),

reasons as (select * from {{ ref('int_suppression_reasons') }}),

as_of as (select {{ lh_as_of() }} as as_of_at),

blocking_reasons as (

    select
        email,
        min(reason) as reason,
        min(since) as since
    from reasons
    group by email

),

measured as (

    select
        c.email,
        b.reason as suppression_reason,
        e.sends,
        e.last_human_engagement_at,
        e.sends_since_last_engagement,
        e.engaged_in_last_n_sends,
        e.engagement_score,
        a.as_of_at,
        -- when the address met both disengagement conditions (window and send count)
        case
            when e.sends_since_last_engagement >= {{ var('disengagement_sends') }}
                then {{ dbt.dateadd('day', var('disengagement_window_days'),
                    'coalesce(e.last_human_engagement_at, e.first_send_at)') }}
        end as disengaged_since
    from contacts as c
    cross join as_of as a
    left join health as e on c.email = e.email
    left join blocking_reasons as b on c.email = b.email

),

final as (

    select
        email,
        case
            when suppression_reason is not null then 'suppressed'
            when coalesce(sends, 0) = 0 then 'active'
            when last_human_engagement_at >= {{ dbt.dateadd('day', -1 * var('cooling_after_days'), 'as_of_at') }}
                then 'active'
            when disengaged_since is null or disengaged_since > as_of_at then 'cooling'
            when disengaged_since <= {{ dbt.dateadd('day', -1 * var('reengagement_window_days'), 'as_of_at') }}
                then 'sunset'
            else 're_engage'
        end as segment,
        case
            when suppression_reason is not null then suppression_reason
            when coalesce(sends, 0) = 0 then 'not_yet_mailed'
            when last_human_engagement_at >= {{ dbt.dateadd('day', -1 * var('cooling_after_days'), 'as_of_at') }}
                then 'rule_19_recent_human_engagement'
            when disengaged_since is null or disengaged_since > as_of_at then 'rule_19_engagement_fading'
            when disengaged_since <= {{ dbt.dateadd('day', -1 * var('reengagement_window_days'), 'as_of_at') }}
                then 'rule_19_reengagement_window_passed'
            else 'rule_17_disengaged'
        end as segment_rule,
        last_human_engagement_at,
        sends_since_last_engagement,
        engagement_score,
        disengaged_since,
        as_of_at
    from measured

)

select * from final
