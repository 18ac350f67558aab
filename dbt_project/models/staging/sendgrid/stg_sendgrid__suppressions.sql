with

source as (

    select * from {{ source('raw', 'sendgrid__suppressions') }}

),

renamed as (

    select
        -- strings
        suppression_list,
        {{ lh_staged_email('email') }} as email,
        email as email_raw,
        email_problem,
        reason,
        status as status_code,
        ip,

        -- booleans
        {{ lh_is_valid_email() }} as is_valid_email,

        -- timestamps
        {{ lh_from_unixtime('created') }} as created_at,

        -- lineage
        _file as source_file,
        _row as source_row,
        _loaded_at as loaded_at

    from source

),

-- a list holds one row per address; overlapping exports repeat it: keep the latest entry
latest as (

    {{ lh_first_per('renamed', 'suppression_list, email', 'created_at desc, loaded_at desc, source_file desc, source_row desc') }}

)

select * from latest
