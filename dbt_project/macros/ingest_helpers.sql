{#- Helpers for the staging models of the connectors (issue 4). Dispatched where DuckDB and other
    warehouses differ, like the macros in timestamps.sql. -#}

{#- the address as compared everywhere: normalised at ingest (display name, mailto:, IDN → punycode,
    see list_hygiene/ingest/emails.py), else trimmed and lower-cased for rows landed before that column -#}
{% macro lh_staged_email(raw_column) -%}
    coalesce(email_normalized, {{ lh_normalize_email(raw_column) }})
{%- endmacro %}

{#- the ingest flags invalid syntax instead of dropping the row -#}
{% macro lh_is_valid_email() -%}
    (email_problem is null)
{%- endmacro %}

{#- text booleans of exports (true/false, 1/0, yes/no); null stays null (unknown consent is not consent) -#}
{% macro lh_bool(column) -%}
    case
        when lower(trim({{ column }})) in ('true', '1', 'yes') then true
        when lower(trim({{ column }})) in ('false', '0', 'no') then false
    end
{%- endmacro %}

{#- epoch milliseconds (Zoho) → UTC timestamp -#}
{% macro lh_from_unixtime_ms(column) -%}
    {{ return(adapter.dispatch('lh_from_unixtime_ms', 'list_hygiene')(column)) }}
{%- endmacro %}
{% macro default__lh_from_unixtime_ms(column) -%}
    cast(to_timestamp(cast({{ column }} as double precision) / 1000.0) at time zone 'UTC' as timestamp)
{%- endmacro %}
{% macro duckdb__lh_from_unixtime_ms(column) -%}
    make_timestamp(cast(cast({{ column }} as double) * 1000 as bigint))
{%- endmacro %}

{#- SFMC tracking extracts: `M/D/YYYY h:mm:ss AM` (or ISO) in the account's time zone, which Marketing
    Cloud keeps at CST without daylight saving: add `sfmc_utc_offset_hours` (default 6) to get UTC -#}
{% macro lh_sfmc_timestamp(column) -%}
    {{ return(adapter.dispatch('lh_sfmc_timestamp', 'list_hygiene')(column)) }}
{%- endmacro %}
{% macro default__lh_sfmc_timestamp(column) -%}
    (to_timestamp({{ column }}, 'MM/DD/YYYY HH12:MI:SS AM')::timestamp
        + interval '{{ var("sfmc_utc_offset_hours", 6) }} hours')
{%- endmacro %}
{% macro duckdb__lh_sfmc_timestamp(column) -%}
    (try_strptime({{ column }}, ['%m/%d/%Y %I:%M:%S %p', '%m/%d/%Y %I:%M %p', '%m/%d/%Y %H:%M:%S', '%m/%d/%Y %H:%M',
        '%Y-%m-%d %H:%M:%S', '%Y-%m-%dT%H:%M:%S'])
        + to_hours({{ var("sfmc_utc_offset_hours", 6) }}))
{%- endmacro %}

{#- the common columns of every SFMC tracking extract (Sent, Opens, Clicks, Bounces, Unsubs, Complaints) -#}
{% macro lh_sfmc_common_columns(native_event) -%}
        -- ids
        send_id,
        batch_id,
        subscriber_key,
        subscriber_id,
        list_id,
        client_id,
        triggered_send_external_key,

        -- strings
        {{ lh_staged_email('email_address') }} as email,
        email_address as email_raw,
        email_problem,
        '{{ native_event }}' as native_event,
        event_type as native_event_type,

        -- booleans
        {{ lh_is_valid_email() }} as is_valid_email,

        -- timestamps
        {{ lh_sfmc_timestamp('event_date') }} as occurred_at,
        event_date as event_date_raw,

        -- lineage
        _file as source_file,
        _row as source_row,
        _loaded_at as loaded_at
{%- endmacro %}

{#- the person columns Salesforce Contact and Lead share (API field names) -#}
{% macro lh_salesforce_person_columns() -%}
        -- strings
        {{ lh_staged_email('email') }} as email,
        email as email_raw,
        email_problem,
        first_name,
        last_name,
        title,
        phone,
        mobile_phone,
        lead_source,
        email_bounced_reason,

        -- booleans
        {{ lh_is_valid_email() }} as is_valid_email,
        coalesce({{ lh_bool('has_opted_out_of_email') }}, false) as has_opted_out_of_email,
        coalesce({{ lh_bool('is_email_bounced') }}, false) as is_email_bounced,
        {{ lh_bool('sms_opt_in') }} as sms_consent,

        -- timestamps
        {{ lh_iso_timestamp('email_bounced_date') }} as email_bounced_at,
        cast(last_activity_date as date) as last_activity_date,
        {{ lh_iso_timestamp('created_date') }} as created_at,
        {{ lh_iso_timestamp('last_modified_date') }} as modified_at,

        -- lineage
        _file as source_file,
        _row as source_row,
        _loaded_at as loaded_at
{%- endmacro %}

{#- an export is a snapshot: keep the latest version of each record across loaded files -#}
{% macro lh_latest_version(relation, id_column) -%}
    {{ lh_first_per(relation, id_column, 'modified_at desc nulls last, loaded_at desc, source_file desc, source_row desc') }}
{%- endmacro %}

{#- When the latest version's `columns` took their values: per record, the landing (`loaded_at`) of the first
    version since they last differed, versions in the order lh_latest_version ranks them. A snapshot export lands
    every record again; a model that takes only these columns from it rebuilds its rows when this is newer than
    they are, not on every landing (stg_pipedrive__organizations, stg_hubspot__companies: `company_loaded_at`).
    Selects `id_column` and `loaded_at`. -#}
{% macro lh_values_landed_at(relation, id_column, columns) -%}
    {%- set versions -%}
    (
        select
            {{ id_column }},
            modified_at,
            loaded_at,
            source_file,
            source_row,
            row_number() over w = 1
            {%- for column in columns %}
            or {{ column }} is distinct from lag({{ column }}) over w
            {%- endfor %} as starts_values
        from {{ relation }}
        window w as (partition by {{ id_column }} order by modified_at nulls first, loaded_at, source_file, source_row)
    ) as versions
    {%- endset -%}
    {%- set starts -%}
    (select {{ id_column }}, modified_at, loaded_at, source_file, source_row from {{ versions }} where starts_values) as starts
    {%- endset -%}
    select {{ id_column }}, loaded_at from ({{ lh_latest_version(starts, id_column) }}) as landed
{%- endmacro %}

{#- first element of a JSON array held as text (Mailgun tags / campaigns), or null -#}
{% macro lh_json_first(column) -%}
    {{ return(adapter.dispatch('lh_json_first', 'list_hygiene')(column)) }}
{%- endmacro %}
{% macro default__lh_json_first(column) -%}
    nullif(cast({{ column }} as json) ->> 0, '')
{%- endmacro %}
{% macro duckdb__lh_json_first(column) -%}
    nullif(json_extract_string({{ column }}, '$[0]'), '')
{%- endmacro %}

{#- CRM company status in one vocabulary (POLICY rule 8): closed, bankrupt or active; null when the
    person has no company record. CRMs keep it in a custom field with free wording. -#}
{% macro lh_company_status(status_column, has_company_column) -%}
    case
        when lower(trim({{ status_column }})) in (
            'bankrupt', 'bankruptcy', 'insolvent', 'insolvency', 'in liquidation', 'liquidation', 'receivership'
        ) then 'bankrupt'
        when lower(trim({{ status_column }})) in (
            'closed', 'out of business', 'dissolved', 'ceased trading', 'defunct', 'permanently closed', 'inactive'
        ) then 'closed'
        when {{ has_company_column }} then 'active'
    end
{%- endmacro %}
