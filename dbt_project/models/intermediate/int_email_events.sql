{#- One canonical event stream across platforms (docs/data-contracts.md §3).

    Incremental (docs/scaling.md §3): a run reads only the raw rows landed after the newest
    `loaded_at` already here, dedupes them among themselves and appends the events whose key is not
    here yet. Ingest stamps every row of a run with one `loaded_at`, later runs with later ones, so a
    copy already here was landed before any new copy: the row kept is the first landed copy, exactly
    as a full build keeps it. `append`, not `delete+insert` or `merge` on event_key: a re-sent copy
    must never replace the row already here. `dbt build --full-refresh` rebuilds it from all of raw. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail'
) }}
with

sendgrid as (select * from {{ ref('stg_sendgrid__events') }}),

mailchimp_activity as (select * from {{ ref('stg_mailchimp__email_activity') }}),

mailchimp_campaigns as (select * from {{ ref('stg_mailchimp__campaigns') }}),

ses as (select * from {{ ref('stg_ses__events') }}),

postmark_bounces as (select * from {{ ref('stg_postmark__bounces') }}),

postmark_webhooks as (select * from {{ ref('stg_postmark__events') }}),

mailgun as (select * from {{ ref('stg_mailgun__events') }}),

sfmc_sends as (select * from {{ ref('stg_sfmc__sends') }}),

sfmc_opens as (select * from {{ ref('stg_sfmc__opens') }}),

sfmc_clicks as (select * from {{ ref('stg_sfmc__clicks') }}),

sfmc_bounces as (select * from {{ ref('stg_sfmc__bounces') }}),

sfmc_unsubscribes as (select * from {{ ref('stg_sfmc__unsubscribes') }}),

sfmc_complaints as (select * from {{ ref('stg_sfmc__complaints') }}),

zoho as (select * from {{ ref('stg_zoho__events') }}),

mailbox as (select * from {{ ref('stg_mailbox__messages') }}),

event_map as (select * from {{ ref('event_type_map') }}),

signatures as (select * from {{ ref('machine_open_signatures') }}),

sendgrid_events as (

    select
        'sendgrid:' || sg_event_id as event_key,
        'sendgrid' as platform,
        event_name as native_event,
        occurred_at,
        email,
        campaign_id,
        sg_message_id as message_id,
        bounce_type as native_type,
        lower(bounce_classification) as native_subtype,
        status_code,
        cast(null as {{ dbt.type_string() }}) as reply_code,
        diagnostic,
        is_machine_open,
        user_agent,
        url,
        source_file,
        source_row,
        loaded_at
    from sendgrid

),

mailchimp_events as (

    select
        'mailchimp:' || {{ lh_md5("a.campaign_id || '|' || a.email || '|' || a.action || '|' || coalesce(cast(a.occurred_at as " ~ dbt.type_string() ~ "), '') || '|' || coalesce(a.url, '')") }} as event_key,
        'mailchimp' as platform,
        a.action as native_event,
        coalesce(a.occurred_at, c.sent_at) as occurred_at,
        a.email,
        a.campaign_id,
        a.campaign_id || ':' || a.email_id as message_id,
        a.bounce_type as native_type,
        cast(null as {{ dbt.type_string() }}) as native_subtype,
        cast(null as {{ dbt.type_string() }}) as status_code,
        cast(null as {{ dbt.type_string() }}) as reply_code,
        cast(null as {{ dbt.type_string() }}) as diagnostic,
        false as is_machine_open,
        cast(null as {{ dbt.type_string() }}) as user_agent,
        a.url,
        a.source_file,
        a.source_row,
        a.loaded_at
    from mailchimp_activity as a
    left join mailchimp_campaigns as c
        on a.campaign_id = c.campaign_id

),

ses_events as (

    select
        'ses:' || message_id || ':' || event_name || ':' || email || ':'
            || cast(occurred_at as {{ dbt.type_string() }}) as event_key,
        'ses' as platform,
        event_name as native_event,
        occurred_at,
        email,
        campaign_id,
        message_id,
        bounce_type as native_type,
        coalesce(bounce_subtype, complaint_feedback_type) as native_subtype,
        status_code,
        cast(null as {{ dbt.type_string() }}) as reply_code,
        diagnostic,
        false as is_machine_open,
        user_agent,
        url,
        source_file,
        source_row,
        loaded_at
    from ses

),

