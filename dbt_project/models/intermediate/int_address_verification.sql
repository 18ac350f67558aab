{#- POLICY rule 13: syntax, role accounts, disposable domains and likely typos of big providers' domains.

    Incremental (`delete+insert` on email): an address's findings depend on the address, the lists
    (role_accounts, mailbox_providers, the disposable domains loaded at each ingest) and var
    typo_max_edit_distance only. So a run verifies the addresses not here yet, and a post-hook drops the
    rows of addresses no longer known, which leaves the table as a full build makes it. `policy_vars`
    holds the var and a digest of the lists: when either differs from the rows here, every address is
    verified again. `dbt build --full-refresh` rebuilds it. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='email',
    on_schema_change='fail',
    post_hook="delete from {{ this }} where email not in (select c.email from {{ ref('int_contact_platforms') }} as c)"
) }}
{%- set policy = lh_policy_vars(['typo_max_edit_distance']) ~ ';lists='
    ~ lh_rows_digest([ref('role_accounts'), ref('mailbox_providers'), ref('stg_reference__disposable_domains')]) %}
{%- set only_new = is_incremental() and not lh_policy_changed(policy) %}
with

contacts as (select * from {{ ref('int_contact_platforms') }}),

roles as (select * from {{ ref('role_accounts') }}),

disposable as (select * from {{ ref('stg_reference__disposable_domains') }}),

providers as (select * from {{ ref('mailbox_providers') }} where match_type = 'domain'),

addresses as (

    select distinct
        email,
        split_part(email, '@', 1) as local_part,
        {{ lh_email_domain('email') }} as domain
    from contacts
    {%- if only_new %}
    where email not in (select v.email from {{ this }} as v)
    {%- endif %}

),

-- edit distances per distinct domain, not per address: a domain is shared by many addresses
domains as (

    select distinct domain
    from addresses

),

typos as (

    select
        d.domain,
        min(p.pattern) as suggested_domain
    from domains as d
    inner join providers as p
        on d.domain <> p.pattern
        and abs(length(d.domain) - length(p.pattern)) <= {{ var('typo_max_edit_distance') }}
        and {{ lh_edit_distance('d.domain', 'p.pattern') }} <= {{ var('typo_max_edit_distance') }}
    where d.domain not in (select pattern from providers)
    group by d.domain

),

final as (

    select
        a.email,
        a.domain,
        {{ lh_regex_full_match('a.email', "[a-z0-9!#$%&''*+/=?^_`{|}~.-]+@[a-z0-9-]+(\\.[a-z0-9-]+)+") }}
            and a.local_part not like '.%'
            and a.local_part not like '%.'
            and a.local_part not like '%..%' as is_valid_syntax,
        r.local_part is not null as is_role_account,
        d.domain is not null as is_disposable,
        t.suggested_domain,
        case when t.suggested_domain is not null then a.local_part || '@' || t.suggested_domain end as suggested_email,
        '{{ policy }}' as policy_vars
    from addresses as a
    left join roles as r on a.local_part = r.local_part
    left join disposable as d on a.domain = d.domain
    left join typos as t on a.domain = t.domain

)

select * from final
