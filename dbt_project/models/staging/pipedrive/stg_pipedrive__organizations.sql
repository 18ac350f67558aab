with

source as (

    select * from {{ source('raw', 'pipedrive__organizations') }}

),

renamed as (

    select
        -- ids
        cast(org_id as bigint) as pipedrive_org_id,

        -- strings
        name as org_name,
        lower(trim(company_status)) as company_status,
        label,
        address,
        trim(concat_ws(' ', address_street_number, address_route)) as street,
        address_locality as city,
        address_admin_area_level_1 as state,
        address_postal_code as postal_code,
        address_country as country,

        -- numerics
        cast(people_count as integer) as people_count,

        -- booleans
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

    {{ lh_latest_version('renamed', 'pipedrive_org_id') }}

),

-- when the organization's name, status and active flag took their values: a new people_count or address,
-- which every export lands again, does not rebuild its people (int_crm_contacts)
company_changes as (

    {{ lh_values_landed_at('renamed', 'pipedrive_org_id', ['org_name', 'company_status', 'is_active']) }}

)

select
    latest.*,
    company_changes.loaded_at as company_loaded_at
from latest
inner join company_changes
    on latest.pipedrive_org_id = company_changes.pipedrive_org_id
