with

source as (

    select * from {{ source('raw', 'salesforce__accounts') }}

),

renamed as (

    select
        -- ids
        account_id as salesforce_account_id,

        -- strings
        name as account_name,
        account_type,
        industry,
        website,
        lower(trim(company_status)) as company_status,
        billing_street,
        billing_city,
        billing_state,
        billing_postal_code,
        billing_country,

        -- numerics
        cast(number_of_employees as integer) as number_of_employees,

        -- timestamps
        cast(last_activity_date as date) as last_activity_date,
        {{ lh_iso_timestamp('created_date') }} as created_at,
        {{ lh_iso_timestamp('last_modified_date') }} as modified_at,

        -- lineage
        _file as source_file,
        _row as source_row,
        _loaded_at as loaded_at

    from source

),

latest as (

    {{ lh_latest_version('renamed', 'salesforce_account_id') }}

),

-- when the account's name and status took their values (what int_crm_contacts takes from an account): an account
-- exported again with a new activity date or head count does not rebuild its contacts
company_changes as (

    {{ lh_values_landed_at('renamed', 'salesforce_account_id', ['account_name', 'company_status']) }}

)

select
    latest.*,
    company_changes.loaded_at as company_loaded_at
from latest
inner join company_changes
    on latest.salesforce_account_id = company_changes.salesforce_account_id
