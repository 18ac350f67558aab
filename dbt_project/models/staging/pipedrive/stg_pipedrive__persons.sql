with

source as (

    select * from {{ source('raw', 'pipedrive__persons') }}

),

renamed as (

    select
        -- ids
        cast(person_id as bigint) as pipedrive_person_id,
        cast(nullif(org_id, '') as bigint) as pipedrive_org_id,

        -- strings
        {{ lh_staged_email('email') }} as email,
        email as email_raw,
        email_problem,
        emails as emails_json,
        name,
        first_name,
        last_name,
        org_name,
        phone,
        mobile_phone,
        lower(marketing_status) as marketing_status,
        lead_source,

        -- postal address
        postal_address,
        trim(concat_ws(' ', postal_address_street_number, postal_address_route)) as street,
        postal_address_locality as city,
        postal_address_admin_area_level_1 as state,
        postal_address_postal_code as postal_code,
        postal_address_country as country,

        -- booleans
        {{ lh_is_valid_email() }} as is_valid_email,
        {{ lh_bool('sms_consent') }} as sms_consent,
        coalesce({{ lh_bool('active_flag') }}, true) as is_active,

        -- timestamps
        cast(last_activity_date as date) as last_activity_date,
        {{ lh_plain_timestamp('add_time') }} as created_at,
        {{ lh_plain_timestamp('update_time') }} as modified_at,

        -- lineage
        _file as source_file,
        _row as source_row,
        _loaded_at as loaded_at

    from source

),

latest as (

    {{ lh_latest_version('renamed', 'pipedrive_person_id') }}

)

select * from latest
