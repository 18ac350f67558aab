{#- First cut, replaced by the seed-driven classifier of issue 3: RFC 3463 class digit only. -#}
with

events as (

    select * from {{ ref('int_email_events') }}
    where event_type in ('bounce', 'deferred', 'dropped', 'complaint')

),

final as (

    select
        *,
        case
            when event_type = 'complaint' then 'feedback'
            when native_type = 'blocked' then 'blocked'
            when status_code like '5.1.1%' then 'userunknown'
            when status_code like '5.1.2%' then 'hostunknown'
            when status_code like '4.2.2%' or status_code like '5.2.2%' then 'mailboxfull'
            else 'undefined'
        end as reason,
        case
            when event_type = 'complaint' then 'complaint'
            when native_type = 'blocked' then 'block'
            when status_code like '5.1.%' then 'hard'
            when status_code like '4.%' or status_code like '5.2.2%' then 'soft'
            when native_type in ('soft', 'transient') then 'soft'
            when native_type in ('hard', 'permanent') then 'hard'
            else 'unknown'
        end as bounce_class,
        'default' as classified_by,
        cast(null as {{ dbt.type_string() }}) as rule_id
    from events

)

select *, bounce_class = 'hard' as is_hard from final
