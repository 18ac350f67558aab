{#- Campaigns across platforms, with the series and step of multi-step campaigns (POLICY rule 18). -#}
with

sendgrid as (select * from {{ ref('stg_sendgrid__events') }}),

mailchimp as (select * from {{ ref('stg_mailchimp__campaigns') }}),

events as (select * from {{ ref('int_email_events') }}),

named as (

    select 'sendgrid' as platform, campaign_id, max(campaign_name) as campaign_name
    from sendgrid
    where campaign_id is not null
    group by campaign_id

    union all

    select 'mailchimp' as platform, campaign_id, max(title) as campaign_name
    from mailchimp
    group by campaign_id

),

seen as (

    select
        platform,
        campaign_id,
        min(occurred_at) as first_event_at
    from events
    where campaign_id is not null
    group by platform, campaign_id

),

final as (

    select
        s.platform,
        s.campaign_id,
        coalesce(n.campaign_name, s.campaign_id) as campaign_name,
        cast({{ lh_regex_extract("lower(coalesce(n.campaign_name, s.campaign_id))", var('campaign_step_pattern')) }} as integer)
            as step_number,
        trim(regexp_replace(lower(coalesce(n.campaign_name, s.campaign_id)), '{{ var("campaign_step_pattern") }}', ''))
            as series_name,
        s.first_event_at
    from seen as s
    left join named as n
        on s.platform = n.platform
        and s.campaign_id = n.campaign_id

)

select * from final
