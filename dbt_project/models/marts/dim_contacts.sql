{#- One row per normalized address, joining the CRM record with every platform it appears on. -#}
with

platforms as (select * from {{ ref('int_contact_platforms') }}),

crm_contacts as (select * from {{ ref('int_crm_contacts') }}),

presence as (

    select
        email,
        {{ dbt.listagg('platform', "','", "order by platform") }} as platforms,
        count(*) as platform_count,
        min(first_seen_at) as first_seen_at,
        max(last_seen_at) as last_seen_at
    from platforms
    group by email

),

-- several CRM records may share an address: int_crm_contacts ranks the one that represents it
crm as (

    select *
    from crm_contacts
    where crm_rank_for_email = 1

),

final as (

    select
        p.email,
        {{ lh_email_domain('p.email') }} as email_domain,
        c.crm_contact_key,
        c.crm,
        c.first_name,
        c.last_name,
        c.company_name,
        c.company_status,
        c.lead_source,
        c.mobile_phone,
        c.sms_consent,
        p.platforms,
        p.platform_count,
        p.first_seen_at,
        p.last_seen_at
    from presence as p
    left join crm as c
        on p.email = c.email

)

select * from final
