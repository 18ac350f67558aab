{#- One row per address: engagement across platforms, verification flags and risks (POLICY rules 8-13, 17). -#}
with

contacts as (select * from {{ ref('dim_contacts') }}),

engagement as (select * from {{ ref('contact_engagement') }}),

activity as (select * from {{ ref('int_contact_activity') }}),

hubspot as (select * from {{ ref('stg_hubspot__contacts') }}),

verification as (select * from {{ ref('int_address_verification') }}),

traps as (select * from {{ ref('int_spam_trap_risk') }}),

crm as (select * from {{ ref('int_crm_contacts') }} where crm_rank_for_email = 1),

as_of as (select {{ lh_as_of() }} as as_of_at),

overall as (

    select
        email,
        sum(sends) as sends,
        sum(deliveries) as deliveries,
        sum(human_opens) as human_opens,
        sum(human_clicks) as human_clicks,
        sum(machine_opens_discarded) as machine_opens_discarded,
        min(first_send_at) as first_send_at,
        max(last_send_at) as last_send_at,
        max(last_human_engagement_at) as last_event_engagement_at,
        sum(engagement_score) as engagement_score
    from engagement
    group by email

),

-- the CRM remembers engagement from before our event history: use it only for that period
crm_engagement as (

    select
        h.email,
        max(
            case
                when coalesce(h.last_email_clicked_at, h.last_email_opened_at)
                    < coalesce(s.first_event_at, h.last_email_clicked_at, h.last_email_opened_at)
                    then coalesce(h.last_email_clicked_at, h.last_email_opened_at)
            end
        ) as crm_last_engagement_at
    from hubspot as h
    left join activity as s on h.email = s.email
    group by h.email

),

with_last as (

    select
        c.email,
        o.sends,
        o.deliveries,
        o.human_opens,
        o.human_clicks,
        o.machine_opens_discarded,
        o.first_send_at,
        o.last_send_at,
        coalesce(o.last_event_engagement_at, ce.crm_last_engagement_at) as last_human_engagement_at,
        case
            when o.last_event_engagement_at is not null then 'events'
            when ce.crm_last_engagement_at is not null then 'crm'
        end as last_engagement_source,
        o.engagement_score
    from contacts as c
    left join overall as o on c.email = o.email
    left join crm_engagement as ce on c.email = ce.email

),

final as (

    select
        w.email,
        coalesce(w.sends, 0) as sends,
        coalesce(w.deliveries, 0) as deliveries,
        coalesce(w.human_opens, 0) as human_opens,
        coalesce(w.human_clicks, 0) as human_clicks,
        coalesce(w.machine_opens_discarded, 0) as machine_opens_discarded,
        w.first_send_at,
        w.last_send_at,
        w.last_human_engagement_at,
        w.last_engagement_source,
        coalesce(s.sends_since_last_engagement, 0) as sends_since_last_engagement,
        w.last_human_engagement_at is not null
            and (s.nth_last_send_at is null or w.last_human_engagement_at >= s.nth_last_send_at)
            as engaged_in_last_n_sends,
        round(coalesce(w.engagement_score, 0), 4) as engagement_score,
        v.is_valid_syntax,
        v.is_role_account,
        v.is_disposable,
        v.suggested_email,
        t.risk_reason as spam_trap_risk,
        crm.company_status,
        crm.lead_source,
        a.as_of_at
    from with_last as w
    cross join as_of as a
    left join activity as s on w.email = s.email
    left join verification as v on w.email = v.email
    left join traps as t on w.email = t.email
    left join crm on w.email = crm.email

)

select * from final
