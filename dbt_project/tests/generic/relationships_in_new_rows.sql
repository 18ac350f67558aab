{#- `relationships` for the rows built since the last passing gate (`built_at`, macros/new_rows.sql): every
    value of those rows is in `to`.`field`. The rows built earlier were checked when that gate passed; what
    could break them since is `to` losing values, which a test of one row per value watches in full (for the
    event stream's addresses: int_contact_platform_activity.email → dim_contacts). Without a passing gate
    every row is checked: the same as `relationships`. -#}
{% test relationships_in_new_rows(model, column_name, to, field, built_at='built_at') %}
{%- set since = lh_new_rows_since() %}
with child as (

    select {{ column_name }} as from_field
    from {{ model }}
    where {{ column_name }} is not null
    {%- if since is not none %}
        and {{ built_at }} > {{ since }}
    {%- endif %}

),

parent as (

    select {{ field }} as to_field
    from {{ to }}

)

select child.from_field
from child
left join parent
    on child.from_field = parent.to_field
where parent.to_field is null
{% endtest %}
