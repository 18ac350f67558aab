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

-- versions in the order lh_latest_version ranks them (oldest first); a version starts new company values when
-- its name, status or active flag differs from the version before it
versions as (

    select
        pipedrive_org_id,
        modified_at,
        loaded_at,
        source_file,
        source_row,
        row_number() over w = 1
        or org_name is distinct from lag(org_name) over w
        or company_status is distinct from lag(company_status) over w
        or is_active is distinct from lag(is_active) over w as starts_company_values
    from renamed
    window w as (
        partition by pipedrive_org_id order by modified_at nulls first, loaded_at, source_file, source_row
    )

),

company_changes as (

    {{ lh_latest_version('(select * from versions where starts_company_values) as starts', 'pipedrive_org_id') }}

)

select
    latest.*,
    company_changes.loaded_at as company_loaded_at
from latest
inner join company_changes
    on latest.pipedrive_org_id = company_changes.pipedrive_org_id