-- Postmark: a bounce (or spam complaint) has an ID shared by the Bounces API and the webhook
postmark_bounce_events as (

    select
        'postmark:bounce:' || bounce_id as event_key,
        'postmark' as platform,
        case when bounce_type = 'spamcomplaint' then 'spamcomplaint' else 'bounce' end as native_event,
        occurred_at,
        email,
        tag as campaign_id,
        message_id,
        bounce_type as native_type,
        cast(null as {{ dbt.type_string() }}) as native_subtype,
        cast(null as {{ dbt.type_string() }}) as status_code,
        cast(null as {{ dbt.type_string() }}) as reply_code,
        diagnostic,
        false as is_machine_open,
        cast(null as {{ dbt.type_string() }}) as user_agent,
        cast(null as {{ dbt.type_string() }}) as url,
        source_file,
        source_row,
        loaded_at
    from postmark_bounces

),

postmark_webhook_events as (

    select
        case
            when record_type in ('bounce', 'spamcomplaint') and bounce_id is not null
                then 'postmark:bounce:' || bounce_id
            else 'postmark:' || record_type || ':' || coalesce(message_id, '') || ':' || email || ':'
                || cast(occurred_at as {{ dbt.type_string() }}) || coalesce(':' || url, '')
        end as event_key,
        'postmark' as platform,
        case
            when record_type = 'bounce' and bounce_type = 'spamcomplaint' then 'spamcomplaint'
            -- SuppressSending=false reactivates the address; true names why it was suppressed
            when record_type = 'subscriptionchange' and suppress_sending
                then 'subscriptionchange:' || coalesce(suppression_reason, 'unknown')
            when record_type = 'subscriptionchange' then 'subscriptionchange:reactivated'
            else record_type
        end as native_event,
        occurred_at,
        email,
        tag as campaign_id,
        message_id,
        bounce_type as native_type,
        cast(null as {{ dbt.type_string() }}) as native_subtype,
        cast(null as {{ dbt.type_string() }}) as status_code,
        cast(null as {{ dbt.type_string() }}) as reply_code,
        diagnostic,
        false as is_machine_open,
        user_agent,
        url,
        source_file,
        source_row,
        loaded_at
    from postmark_webhooks

),

-- Mailgun event ids are unique within a day: the key adds the UTC date
mailgun_events as (

    select
        'mailgun:' || event_id || ':' || cast(cast(occurred_at as date) as {{ dbt.type_string() }}) as event_key,
        'mailgun' as platform,
        case
            when event_name = 'failed' and reason like 'suppress-%' then 'failed:suppressed'
            when event_name = 'failed' then 'failed:' || coalesce(severity, 'permanent')
            else event_name
        end as native_event,
        occurred_at,
        email,
        {{ lh_json_first('tags') }} as campaign_id,
        message_id,
        severity as native_type,
        reason as native_subtype,
        status_code,
        reply_code,
        diagnostic,
        false as is_machine_open,
        user_agent,
        url,
        source_file,
        source_row,
        loaded_at
    from mailgun

),

-- SFMC extracts carry no event id: (event, SendID, BatchID, subscriber, time[, URL]) is the natural key
{%- set sfmc_extracts = ['sends', 'opens', 'clicks', 'bounces', 'unsubscribes', 'complaints'] %}

