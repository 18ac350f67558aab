with

source as (

    select * from {{ source('raw', 'sfmc__opens') }}

),

renamed as (

    select
        {{ lh_sfmc_common_columns('open') }}

    from source

)

select * from renamed
