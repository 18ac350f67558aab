{#- Every landed copy of every event, from every platform, with its canonical key (docs/data-contracts.md
    §3): one row per landed raw row (per recipient for multi-recipient records), before the dedupe.

    A view on purpose: int_email_events reads it twice in one query (the keys that repeat, then the rows),
    and a view is expanded where it is read, so neither read materialises all copies on disk (a CTE read
    twice would be; docs/scaling.md §1). -#}
{{ config(materialized='view') }}
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

)

select * from unioned
