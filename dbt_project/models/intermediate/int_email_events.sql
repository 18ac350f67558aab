{#- One canonical event stream across platforms (docs/data-contracts.md §3). -#}
with

sendgrid as (select * from {{ ref('stg_sendgrid__events') }}),

mailchimp_activity as (select * from {{ ref('stg_mailchimp__email_activity') }}),

mailchimp_campaigns as (select * from {{ ref('stg_mailchimp__campaigns') }}),

ses as (select * from {{ ref('stg_ses__events') }}),

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
        diagnostic,
        false as is_machine_open,
        user_agent,
        url,
        source_file,
        source_row,
        loaded_at
    from ses

),

unioned as (

    select * from sendgrid_events
    union all
    select * from mailchimp_events
    union all
    select * from ses_events

),

-- platforms re-send events (webhook retries, overlapping exports): first landed copy wins
deduplicated as (

    select *
    from unioned
    qualify row_number() over (partition by event_key order by loaded_at, source_file, source_row) = 1

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
        {{ lh_regex_extract('d.diagnostic', '^\\s*(?:smtp;\\s*)?([245][0-9][0-9])\\b') }} as reply_code,
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
        d.source_row
    from deduplicated as d
    left join event_map as m
        on d.platform = m.platform
        and d.native_event = m.native_event

),

final as (

    select * from typed
    where email is not null

)

select * from final
