with

source as (

    select * from {{ source('raw', 'mailchimp__members') }}

),

renamed as (

    select
        -- ids
        leid as mailchimp_member_id,
        euid,

        -- strings
        {{ lh_staged_email('email_address') }} as email,
        email_address as email_raw,
        email_problem,
        first_name,
        last_name,
        phone_number,
        member_status,
        unsub_reason,
        unsub_campaign_id,
        clean_campaign_id,
        tags,

        -- numerics
        cast(member_rating as integer) as member_rating,

        -- booleans
        {{ lh_is_valid_email() }} as is_valid_email,

        -- timestamps
        {{ lh_plain_timestamp('optin_time') }} as opted_in_at,
        {{ lh_plain_timestamp('last_changed') }} as last_changed_at,
        {{ lh_plain_timestamp('unsub_time') }} as unsubscribed_at,
        {{ lh_plain_timestamp('clean_time') }} as cleaned_at,

        -- lineage
        _file as source_file,
        _row as source_row,
        _loaded_at as loaded_at

    from source

)

select * from renamed
