{#- The last N sends per address and platform (N = var disengagement_sends, POLICY rule 9): what
    int_contact_platform_activity counts "engaged in the last N sends" over, kept so that a daily run ranks
    the N stored sends with the day's new ones instead of every send the pair ever had.

    Incremental (`delete+insert` on email, platform): the pairs that gained a send since the newest
    `loaded_at` here rank their stored sends together with the new ones and keep the first N. That is the
    top N of all their sends whatever order the sends arrived in: a send not stored ranked below N stored
    ones, and int_email_events only appends (a stored send never changes or goes away). A run with another
    `disengagement_sends` than the rows here ranks every send again. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['email', 'platform'],
    on_schema_change='fail'
) }}

{%- set policy = lh_policy_vars(['disengagement_sends']) %}

with

all_events as {{ lh_inline_cte() }} (select * from {{ ref('int_email_events') }}),

{% if is_incremental() and not lh_policy_changed(policy) %}
new_sends as {{ lh_inline_cte() }} (

    select email, platform, message_id, occurred_at, loaded_at
    from all_events
    where loaded_at > {{ lh_loaded_watermark() }}
        and event_type = 'send'

),

candidates as (

    select s.email, s.platform, s.message_id, s.occurred_at, s.loaded_at
    from {{ this }} as s
    inner join (select distinct email, platform from new_sends) as t
        on s.email = t.email
        and s.platform = t.platform

    union all

    select email, platform, message_id, occurred_at, loaded_at
    from new_sends

),
{% else %}
candidates as (

    select email, platform, message_id, occurred_at, loaded_at
    from all_events
    where event_type = 'send'

),
{% endif %}

ranked as (

    select
        email,
        platform,
        message_id,
        occurred_at,
        loaded_at,
        row_number() over (partition by email, platform order by occurred_at desc, message_id, loaded_at) as send_rank
    from candidates

)

select
    email,
    platform,
    send_rank,
    message_id,
    occurred_at,
    loaded_at,
    '{{ policy }}' as policy_vars
from ranked
where send_rank <= {{ var('disengagement_sends') }}
