{#- Where each address is known: the platforms a suppression must reach. -#}
with

-- first and last event per address and platform, kept incrementally (not the whole event history)
activity as (select * from {{ ref('int_contact_platform_activity') }}),

members as (select * from {{ ref('stg_mailchimp__members') }}),

crm_contacts as (select * from {{ ref('int_crm_contacts') }}),

sightings as (

    -- a bounce mailbox is evidence, not a place that sends: it holds no list to suppress on
    select email, platform, first_event_at as seen_at from activity where platform <> 'mailbox'
    union all
    select email, platform, last_event_at as seen_at from activity where platform <> 'mailbox'
    union all
    select email, 'mailchimp' as platform, coalesce(last_changed_at, opted_in_at) as seen_at from members
    union all
    select email, crm as platform, modified_at as seen_at from crm_contacts

),

final as (

    select
        email,
        platform,
        min(seen_at) as first_seen_at,
        max(seen_at) as last_seen_at
    from sightings
    where email is not null
    group by email, platform

)

select * from final
