with

source as (

    select * from {{ source('raw', 'postmark__bounces') }}

),

renamed as (

    select
        -- ids
        bounce_id,
        message_id,
        server_id,
        message_stream,
        tag,

        -- strings
        {{ lh_staged_email('email') }} as email,
        email as email_raw,
        email_problem,
        lower(type) as bounce_type,
        name as bounce_name,
        description,
        details as diagnostic,
        subject,
        from_address,

        -- numerics
        cast(type_code as integer) as type_code,

        -- booleans
        {{ lh_is_valid_email() }} as is_valid_email,
        {{ lh_bool('inactive') }} as is_inactive,
        {{ lh_bool('can_activate') }} as can_activate,

        -- timestamps
        {{ lh_iso_timestamp('bounced_at') }} as occurred_at,

        -- lineage
        _file as source_file,
        _row as source_row,
        _loaded_at as loaded_at

    from source

)

select * from renamed
