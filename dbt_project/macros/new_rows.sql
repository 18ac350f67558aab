{#- Which rows of a large incremental table the daily gate checks (docs/quality-and-audit.md, "New rows").

    `built_at` on int_email_events and int_engagement_events is the start of the dbt invocation that wrote
    the row (`lh_built_at()`: every row of one build has the same value; a full refresh stamps every row
    anew, a `delete+insert` stamps the rows it re-inserts). The gate records when each run started
    (ops.quality_gate_runs); rows built before the last run that passed with its dbt tests were checked by
    it, so the next gate checks only the rows built since (`lh_new_rows_since()`), plus what those rows meet
    in the rest of the table. Without such a run (a new warehouse, ops absent, another warehouse than
    DuckDB) or with var `lh_test_all_rows: true`, every row is checked. -#}

{% macro lh_built_at() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp)
{%- endmacro %}


{#- The start of the newest gate run that passed with its dbt data tests, as a SQL timestamp literal; none
    when every row is to be checked. Read when the test runs (not when dbt parses), so no var changes
    from day to day and dbt's partial parse stays valid. -#}
{% macro lh_new_rows_since() -%}
    {%- if not execute or var('lh_test_all_rows', false) -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set runs = adapter.get_relation(database=target.database, schema='ops', identifier='quality_gate_runs') -%}
    {%- if runs is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set found = run_query(
        "select cast(max(started_at) as varchar) from " ~ runs ~ " where passed and with_dbt_tests"
    ) -%}
    {%- set since = found.columns[0].values()[0] if found and found.rows | length > 0 else none -%}
    {{ return(("cast('" ~ since ~ "' as timestamp)") if since else none) }}
{%- endmacro %}
