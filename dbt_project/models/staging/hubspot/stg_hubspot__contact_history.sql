{#- Every version of every HubSpot contact across loaded exports: how addresses change over time
    (a bounced address replaced by a corrected one, POLICY rules 14-16). -#}
with

source as (

    select * from {{ source('raw', 'hubspot__contacts') }}

),

renamed as (

    select
        -- ids
        cast(record_id as bigint) as hubspot_contact_id,

        -- strings
        {{ lh_normalize_email('email') }} as email,

        -- timestamps
        {{ lh_plain_timestamp('last_modified_date') }} as modified_at,

        -- lineage
        _file as source_file,
        _row as source_row,
        _loaded_at as loaded_at

    from source

)

select * from renamed
