{#- One row per normalized address, joining the CRM record with every platform it appears on. -#}
with

platforms as (select * from {{ ref('int_contact_platforms') }}),

crm_contacts as (select * from {{ ref('stg_hubspot__contacts') }}),

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

-- two CRM records may share an address: the most recently modified one represents it
crm as (

    select *
    from crm_contacts
    qualify row_number() over (partition by email order by modified_at desc nulls last, hubspot_contact_id) = 1

),

final as (

    select
        p.email,
        {{ lh_email_domain('p.email') }} as email_domain,
        c.hubspot_contact_id,
        c.first_name,
        c.last_name,
        c.company_name,
        c.lead_source,
        c.lifecycle_stage,
        c.mobile_phone_number,
        p.platforms,
        p.platform_count,
        p.first_seen_at,
        p.last_seen_at
    from presence as p
    left join crm as c
        on p.email = c.email

)

select * from final
