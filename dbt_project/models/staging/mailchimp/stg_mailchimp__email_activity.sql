with

source as (

    select * from {{ source('raw', 'mailchimp__email_activity') }}

),

renamed as (

    select
        -- ids
        campaign_id,
        list_id,
        email_id,

        -- strings
        {{ lh_staged_email('email_address') }} as email,
        email_address as email_raw,
        email_problem,
        lower(action) as action,
        lower(bounce_type) as bounce_type,
        url,
        ip,

        -- booleans
        {{ lh_is_valid_email() }} as is_valid_email,

        -- timestamps (null for the implied `sent` row: it takes the campaign's send time downstream)
        {{ lh_iso_timestamp('"timestamp"') }} as occurred_at,

        -- lineage
        _file as source_file,
        _row as source_row,
        _loaded_at as loaded_at

    from source

)

select * from renamed
