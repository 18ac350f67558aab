with

source as (

    select * from {{ source('raw', 'sfmc__unsubscribes') }}

),

renamed as (

    select
        {{ lh_sfmc_common_columns('unsubscribe') }}

    from source

)

select * from renamed
