{#- Every reason an address must not be mailed, with the first event that caused it (POLICY rules 1, 3, 7-9). -#}
with

bounces as (select * from {{ ref('int_bounces_classified') }}),

events as (select * from {{ ref('int_email_events') }}),

members as (select * from {{ ref('stg_mailchimp__members') }}),

crm_contacts as (select * from {{ ref('stg_hubspot__contacts') }}),

streaks as (select * from {{ ref('int_soft_bounce_streaks') }}),

reasons as (

    select email, 'hard_bounce' as reason, occurred_at as since, platform as evidence
    from bounces where is_hard

    union all
    select email, 'complaint', occurred_at, platform
    from bounces where bounce_class = 'complaint'

    union all
    select email, 'unsubscribe', occurred_at, platform
    from events where event_type = 'unsubscribe'

    union all
    select email, 'unsubscribe', coalesce(unsubscribed_at, last_changed_at), 'mailchimp'
    from members where member_status = 'unsubscribed'

    union all
    select email, 'hard_bounce', coalesce(cleaned_at, last_changed_at), 'mailchimp'
    from members where member_status = 'cleaned'

    union all
    select email, 'unsubscribe', modified_at, 'hubspot'
    from crm_contacts where is_unsubscribed_from_all

    union all
    select email, 'hard_bounce', modified_at, 'hubspot'
    from crm_contacts where hard_bounce_reason is not null

    union all
    select email, 'soft_bounce_escalated', last_soft_bounce_at, 'policy'
    from streaks where is_escalated

),

final as (

    select
        email,
        reason,
        min(since) as since,
        count(*) as evidence_count,
        {{ dbt.listagg('distinct evidence', "','", "order by evidence") }} as evidence_platforms
    from reasons
    where email is not null
    group by email, reason

)

select * from final
