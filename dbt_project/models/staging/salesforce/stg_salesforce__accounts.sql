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

)

select * from latest
