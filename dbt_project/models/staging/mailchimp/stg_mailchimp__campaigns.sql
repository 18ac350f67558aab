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
        _file as source_file,
        _row as source_row,
        _loaded_at as loaded_at

    from source

),

-- the same campaign can appear in several exports: keep the latest
latest as (

    {{ lh_first_per('renamed', 'campaign_id', 'loaded_at desc, source_file desc, source_row desc') }}

)

select * from latest
