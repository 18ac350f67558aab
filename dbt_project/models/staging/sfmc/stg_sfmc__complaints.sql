with

source as (

    select * from {{ source('raw', 'sfmc__complaints') }}

),

renamed as (

    select
        {{ lh_sfmc_common_columns('complaint') }}

    from source

)

select * from renamed
