with

source as (

    select * from {{ source('raw', 'hubspot__companies') }}

),

renamed as (

    select
        -- ids
        cast(record_id as bigint) as hubspot_company_id,

        -- strings
        company_name,
        lower(company_domain_name) as company_domain,
        company_type,
        industry,
        lifecycle_stage,
        lower(trim(company_status)) as company_status,
        street_address,
        city,
        state_region,
        postal_code,
        country_region,
        phone_number,

        -- numerics
        cast(number_of_employees as integer) as number_of_employees,

        -- timestamps
        {{ lh_plain_timestamp('last_activity_date') }} as last_activity_at,
        {{ lh_plain_timestamp('create_date') }} as created_at,
        {{ lh_plain_timestamp('last_modified_date') }} as modified_at,

        -- lineage
        _file as source_file,
        _row as source_row,
        _loaded_at as loaded_at

    from source

),

-- an export is a snapshot: keep the latest version of each company across loaded files
latest as (

    {{ lh_latest_version('renamed', 'hubspot_company_id') }}

),

-- when the company's name and status took their values (what int_crm_contacts takes from a company): a daily
-- export lands every company again, which must not rebuild every HubSpot contact
company_changes as (

    {{ lh_values_landed_at('renamed', 'hubspot_company_id', ['company_name', 'company_status']) }}

)

select
    latest.*,
    company_changes.loaded_at as company_loaded_at
from latest
inner join company_changes
    on latest.hubspot_company_id = company_changes.hubspot_company_id
