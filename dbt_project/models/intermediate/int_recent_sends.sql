{#- The last N sends per address and platform (N = var disengagement_sends, POLICY rule 9): what
    int_contact_platform_activity counts "engaged in the last N sends" over and int_contact_activity takes the
    N-th latest send from, kept so that a daily run adds the day's sends instead of ranking every send again.

    Incremental (`append`, then a post-hook that trims): a run appends the sends landed since the newest
    `loaded_at` here (at most N per pair, the latest), and the post-hook deletes, in the pairs it wrote to,
    every send after the N-th latest (macros/recent_sends.sql). Stored rows are never rewritten: a newsletter
    day appends one send per pair and deletes one, where ranking the pair's stored N with the new one rewrote
    all N. That leaves the latest N of all the pair's sends whatever order they arrived in: a send not stored
    ranked below N stored ones, and int_email_events only appends (a stored send never changes or goes away).
    A run with another `disengagement_sends` than the rows here, or on a table of the layout before
    `event_key` (it stored `send_rank`), empties the table first (pre-hook) and takes every send. Columns
    follow the query (`sync_all_columns`), so a later change of columns must also be a reason to empty it
    (lh_recent_sends_reset_needed), or stored rows keep nulls in the new ones. A send that lands late and
    ranks below N is appended and trimmed in the same run; when a run keeps none of what it landed, the
    newest `loaded_at` here stays older and the next run reads those sends again (and drops them again). -#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='sync_all_columns',
    pre_hook="{{ lh_recent_sends_reset() }}",
    post_hook="{{ lh_recent_sends_trim() }}"
) }}

{%- set policy = lh_policy_vars(['disengagement_sends']) %}

with

all_events as {{ lh_inline_cte() }} (select * from {{ ref('int_email_events') }}),

sends as {{ lh_inline_cte() }} (

    select email, platform, event_key, message_id, occurred_at, loaded_at
    from all_events
    where event_type = 'send'
        -- a send is stored and trimmed by its key (the not_null test of int_email_events reports one without)
        and event_key is not null
    {%- if is_incremental() and not lh_recent_sends_reset_needed() %}
        and loaded_at > {{ lh_loaded_watermark() }}
    {%- endif %}

),

ranked as (

    select
        *,
        row_number() over (partition by email, platform order by {{ lh_recent_sends_order() }}) as send_rank
    from sends

)

select
    email,
    platform,
    event_key,
    message_id,
    occurred_at,
    loaded_at,
    '{{ policy }}' as policy_vars,
    {{ lh_built_at() }} as built_at
from ranked
where send_rank <= {{ var('disengagement_sends') }}
