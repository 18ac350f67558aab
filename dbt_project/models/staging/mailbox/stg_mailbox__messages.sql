with

source as (

    select * from {{ source('raw', 'mailbox__messages') }}

),

renamed as (

    select
        -- ids
        message_hash,
        cast(recipient_index as integer) as recipient_index,
        report_message_id,
        original_message_id,

        -- strings
        {{ lh_staged_email('recipient') }} as email,
        recipient as email_raw,
        email_problem,
        lower(report_kind) as report_kind,
        lower(platform) as platform,
        lower(event_type) as event_type,
        lower(native_type) as native_type,
        lower(native_subtype) as native_subtype,
        status as status_code,
        reply_code,
        diagnostic,
        lower(action) as action,
        smtp_command,
        remote_mta,
        reporting_mta,
        lower(feedback_type) as feedback_type,
        subject,

        -- booleans
        {{ lh_is_valid_email() }} as is_valid_email,

        -- timestamps
        {{ lh_iso_timestamp('occurred_at') }} as occurred_at,
        arrival_date as arrival_date_raw,
        last_attempt_date as last_attempt_date_raw,
        message_date as message_date_raw,

        -- lineage
        _file as source_file,
        _row as source_row,
        _sub as source_sub_row,
        _loaded_at as loaded_at

    from source

)

select * from renamed
