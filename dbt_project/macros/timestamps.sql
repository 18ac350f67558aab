{#- Portable timestamp parsing: raw values are text exactly as the platform exported them. -#}

{% macro lh_from_unixtime(column) -%}
    {{ return(adapter.dispatch('lh_from_unixtime', 'list_hygiene')(column)) }}
{%- endmacro %}
{% macro default__lh_from_unixtime(column) -%}
    cast(to_timestamp(cast({{ column }} as double precision)) at time zone 'UTC' as timestamp)
{%- endmacro %}
{% macro duckdb__lh_from_unixtime(column) -%}
    make_timestamp(cast(cast({{ column }} as double) * 1000000 as bigint))
{%- endmacro %}

{#- ISO 8601 with an offset or Z (SES, Mailchimp API) → UTC timestamp without zone -#}
{% macro lh_iso_timestamp(column) -%}
    {{ return(adapter.dispatch('lh_iso_timestamp', 'list_hygiene')(column)) }}
{%- endmacro %}
{% macro default__lh_iso_timestamp(column) -%}
    cast(cast({{ column }} as timestamp with time zone) at time zone 'UTC' as timestamp)
{%- endmacro %}

{#- plain `YYYY-MM-DD HH:MM[:SS]` of CSV exports (HubSpot, Mailchimp), taken as UTC -#}
{% macro lh_plain_timestamp(column) -%}
    cast({{ column }} as timestamp)
{%- endmacro %}

{#- the day the policy is evaluated on: var as_of_date, else the latest event -#}
{% macro lh_as_of() -%}
    {%- if var('as_of_date') -%}
        cast('{{ var("as_of_date") }}' as timestamp)
    {%- else -%}
        (select max(occurred_at) from {{ ref('int_email_events') }})
    {%- endif -%}
{%- endmacro %}
