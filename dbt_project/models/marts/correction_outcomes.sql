{#- POLICY rule 15: what happened to each corrected address. Inside the wait window the bounced message is
    re-sent to the new address; after it the record is updated but the old message (perhaps stale) is not. -#}
with

corrections as (select * from {{ ref('int_email_corrections') }}),

final as (

    select
        hubspot_contact_id,
        bounced_email,
        corrected_email,
        platform,
        campaign_id,
        message_id,
        bounced_at,
        corrected_at,
        {{ dbt.datediff('bounced_at', 'corrected_at', 'day') }} as days_to_correct,
        corrected_at <= {{ dbt.dateadd('day', var('correction_wait_days'), 'bounced_at') }} as within_wait_window,
        case
            when corrected_at <= {{ dbt.dateadd('day', var('correction_wait_days'), 'bounced_at') }}
                then 'resend_original_message'
            else 'update_record_only'
        end as action
    from corrections

)

select * from final
