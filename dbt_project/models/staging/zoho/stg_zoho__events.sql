with

source as (

    select * from {{ source('raw', 'zoho__events') }}

),

renamed as (

    select
        -- ids
        webhook_id,
        transmission_id,
        transmission_name,
        contact_id,

        -- strings
        {{ lh_staged_email('contact_email') }} as email,
        contact_email as email_raw,
        email_problem,
        lower(action) as action,
        lower(action_type) as action_type,
        action_by,
        -- `hardbounce` / `softbounce` (webhook) and `hard` / `soft` (docs) mean the same
        case
            when lower(bounce_type) in ('hardbounce', 'hard_bounce') then 'hard'
            when lower(bounce_type) in ('softbounce', 'soft_bounce') then 'soft'
            else lower(bounce_type)
        end as bounce_type,
        bounce_code as reply_code,
        bounce_extended_code as status_code,
        bounce_reason as diagnostic,
        rcpt_domain,
        rcpt_additional_data,
        sending_ip,

        -- booleans
        {{ lh_is_valid_email() }} as is_valid_email,

        -- timestamps
        {{ lh_from_unixtime_ms('action_time') }} as occurred_at,
        {{ lh_from_unixtime_ms('injected_time') }} as injected_at,
        action_time as action_time_ms,

        -- lineage
        _file as source_file,
        _row as source_row,
        _loaded_at as loaded_at

    from source

)

select * from renamed
