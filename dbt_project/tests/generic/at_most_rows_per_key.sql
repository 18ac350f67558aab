{#- No more than `max_rows` rows share the same values in `columns` (int_recent_sends keeps N sends per address
    and platform). Checked where a surplus can have come from since the last passing gate: the keys of the rows
    built since then (`built_at`, macros/new_rows.sql), counted over the whole table; without a passing gate,
    every key. Fails with each key over the limit and its row count. -#}
{% test at_most_rows_per_key(model, columns, max_rows, built_at='built_at') %}
{%- set since = lh_new_rows_since() %}
select
    {{ columns | join(', ') }},
    count(*) as n_records
from {{ model }} as t
{%- if since is not none %}
where exists (
    select 1
    from {{ model }} as n
    where n.{{ built_at }} > {{ since }}
    {%- for c in columns %}
        and n.{{ c }} = t.{{ c }}
    {%- endfor %}
)
{%- endif %}
group by {{ columns | join(', ') }}
having count(*) > {{ max_rows }}
{% endtest %}
