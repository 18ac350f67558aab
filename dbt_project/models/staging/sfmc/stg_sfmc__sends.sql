with

source as (

    select * from {{ source('raw', 'sfmc__sends') }}

),

renamed as (

    select
        {{ lh_sfmc_common_columns('sent') }}

    from source

)

select * from renamed
