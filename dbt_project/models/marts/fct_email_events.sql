{#- Every canonical event with its bounce classification where it has one.

    A view: int_email_events holds the events and int_bounces_classified the classifications (both
    incremental; the latter classifies every bounce again when the rule seeds change), so a read always sees
    the current bounce rules, and the pipeline does not write
    every event a second time (at 1 M contacts, 21 M rows and about 50 s of each full build; docs/scaling.md
    §1). The left joins are on int_bounces_classified's unique event_key and send_count_basis's unique
    platform: they neither add nor drop events. -#}
{{ config(materialized='view') }}

with

events as (

    select * from {{ ref('int_email_events') }}

),

classified as (select * from {{ ref('int_bounces_classified') }}),

count_basis as (select * from {{ ref('send_count_basis') }}),

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
        {{ lh_counts_as_message('b.count_basis', 'e.event_type', 'c.bounce_class') }} as counts_as_message,
        e.source_file,
        e.source_row,
        e.loaded_at
    from events as e
    left join classified as c
        on e.event_key = c.event_key
    left join count_basis as b
        on e.platform = b.platform

)

select * from final
