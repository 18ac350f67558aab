{#- People from every CRM in one shape, with what the policy needs from the CRM side: company status
    (rule 8), lead source (rule 10), mobile phone and SMS consent (rule 14), postal address (rule 16)
    and last activity. One row per CRM record; `crm_rank_for_email` = 1 marks the record that
    represents an address (the most recently modified across CRMs).

    Incremental (`delete+insert` on crm_contact_key). A run rebuilds only the records whose latest version
    landed after the newest `loaded_at` here, or whose company / account / organization did (a Pipedrive
    organization counts only when its name, status or active flag changed: `company_loaded_at`; a new HubSpot
    company or a new name or status of one, its `company_loaded_at`, rebuilds every HubSpot contact: a contact
    without an associated company is matched by a name that must be unique among all companies; a Salesforce
    account only on a new name or status, its `company_loaded_at`; the same companies, accounts or organizations
    exported again rebuild nothing), and re-ranks every record of the addresses those records
    had or have. A changed record that no longer belongs here (converted lead, deleted person, no address)
    is written as a row with no address and deleted by the post-hook, so delete+insert removes its old row.
    A table built before `loaded_at` existed gets the column and every record rebuilt on its next run. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='crm_contact_key',
    on_schema_change='append_new_columns',
    post_hook="delete from {{ this }} where email is null"
) }}

{%- set merge = is_incremental() and ('__dbt__cte__' in (this | string) or lh_has_column(this, 'loaded_at')) %}
{#- rebuilding every record in place (first incremental run of an older table) is the merge with no watermark -#}
{%- set watermark = lh_loaded_watermark() if merge
    else "cast('1900-01-01 00:00:00' as " ~ dbt.type_timestamp() ~ ")" %}
{#- such a table has no loaded_at yet (on_schema_change adds it after this query); none of its rows is kept -#}
{%- set stored_loaded_at = 's.loaded_at' if merge else 'cast(null as ' ~ dbt.type_timestamp() ~ ')' %}
{#- a record's columns as `records` below computes them (crm_rank_for_email comes after them) -#}
{%- set record_columns = ['crm_contact_key', 'crm', 'crm_id', 'email', 'is_valid_email', 'first_name', 'last_name',
    'company_name', 'company_status', 'company_status_raw', 'lead_source', 'mobile_phone', 'sms_consent', 'street',
    'city', 'state', 'postal_code', 'country', 'is_email_opted_out', 'is_email_bounced', 'last_activity_at',
    'modified_at', 'source_file', 'source_row', 'loaded_at'] %}

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

{% if is_incremental() %}
-- what changed since the rows here were built
-- a new company, or a new name or status (stg_hubspot__companies.company_loaded_at): the same export landed
-- again is no change
hubspot_companies_changed as (

    select count(*) > 0 as any_changed
    from hubspot_companies
    where company_loaded_at > {{ watermark }}

),

-- a new account, or a new name or status (stg_salesforce__accounts.company_loaded_at)
salesforce_accounts_changed as (

    select salesforce_account_id
    from salesforce_accounts
    where company_loaded_at > {{ watermark }}

),

-- only a new name, status or active flag rebuilds an organization's people (a new people_count, every day a
-- person is added, does not)
pipedrive_organizations_changed as (

    select pipedrive_org_id
    from pipedrive_organizations
    where company_loaded_at > {{ watermark }}

),
{% endif %}

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
        c.source_row,
        greatest(c.loaded_at, co.company_loaded_at) as loaded_at,
        true as is_kept
    from hubspot_contacts as c
    left join hubspot_companies_by_name as n
        on c.hubspot_company_id is null
        and lower(trim(c.company_name)) = n.company_name_key
    left join hubspot_companies as co
        on co.hubspot_company_id = coalesce(c.hubspot_company_id, n.hubspot_company_id)
    {%- if is_incremental() %}
    where c.loaded_at > {{ watermark }}
        or (select any_changed from hubspot_companies_changed)
    {%- endif %}

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
        c.source_row,
        greatest(c.loaded_at, a.company_loaded_at) as loaded_at,
        true as is_kept
    from salesforce_contacts as c
    left join salesforce_accounts as a
        on c.salesforce_account_id = a.salesforce_account_id
    {%- if is_incremental() %}
    where c.loaded_at > {{ watermark }}
        or c.salesforce_account_id in (select salesforce_account_id from salesforce_accounts_changed)
    {%- endif %}

),

-- a converted lead lives on as its contact (is_kept false: a changed one leaves this table)
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
        source_row,
        loaded_at,
        not is_converted as is_kept
    from salesforce_leads
    {%- if is_incremental() %}
    where loaded_at > {{ watermark }}
    {%- endif %}

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
        p.source_row,
        greatest(p.loaded_at, o.company_loaded_at) as loaded_at,
        p.is_active as is_kept
    from pipedrive_persons as p
    left join pipedrive_organizations as o
        on p.pipedrive_org_id = o.pipedrive_org_id
    {%- if is_incremental() %}
    where p.loaded_at > {{ watermark }}
        or p.pipedrive_org_id in (select pipedrive_org_id from pipedrive_organizations_changed)
    {%- endif %}

),

unioned as {{ lh_inline_cte() }} (

    select * from hubspot
    union all
    select * from salesforce_contact_rows
    union all
    select * from salesforce_lead_rows
    union all
    select * from pipedrive

),

records as {{ lh_inline_cte() }} (

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
        source_file,
        source_row,
        loaded_at
    from unioned
    where is_kept and email is not null

),

{% if is_incremental() %}
changed_keys as {{ lh_inline_cte() }} (

    select crm || ':' || crm_id as crm_contact_key
    from unioned

),

stored as {{ lh_inline_cte() }} (select * from {{ this }}),

-- every record of an address a changed record had or has is ranked again
regrouped_emails as (

    select email from records
    union
    select s.email
    from stored as s
    inner join changed_keys as k
        on s.crm_contact_key = k.crm_contact_key

),

ranked_records as {{ lh_inline_cte() }} (

    select * from records
    union all
    select
        {%- for column in record_columns %}
        {{ stored_loaded_at if column == 'loaded_at' else 's.' ~ column }} as {{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from stored as s
    inner join regrouped_emails as e
        on s.email = e.email
    where not exists (select 1 from changed_keys as k where k.crm_contact_key = s.crm_contact_key)

),
{% else %}
ranked_records as {{ lh_inline_cte() }} (select * from records),
{% endif %}

final as (

    select
        {%- for column in record_columns %}
        {{ column }},
        {%- endfor %}
        row_number() over (
            partition by email
            order by modified_at desc nulls last, crm, crm_id
        ) as crm_rank_for_email
    from ranked_records

)

select * from final
{%- if is_incremental() %}
-- a changed record that left: a row with no address replaces its old one, and the post-hook deletes it
union all
select
    {%- for column in record_columns %}
    {{ 'cast(null as ' ~ dbt.type_string() ~ ')' if column == 'email' else stored_loaded_at if column == 'loaded_at'
       else 's.' ~ column }} as {{ column }},
    {%- endfor %}
    cast(null as bigint) as crm_rank_for_email
from stored as s
inner join changed_keys as k
    on s.crm_contact_key = k.crm_contact_key
where not exists (select 1 from records as r where r.crm_contact_key = s.crm_contact_key)
{%- endif %}
