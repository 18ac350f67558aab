with

source as (

    select * from {{ source('raw', 'postmark__events') }}

),

renamed as (

    select
        -- ids
        bounce_id,
        message_id,
        message_stream,
        tag,

        -- strings
        {{ lh_staged_email('recipient') }} as email,
        recipient as email_raw,
        email_problem,
        lower(record_type) as record_type,
        lower(type) as bounce_type,
        description,
        details as diagnostic,
        origin,
        lower(suppression_reason) as suppression_reason,
        user_agent,
        url,
        metadata,

        -- numerics
        cast(type_code as integer) as type_code,

        -- booleans
        {{ lh_is_valid_email() }} as is_valid_email,
        {{ lh_bool('suppress_sending') }} as suppress_sending,
        {{ lh_bool('first_open') }} as is_first_open,

        -- timestamps
        {{ lh_iso_timestamp('occurred_at') }} as occurred_at,

        -- lineage
        _file as source_file,
        _row as source_row,
        _loaded_at as loaded_at

    from source

)

select * from renamed
