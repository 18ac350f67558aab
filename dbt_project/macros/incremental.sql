{#- Helpers for the incremental models (issue 8, docs/scaling.md §3).

    The watermark of an incremental model is the newest ingest time (`loaded_at`, the raw layer's
    `_loaded_at`: one value per ingest run) among the rows it already holds. A run processes only what
    was landed after it. The value is read when the model compiles and written into the SQL as a
    constant, so the warehouse can skip whole row groups of older rows (DuckDB's zone maps) instead of
    comparing every row with a subquery.

        where loaded_at > {{ lh_loaded_watermark() }}
-#}
{% macro lh_loaded_watermark(relation=none, column='loaded_at') -%}
    {%- set relation = relation if relation is not none else this -%}
    {%- if '__dbt__cte__' in (relation | string) -%}
    {#- a dbt unit test gives `this` as rows in a CTE: nothing to query at compile time -#}
    (select coalesce(max({{ column }}), cast('1900-01-01 00:00:00' as {{ dbt.type_timestamp() }})) from {{ relation }})
    {%- else -%}
        {%- set value = none -%}
        {%- if execute and lh_has_column(relation, column) -%}
            {%- set value = run_query('select max(' ~ column ~ ') from ' ~ relation).columns[0].values()[0] -%}
        {%- endif -%}
    cast('{{ value if value is not none else "1900-01-01 00:00:00" }}' as {{ dbt.type_timestamp() }})
    {%- endif -%}
{%- endmacro %}


{#- The day of the earliest event among `relation`'s rows landed after `watermark`, as a SQL timestamp literal
    (midnight), read when the model compiles; none when nothing landed or in a dbt unit test. A model that
    recomputes whole days (deliverability_daily) adds `occurred_at >= ` it to its read of the events: implied
    by the touched days, and a constant DuckDB prunes row groups with. -#}
{% macro lh_first_new_day(relation, watermark) -%}
    {%- if not execute or '__dbt__cte__' in (this | string) or '__dbt__cte__' in (relation | string) -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set found = run_query('select cast(min(cast(occurred_at as date)) as ' ~ dbt.type_string() ~ ') from '
                              ~ relation ~ ' where loaded_at > ' ~ watermark) -%}
    {%- set day = found.columns[0].values()[0] if found and found.rows | length > 0 else none -%}
    {{ return(("cast('" ~ day ~ "' as " ~ dbt.type_timestamp() ~ ")") if day else none) }}
{%- endmacro %}


{#- The policy vars an incremental model's rows depend on, as one text value ('name=value;...') stored in
    its `policy_vars` column. When a run uses other values (`dbt build --vars '{disengagement_sends: 5}'`,
    or a changed default in dbt_project.yml), lh_policy_changed() is true and the model recomputes every
    row instead of the touched ones, so no row is left computed under the old values; the next run with
    the old values again does the same. -#}
{% macro lh_policy_vars(names) -%}
    {%- set parts = [] -%}
    {%- for name in names -%}
        {%- do parts.append(name ~ '=' ~ var(name)) -%}
    {%- endfor -%}
    {{ return(parts | join(';')) }}
{%- endmacro %}

{#- The vars that decide which opens and clicks are machines' (int_engagement_events): every incremental
    model built on that classification lists them too, since a change reclassifies rows it did not touch. -#}
{% macro lh_machine_open_vars() -%}
    {{ return(['machine_open_max_seconds_after_delivery', 'scanner_click_min_links', 'scanner_click_window_seconds']) }}
{%- endmacro %}

{% macro lh_policy_changed(policy, relation=none, column='policy_vars') -%}
    {%- set relation = relation if relation is not none else this -%}
    {%- if not execute or not is_incremental() or '__dbt__cte__' in (relation | string) -%}
        {{ return(false) }}
    {%- endif -%}
    {%- if not lh_has_column(relation, column) -%}
        {{ return(true) }}
    {%- endif -%}
    {%- set stored = run_query('select distinct ' ~ column ~ ' from ' ~ relation).columns[0].values() -%}
    {{ return(stored | reject('equalto', policy) | list | length > 0) }}
{%- endmacro %}


{#- A table built before the column existed (an older version of the model): the model then reads as
    changed, and on_schema_change='fail' stops the run with dbt's own advice to run --full-refresh. -#}
{% macro lh_has_column(relation, column) -%}
    {%- set names = adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list -%}
    {{ return(column | lower in names) }}
{%- endmacro %}


{#- A digest of the rows of some seeds or tables, as text: any changed, added or removed row gives another
    value. An incremental model whose rows depend on such lists stores it (like policy_vars) and
    recomputes every row when it changes. In a dbt unit test the relations are fixture CTEs: 'unit test'. -#}
{% macro lh_rows_digest(relations) -%}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set parts = [] -%}
    {%- for relation in relations -%}
        {%- if '__dbt__cte__' in (relation | string) -%}
            {{ return('unit test') }}
        {%- endif -%}
        {%- do parts.append("select '" ~ relation.identifier ~ "' as seed, cast(r as " ~ dbt.type_string()
                            ~ ") as line from " ~ relation ~ " as r") -%}
    {%- endfor -%}
    {%- set sql -%}
    select md5(string_agg(seed || ':' || line, '|' order by seed, line)) from ({{ parts | join(' union all ') }}) as rules
    {%- endset -%}
    {{ return(run_query(sql).columns[0].values()[0]) }}
{%- endmacro %}

{#- int_bounces_classified's `rules_version`: the digest of the bounce rule seeds, so a changed, added or
    removed rule classifies every bounce again. -#}
{% macro lh_bounce_rules_version() -%}
    {{ return(lh_rows_digest([ref('bounce_reasons'), ref('bounce_status_codes'), ref('bounce_reply_codes'),
                              ref('bounce_wording_rules'), ref('platform_bounce_codes')])) }}
{%- endmacro %}


{#- For a merging incremental model (int_contact_platform_activity, int_contact_activity, campaign_deliverability):
    true for an open or click of int_engagement_events that was landed before the model's watermark but classified
    again since the model took its events, so its stored counts may be wrong and its pair, address or campaign is
    recounted. "Since it took its events" is the newest build time among the int_email_events rows it has taken
    (`loaded_at` up to its watermark): the build that last ran it, or an earlier one, never a later one, so a run
    that failed between int_engagement_events and the model still leaves the reclassified rows to be found. -#}
{% macro lh_reclassified_since_taken(events, watermark) -%}
    (loaded_at <= {{ watermark }}
        and built_at > (select max(built_at) from {{ events }} where loaded_at <= {{ watermark }}))
{%- endmacro %}
