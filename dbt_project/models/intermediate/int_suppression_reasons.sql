{#- Every reason an address must not be mailed, with the first event that caused it (POLICY rules 1, 3, 8, 10, 13). -#}
with

bounces as (select * from {{ ref('int_bounces_classified') }}),

events as (select * from {{ ref('int_email_events') }}),

members as (select * from {{ ref('stg_mailchimp__members') }}),

esp_lists as (select * from {{ ref('stg_sendgrid__suppressions') }}),

crm as (select * from {{ ref('int_crm_contacts') }}),

streaks as (select * from {{ ref('int_soft_bounce_streaks') }}),

traps as (select * from {{ ref('int_spam_trap_risk') }}),

verification as (select * from {{ ref('int_address_verification') }}),

platforms as (select email, min(first_seen_at) as first_seen_at from {{ ref('int_contact_platforms') }} group by email),

reasons as (

    -- rule 1: hard bounces, whoever saw them
    select email, 'hard_bounce' as reason, occurred_at as since, platform as evidence
    from bounces where is_hard

    union all
    select email, 'hard_bounce', coalesce(cleaned_at, last_changed_at), 'mailchimp'
    from members where member_status = 'cleaned'

    union all
    select email, 'hard_bounce', modified_at, crm
    from crm where is_email_bounced

    -- the ESP's own suppression lists (blocks are the sender's problem: rule 4)
    union all
    select email, 'hard_bounce', created_at, 'sendgrid'
    from esp_lists where suppression_list = 'bounces' and status_code like '5%'

    union all
    select email, 'complaint', created_at, 'sendgrid'
    from esp_lists where suppression_list = 'spam_reports'

    union all
    select email, 'unsubscribe', created_at, 'sendgrid'
    from esp_lists where suppression_list = 'unsubscribes'

    union all
    select email, 'invalid', created_at, 'sendgrid'
    from esp_lists where suppression_list = 'invalid_emails'

    -- complaints: the person asked to stop
    union all
    select email, 'complaint', occurred_at, platform
    from bounces where bounce_class = 'complaint'

    -- unsubscribes: events, ESP member status, CRM opt-outs
    union all
    select email, 'unsubscribe', occurred_at, platform
    from events where event_type = 'unsubscribe'

    union all
    select email, 'unsubscribe', coalesce(unsubscribed_at, last_changed_at), 'mailchimp'
    from members where member_status = 'unsubscribed'

    union all
    select email, 'unsubscribe', modified_at, crm
    from crm where is_email_opted_out

    -- rule 3: soft bounces that persist
    union all
    select email, 'soft_bounce_escalated', last_soft_bounce_at, 'policy'
    from streaks where is_escalated

    -- rule 8: the company is gone
    union all
    select email, 'closed_company', modified_at, crm
    from crm where company_status in ('closed', 'bankrupt')

    -- rule 10: recycled traps and risky sources
    union all
    select email, 'spam_trap_risk', since, 'policy'
    from traps

    -- rule 13: verification findings the policy suppresses
    union all
    select v.email, 'invalid', p.first_seen_at, 'verification'
    from verification as v inner join platforms as p on v.email = p.email
    where not v.is_valid_syntax and {{ var('suppress_invalid_syntax') }}

    union all
    select v.email, 'disposable', p.first_seen_at, 'verification'
    from verification as v inner join platforms as p on v.email = p.email
    where v.is_disposable and {{ var('suppress_disposable') }}

    union all
    select v.email, 'role_account', p.first_seen_at, 'verification'
    from verification as v inner join platforms as p on v.email = p.email
    where v.is_role_account and {{ var('suppress_role_accounts') }}

),

final as (

    select
        email,
        reason,
        min(since) as since,
        count(distinct (evidence, since)) as evidence_count,
        {{ dbt.listagg('distinct evidence', "','", "order by evidence") }} as evidence_platforms
    from reasons
    where email is not null
    group by email, reason

)

select * from final
