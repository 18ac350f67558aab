with

source as (

    select * from {{ source('raw', 'ses__events') }}

),

renamed as (

    select
        -- ids
        message_id,
        feedback_id,
        campaign as campaign_id,

        -- strings
        {{ lh_staged_email('email') }} as email,
        email as email_raw,
        email_problem,
        lower(replace(event_type, ' ', '')) as event_name,
        lower(bounce_type) as bounce_type,
        lower(bounce_subtype) as bounce_subtype,
        status as status_code,
        diagnostic_code as diagnostic,
        lower(complaint_feedback_type) as complaint_feedback_type,
        user_agent,
        ip_address,
        link as url,

        -- booleans
        {{ lh_is_valid_email() }} as is_valid_email,

        -- timestamps
        {{ lh_iso_timestamp('event_timestamp') }} as occurred_at,
        {{ lh_iso_timestamp('mail_timestamp') }} as mail_sent_at,

        -- lineage
        _file as source_file,
        _row as source_row,
        _sub as source_sub_row,
        _loaded_at as loaded_at

    from source

)

select * from renamed
