with

source as (

    select * from {{ source('raw', 'sfmc__clicks') }}

),

renamed as (

    select
        -- click
        send_url_id,
        url_id,
        url,
        alias as url_alias,

        {{ lh_sfmc_common_columns('click') }}

    from source

)

select * from renamed
