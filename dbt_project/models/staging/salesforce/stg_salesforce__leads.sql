with

source as (

    select * from {{ source('raw', 'salesforce__leads') }}

),

renamed as (

    select
        -- ids
        lead_id as salesforce_lead_id,
        converted_contact_id as converted_salesforce_contact_id,

        -- lead
        company as company_name,
        status as lead_status,
        coalesce({{ lh_bool('is_converted') }}, false) as is_converted,

        -- postal address
        street,
        city,
        state,
        postal_code,
        country,

        {{ lh_salesforce_person_columns() }}

    from source

),

latest as (

    {{ lh_latest_version('renamed', 'salesforce_lead_id') }}

)

select * from latest
