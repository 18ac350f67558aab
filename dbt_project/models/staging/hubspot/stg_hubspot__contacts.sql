with

source as (

    select * from {{ source('raw', 'hubspot__contacts') }}

),

renamed as (

    select
        -- ids
        cast(record_id as bigint) as hubspot_contact_id,
        cast(nullif(associated_company_id, '') as bigint) as hubspot_company_id,

        -- strings
        {{ lh_staged_email('email') }} as email,
        email as email_raw,
        email_problem,
        first_name,
        last_name,
        phone_number,
        mobile_phone_number,
        company_name,
        original_source as lead_source,
        lifecycle_stage,
        email_hard_bounce_reason as hard_bounce_reason,
        marketing_contact_status,

        -- postal address
        street_address as street,
        city,
        state_region as state,
        postal_code,
        country_region as country,

        -- numerics
        cast(marketing_emails_bounced as integer) as marketing_emails_bounced,

        -- booleans
        {{ lh_is_valid_email() }} as is_valid_email,
        coalesce(lower(unsubscribed_from_all_email) in ('true', '1', 'yes'), false) as is_unsubscribed_from_all,
        coalesce(lower(invalid_email_address) in ('true', '1', 'yes'), false) as is_invalid_email,
        coalesce(lower(email_address_quarantined) in ('true', '1', 'yes'), false) as is_quarantined,
        {{ lh_bool('sms_consent') }} as sms_consent,

        -- timestamps
        {{ lh_plain_timestamp('last_marketing_email_send_date') }} as last_email_sent_at,
        {{ lh_plain_timestamp('last_marketing_email_open_date') }} as last_email_opened_at,
        {{ lh_plain_timestamp('last_marketing_email_click_date') }} as last_email_clicked_at,
        {{ lh_plain_timestamp('last_activity_date') }} as last_activity_at,
        {{ lh_plain_timestamp('create_date') }} as created_at,
        {{ lh_plain_timestamp('last_modified_date') }} as modified_at,

        -- lineage
        _file as source_file,
        _row as source_row,
        _loaded_at as loaded_at

    from source

),

-- an export is a snapshot: keep the latest version of each contact across loaded files
latest as (

    {{ lh_first_per('renamed', 'hubspot_contact_id',
                    'modified_at desc nulls last, loaded_at desc, source_file desc, source_row desc') }}

)

select * from latest
