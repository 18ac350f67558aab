with

source as (

    select * from {{ source('raw', 'mailgun__events') }}

),

renamed as (

    select
        -- ids
        event_id,
        message_id,
        tags,
        campaigns,
        user_variables,

        -- strings
        {{ lh_staged_email('recipient') }} as email,
        recipient as email_raw,
        email_problem,
        lower(event) as event_name,
        lower(severity) as severity,
        lower(reason) as reason,
        log_level,
        enhanced_code as status_code,
        nullif(status_code, '') as reply_code,
        coalesce(nullif(status_message, ''), nullif(status_description, '')) as diagnostic,
        subject,
        url,
        ip,
        user_agent,

        -- numerics
        cast(attempt_no as integer) as attempt_no,

        -- booleans
        {{ lh_is_valid_email() }} as is_valid_email,

        -- timestamps
        {{ lh_from_unixtime('"timestamp"') }} as occurred_at,

        -- lineage
        _file as source_file,
        _row as source_row,
        _loaded_at as loaded_at

    from source

)

select * from renamed
