{#- `relationships` for the rows built since the last passing gate (`built_at`, macros/new_rows.sql): every
    value of those rows is in `to`.`field`. The rows built earlier were checked when that gate passed; what
    could break them since is `to` losing values, which a test of one row per value watches in full (for the
    event stream's addresses: int_contact_platform_activity.email → dim_contacts). dbt's own test runs on
    those rows; without a passing gate, on every row. -#}
{% test relationships_in_new_rows(model, column_name, to, field, built_at='built_at') %}
{%- set since = lh_new_rows_since() %}
{%- set rows = model if since is none
    else '(select * from ' ~ model ~ ' where ' ~ built_at ~ ' > ' ~ since ~ ') as new_rows' %}
{{ adapter.dispatch('test_relationships', 'dbt')(rows, column_name, to, field) }}
{% endtest %}
