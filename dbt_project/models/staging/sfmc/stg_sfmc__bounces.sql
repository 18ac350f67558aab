with

source as (

    select * from {{ source('raw', 'sfmc__bounces') }}

),

renamed as (

    select
        -- bounce
        lower(bounce_category) as bounce_category,
        smtp_code as reply_code,
        bounce_reason as diagnostic,

        {{ lh_sfmc_common_columns('bounce') }}

    from source

)

select * from renamed