sfmc_events as (

    {%- for extract in sfmc_extracts %}
    select
        'sfmc:' || native_event || ':' || coalesce(send_id, '') || ':' || coalesce(batch_id, '') || ':'
            || coalesce(subscriber_key, email) || ':' || cast(occurred_at as {{ dbt.type_string() }})
            {%- if extract == 'clicks' %} || ':' || coalesce(url_id, url, ''){% endif %} as event_key,
        'sfmc' as platform,
        native_event,
        occurred_at,
        email,
        send_id as campaign_id,
        send_id || ':' || coalesce(batch_id, '0') || ':' || coalesce(subscriber_key, email) as message_id,
        {%- if extract == 'bounces' %}
        bounce_category as native_type,
        {%- else %}
        cast(null as {{ dbt.type_string() }}) as native_type,
        {%- endif %}
        cast(null as {{ dbt.type_string() }}) as native_subtype,
        cast(null as {{ dbt.type_string() }}) as status_code,
        {%- if extract == 'bounces' %}
        reply_code,
        diagnostic,
        {%- else %}
        cast(null as {{ dbt.type_string() }}) as reply_code,
        cast(null as {{ dbt.type_string() }}) as diagnostic,
        {%- endif %}
        false as is_machine_open,
        cast(null as {{ dbt.type_string() }}) as user_agent,
        {%- if extract == 'clicks' %}
        url,
        {%- else %}
        cast(null as {{ dbt.type_string() }}) as url,
        {%- endif %}
        source_file,
        source_row,
        loaded_at
    from sfmc_{{ extract }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

),

-- Zoho webhooks carry no event id: (transmission, recipient, action, time) is the natural key
zoho_events as (

    select
        'zoho:' || coalesce(transmission_id, '') || ':' || email || ':' || action || ':' || action_time_ms as event_key,
        'zoho' as platform,
        action as native_event,
        occurred_at,
        email,
        transmission_name as campaign_id,
        transmission_id as message_id,
        bounce_type as native_type,
        cast(null as {{ dbt.type_string() }}) as native_subtype,
        status_code,
        reply_code,
        diagnostic,
        false as is_machine_open,
        cast(null as {{ dbt.type_string() }}) as user_agent,
        cast(null as {{ dbt.type_string() }}) as url,
        source_file,
        source_row,
        loaded_at
    from zoho

),

-- raw bounce messages: one event per reported recipient; the same message landed twice is one event (its hash)
mailbox_events as (

    select
        'mailbox:' || message_hash || ':' || cast(recipient_index as {{ dbt.type_string() }}) as event_key,
        platform,
        event_type as native_event,
        occurred_at,
        email,
        cast(null as {{ dbt.type_string() }}) as campaign_id,
        original_message_id as message_id,
        native_type,
        native_subtype,
        status_code,
        reply_code,
        diagnostic,
        false as is_machine_open,
        cast(null as {{ dbt.type_string() }}) as user_agent,
        cast(null as {{ dbt.type_string() }}) as url,
        source_file,
        source_row,
        loaded_at
    from mailbox

),

unioned as (

    select * from sendgrid_events
    union all
    select * from mailchimp_events
    union all
    select * from ses_events
    union all
    select * from postmark_bounce_events
    union all
    select * from postmark_webhook_events
    union all
    select * from mailgun_events
    union all
    select * from sfmc_events
    union all
    select * from zoho_events
    union all
    select * from mailbox_events

),

-- an incremental run reads only what was landed since the last one (late events included: the
-- watermark is the landing time, not the event time)
landed as (

    select * from unioned
    {%- if is_incremental() %}
    where loaded_at > {{ lh_loaded_watermark() }}
    {%- endif %}

),

-- platforms re-send events (webhook retries, overlapping exports): first landed copy wins
deduplicated as (

    {{ lh_first_per('landed', 'event_key', 'loaded_at, source_file, source_row') }}

),

typed as (

    select
        d.event_key,
        d.platform,
        coalesce(m.event_type, 'other') as event_type,
        d.native_event,
        d.occurred_at,
        d.email,
        {{ lh_email_domain('d.email') }} as email_domain,
        d.campaign_id,
        d.message_id,
        d.native_type,
        d.native_subtype,
        coalesce(
            d.status_code,
            {{ lh_regex_extract('d.diagnostic', '\\b([245]\\.[0-9]{1,3}\\.[0-9]{1,3})\\b') }}
        ) as status_code,
        coalesce(
            d.reply_code,
            {{ lh_regex_extract('d.diagnostic', '^\\s*(?:smtp;\\s*)?([245][0-9][0-9])\\b') }}
        ) as reply_code,
        d.diagnostic,
        d.is_machine_open
            or exists (
                select 1
                from signatures as s
                where (s.match_type = 'user_agent_exact' and d.user_agent = s.pattern)
                    or (s.match_type = 'user_agent_contains' and d.user_agent like '%' || s.pattern || '%')
            ) as is_machine_open,
        d.user_agent,
        d.url,
        d.source_file,
        d.source_row,
        d.loaded_at
    from deduplicated as d
    left join event_map as m
        on d.platform = m.platform
        and d.native_event = m.native_event

),

final as (

    select * from typed
    where email is not null
    {%- if is_incremental() %}
        -- seen in an earlier load: the copy already here was landed first and stays
        and not exists (
            select 1
            from {{ this }} as existing
            where existing.event_key = typed.event_key
        )
    {%- endif %}

)

select * from final
