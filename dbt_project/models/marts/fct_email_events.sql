{#- Every canonical event with its bounce classification where it has one. -#}
with

events as (select * from {{ ref('int_email_events') }}),

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
        e.source_row
    from events as e
    left join classified as c
        on e.event_key = c.event_key

)

select * from final
