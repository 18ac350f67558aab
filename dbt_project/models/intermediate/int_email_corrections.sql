{#- POLICY rules 14-16: a CRM record whose hard-bounced address was replaced by a new one. -#}
with

history as (select * from {{ ref('stg_hubspot__contact_history') }}),

bounces as (select * from {{ ref('int_bounces_classified') }}),

hard_bounces as (

    select
        email,
        min(occurred_at) as bounced_at,
        min(event_key) as bounce_event_key,
        min(campaign_id) as campaign_id,
        min(message_id) as message_id,
        min(platform) as platform
    from bounces
    where is_hard
    group by email

),

versions as (

    select
        hubspot_contact_id,
        email,
        min(coalesce(modified_at, loaded_at)) as first_seen_at
    from history
    where email is not null
    group by hubspot_contact_id, email

),

-- the first address that appeared on the same record after the bounced one
corrections as (

    select
        b.email as bounced_email,
        n.email as corrected_email,
        o.hubspot_contact_id,
        h.bounced_at,
        h.bounce_event_key,
        h.campaign_id,
        h.message_id,
        h.platform,
        n.first_seen_at as corrected_at,
        row_number() over (partition by o.hubspot_contact_id, b.email order by n.first_seen_at) as correction_rank
    from versions as o
    inner join hard_bounces as h on o.email = h.email
    inner join versions as b
        on b.hubspot_contact_id = o.hubspot_contact_id
        and b.email = o.email
    inner join versions as n
        on n.hubspot_contact_id = o.hubspot_contact_id
        and n.email <> o.email
        and n.first_seen_at > o.first_seen_at

),

final as (

    select
        hubspot_contact_id,
        bounced_email,
        corrected_email,
        platform,
        campaign_id,
        message_id,
        bounce_event_key,
        bounced_at,
        corrected_at
    from corrections
    where correction_rank = 1

)

select * from final
