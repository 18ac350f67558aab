{#- Every canonical event with its bounce classification where it has one.

    Incremental: a run adds the events int_email_events appended since the newest `loaded_at` here (an
    event's classification depends only on the event and the bounce rule seeds, so rows already here do
    not change). `dbt build --full-refresh` rebuilds it; needed after a change to the bounce rule seeds. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail'
) }}

with

events as (

    select * from {{ ref('int_email_events') }}
    {%- if is_incremental() %}
    where loaded_at > {{ lh_loaded_watermark() }}
    {%- endif %}

),

classified as (select * from {{ ref('int_bounces_classified') }}),

final as (

    select
        e.event_key,
        e.platform,
        e.event_type,
        e.native_event,
        e.occurred_at,
        e.email,
        e.email_domain,
        e.campaign_id,
        e.message_id,
        e.native_type,
        e.native_subtype,
        e.status_code,
        e.reply_code,
        e.diagnostic,
        c.reason as bounce_reason,
        c.bounce_class,
        coalesce(c.is_hard, false) as is_hard_bounce,
        e.is_machine_open,
        e.source_file,
        e.source_row,
        e.loaded_at
    from events as e
    left join classified as c
        on e.event_key = c.event_key

)

select * from final
