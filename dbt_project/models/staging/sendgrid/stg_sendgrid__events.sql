with

source as (

    select * from {{ source('raw', 'sendgrid__events') }}

),

renamed as (

    select
        -- ids
        sg_event_id,
        sg_message_id,
        smtp_id,
        coalesce(marketing_campaign_id, category) as campaign_id,
        marketing_campaign_name as campaign_name,

        -- strings
        {{ lh_staged_email('email') }} as email,
        email as email_raw,
        email_problem,
        lower(event) as event_name,
        lower(type) as bounce_type,
        status as status_code,
        coalesce(reason, response) as diagnostic,
        bounce_classification,
        useragent as user_agent,
        url,
        ip,

        -- booleans
        {{ lh_is_valid_email() }} as is_valid_email,
        coalesce(lower(sg_machine_open) = 'true', false) as is_machine_open,

        -- timestamps
        {{ lh_from_unixtime('"timestamp"') }} as occurred_at,

        -- lineage
        _file as source_file,
        _row as source_row,
        _loaded_at as loaded_at

    from source

)

select * from renamed
