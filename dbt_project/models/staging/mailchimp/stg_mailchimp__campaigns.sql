with

source as (

    select * from {{ source('raw', 'mailchimp__campaigns') }}

),

renamed as (

    select
        -- ids
        campaign_id,
        web_id,
        list_id,

        -- strings
        campaign_type,
        status,
        title,
        subject_line,

        -- timestamps
        {{ lh_iso_timestamp('send_time') }} as sent_at,

        -- lineage
        _loaded_at as loaded_at

    from source

),

-- the same campaign can appear in several exports: keep the latest
latest as (

    select *
    from renamed
    qualify row_number() over (partition by campaign_id order by loaded_at desc) = 1

)

select * from latest
