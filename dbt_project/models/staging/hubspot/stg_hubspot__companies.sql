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

-- versions in the order lh_latest_version ranks them (oldest first); a version starts new company values when its
-- name or status differs from the version before it (what int_crm_contacts takes from a company). A daily
-- export lands every company again: without a change, that must not rebuild every HubSpot contact.
versions as (

    select
        hubspot_company_id,
        modified_at,
        loaded_at,
        source_file,
        source_row,
        row_number() over w = 1
        or company_name is distinct from lag(company_name) over w
        or company_status is distinct from lag(company_status) over w as starts_company_values
    from renamed
    window w as (
        partition by hubspot_company_id order by modified_at nulls first, loaded_at, source_file, source_row
    )

),

company_changes as (

    {{ lh_latest_version('(select * from versions where starts_company_values) as starts', 'hubspot_company_id') }}

)

select
    latest.*,
    company_changes.loaded_at as company_loaded_at
from latest
inner join company_changes
    on latest.hubspot_company_id = company_changes.hubspot_company_id
