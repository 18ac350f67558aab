{#- People from every CRM in one shape, with what the policy needs from the CRM side: company status
    (rule 8), lead source (rule 10), mobile phone and SMS consent (rule 14), postal address (rule 16)
    and last activity. One row per CRM record; `crm_rank_for_email` = 1 marks the record that
    represents an address (the most recently modified across CRMs). -#}
with

hubspot_contacts as (select * from {{ ref('stg_hubspot__contacts') }}),

hubspot_companies as (select * from {{ ref('stg_hubspot__companies') }}),

salesforce_contacts as (select * from {{ ref('stg_salesforce__contacts') }}),

salesforce_leads as (select * from {{ ref('stg_salesforce__leads') }}),

salesforce_accounts as (select * from {{ ref('stg_salesforce__accounts') }}),

pipedrive_persons as (select * from {{ ref('stg_pipedrive__persons') }}),

pipedrive_organizations as (select * from {{ ref('stg_pipedrive__organizations') }}),

-- HubSpot: the associated company id, else the company of the same name when exactly one has it
hubspot_companies_by_name as (

    select
        lower(trim(company_name)) as company_name_key,
        min(hubspot_company_id) as hubspot_company_id
    from hubspot_companies
    where company_name is not null
    group by lower(trim(company_name))
    having count(*) = 1

),

hubspot as (

    select
        'hubspot' as crm,
        cast(c.hubspot_contact_id as {{ dbt.type_string() }}) as crm_id,
        c.email,
        c.is_valid_email,
        c.first_name,
        c.last_name,
        coalesce(co.company_name, c.company_name) as company_name,
        co.company_status as company_status_raw,
        co.hubspot_company_id is not null as has_company,
        c.lead_source,
        c.mobile_phone_number as mobile_phone,
        c.sms_consent,
        c.street,
        c.city,
        c.state,
        c.postal_code,
        c.country,
        c.is_unsubscribed_from_all as is_email_opted_out,
        c.is_invalid_email or c.hard_bounce_reason is not null as is_email_bounced,
        c.last_activity_at,
        c.modified_at,
        c.source_file,
        c.source_row
    from hubspot_contacts as c
    left join hubspot_companies_by_name as n
        on c.hubspot_company_id is null
        and lower(trim(c.company_name)) = n.company_name_key
    left join hubspot_companies as co
        on co.hubspot_company_id = coalesce(c.hubspot_company_id, n.hubspot_company_id)

),

salesforce_contact_rows as (

    select
        'salesforce' as crm,
        c.salesforce_contact_id as crm_id,
        c.email,
        c.is_valid_email,
        c.first_name,
        c.last_name,
        a.account_name as company_name,
        a.company_status as company_status_raw,
        a.salesforce_account_id is not null as has_company,
        c.lead_source,
        c.mobile_phone,
        c.sms_consent,
        c.street,
        c.city,
        c.state,
        c.postal_code,
        c.country,
        c.has_opted_out_of_email as is_email_opted_out,
        c.is_email_bounced,
        cast(c.last_activity_date as timestamp) as last_activity_at,
        c.modified_at,
        c.source_file,
        c.source_row
    from salesforce_contacts as c
    left join salesforce_accounts as a
        on c.salesforce_account_id = a.salesforce_account_id

),

-- a converted lead lives on as its contact
salesforce_lead_rows as (

    select
        'salesforce' as crm,
        salesforce_lead_id as crm_id,
        email,
        is_valid_email,
        first_name,
        last_name,
        company_name,
        cast(null as {{ dbt.type_string() }}) as company_status_raw,
        false as has_company,
        lead_source,
        mobile_phone,
        sms_consent,
        street,
        city,
        state,
        postal_code,
        country,
        has_opted_out_of_email as is_email_opted_out,
        is_email_bounced,
        cast(last_activity_date as timestamp) as last_activity_at,
        modified_at,
        source_file,
        source_row
    from salesforce_leads
    where not is_converted

),

pipedrive as (

    select
        'pipedrive' as crm,
        cast(p.pipedrive_person_id as {{ dbt.type_string() }}) as crm_id,
        p.email,
        p.is_valid_email,
        p.first_name,
        p.last_name,
        coalesce(o.org_name, p.org_name) as company_name,
        o.company_status as company_status_raw,
        coalesce(o.is_active, false) as has_company,
        p.lead_source,
        p.mobile_phone,
        p.sms_consent,
        p.street,
        p.city,
        p.state,
        p.postal_code,
        p.country,
        p.marketing_status = 'unsubscribed' as is_email_opted_out,
        false as is_email_bounced,
        cast(p.last_activity_date as timestamp) as last_activity_at,
        p.modified_at,
        p.source_file,
        p.source_row
    from pipedrive_persons as p
    left join pipedrive_organizations as o
        on p.pipedrive_org_id = o.pipedrive_org_id
    where p.is_active

),

unioned as (

    select * from hubspot
    union all
    select * from salesforce_contact_rows
    union all
    select * from salesforce_lead_rows
    union all
    select * from pipedrive

),

final as (

    select
        crm || ':' || crm_id as crm_contact_key,
        crm,
        crm_id,
        email,
        is_valid_email,
        first_name,
        last_name,
        company_name,
        {{ lh_company_status('company_status_raw', 'has_company') }} as company_status,
        company_status_raw,
        lead_source,
        mobile_phone,
        sms_consent,
        street,
        city,
        state,
        postal_code,
        country,
        is_email_opted_out,
        is_email_bounced,
        last_activity_at,
        modified_at,
        row_number() over (
            partition by email
            order by modified_at desc nulls last, crm, crm_id
        ) as crm_rank_for_email,
        source_file,
        source_row
    from unioned
    where email is not null

)

select * from final
