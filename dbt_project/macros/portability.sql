{#- Portability helpers (issue 8): what the models need beyond dbt's cross-database macros so the same
    project builds on DuckDB and on PostgreSQL (and, through the default__ versions, on warehouses
    that speak QUALIFY, such as Snowflake, BigQuery and Databricks). -#}


{#- One row per `partition_by`: the first by `order_by` (a dedupe). DuckDB, Snowflake, BigQuery and
    Databricks have QUALIFY; PostgreSQL has DISTINCT ON, which keeps the same row and adds no column.
    `relation` is a CTE name or a relation; `order_by` must make the choice deterministic.

        latest as (
            {{ lh_first_per('renamed', 'hubspot_contact_id',
                            'modified_at desc nulls last, loaded_at desc, source_file desc, source_row desc') }}
        )
-#}
{% macro lh_first_per(relation, partition_by, order_by) -%}
    {{ return(adapter.dispatch('lh_first_per', 'list_hygiene')(relation, partition_by, order_by)) }}
{%- endmacro %}

{% macro default__lh_first_per(relation, partition_by, order_by) -%}
    select *
    from {{ relation }}
    qualify row_number() over (partition by {{ partition_by }} order by {{ order_by }}) = 1
{%- endmacro %}

{% macro postgres__lh_first_per(relation, partition_by, order_by) -%}
    select distinct on ({{ partition_by }}) *
    from {{ relation }}
    order by {{ partition_by }}, {{ order_by }}
{%- endmacro %}


{#- Seconds between two timestamps as a number with fractions (dbt.datediff(..., 'second') counts
    whole second boundaries on some warehouses). -#}
{% macro lh_seconds_between(start_ts, end_ts) -%}
    {{ return(adapter.dispatch('lh_seconds_between', 'list_hygiene')(start_ts, end_ts)) }}
{%- endmacro %}
{% macro default__lh_seconds_between(start_ts, end_ts) -%}
    (extract(epoch from ({{ end_ts }})) - extract(epoch from ({{ start_ts }})))
{%- endmacro %}
{% macro duckdb__lh_seconds_between(start_ts, end_ts) -%}
    (epoch_us(cast({{ end_ts }} as timestamp)) - epoch_us(cast({{ start_ts }} as timestamp))) / 1000000.0
{%- endmacro %}


{#- The n-th largest non-null value of a group (an aggregate; NULL when the group has fewer). DuckDB keeps the n
    largest in each group's state: at 1 M contacts the 5th-latest send per address took 1.1 s this way against
    3.3 s for a row_number() window over every send (docs/scaling.md §1). -#}
{% macro lh_nth_largest(column, n) -%}
    {{ return(adapter.dispatch('lh_nth_largest', 'list_hygiene')(column, n)) }}
{%- endmacro %}
{% macro default__lh_nth_largest(column, n) -%}
    (array_agg({{ column }} order by {{ column }} desc) filter (where {{ column }} is not null))[{{ n }}]
{%- endmacro %}
{% macro duckdb__lh_nth_largest(column, n) -%}
    max({{ column }}, {{ n }})[{{ n }}]
{%- endmacro %}


{#- Split text on a delimiter into rows (one per part). -#}
{% macro lh_split_to_rows(column, delimiter) -%}
    {{ return(adapter.dispatch('lh_split_to_rows', 'list_hygiene')(column, delimiter)) }}
{%- endmacro %}
{% macro default__lh_split_to_rows(column, delimiter) -%}
    unnest(string_to_array({{ column }}, '{{ delimiter }}'))
{%- endmacro %}


{#- int_bounces_classified.sql must stay plain SQL with ref() calls only: `list-hygiene classify` runs
    that very file in DuckDB without dbt (list_hygiene/bounces/classify.py). So on PostgreSQL the
    DuckDB functions it calls are provided, with DuckDB's meaning, in schema `lh_compat`, and the
    profile puts that schema first on the search path (`search_path: lh_compat,pg_catalog,public`):

        regexp_matches(text, pattern [, 'i'])  -> boolean, a match anywhere (not PostgreSQL's set-returning one)
        regexp_extract(text, pattern, group)   -> text, '' when nothing matches (DuckDB's contract)
        regexp_full_match(text, pattern)       -> boolean
        contains(text, part)                   -> boolean
        string_split(text, delimiter)          -> text[]
        round(double precision, digits)        -> double precision (PostgreSQL rounds only numeric to digits)
        damerau_levenshtein(text, text)        -> integer, adjacent transpositions count 1 (as DuckDB's)
        levenshtein(text, text)                -> the fuzzystrmatch extension's, when it can be installed
        range([start,] stop)                   -> setof integers start .. stop - 1 (unit-test `given` SQL uses it)
        to_days / to_hours / to_minutes / to_seconds(n) -> interval

    Patterns are RE2 (DuckDB); PostgreSQL's are ARE. They agree on everything the seeds use except
    `\b`, which is a word boundary in RE2 and a backspace in ARE: the functions rewrite it to `\y`.

    Installed by `on-run-start: "{{ lh_install_compat_functions() }}"`; a no-op on DuckDB. -#}
{% macro lh_install_compat_functions() -%}
    {{ return(adapter.dispatch('lh_install_compat_functions', 'list_hygiene')()) }}
{%- endmacro %}

{% macro default__lh_install_compat_functions() -%}
    select 1
{%- endmacro %}

{% macro postgres__lh_install_compat_functions() -%}
    create schema if not exists lh_compat;

    create or replace function lh_compat.lh_re2_to_are(pattern text) returns text
        language sql immutable parallel safe
        as $lh$ select replace(pattern, '\b', '\y') $lh$;

    create or replace function lh_compat.regexp_matches(s text, pattern text) returns boolean
        language sql immutable parallel safe
        as $lh$ select s ~ lh_compat.lh_re2_to_are(pattern) $lh$;

    create or replace function lh_compat.regexp_matches(s text, pattern text, options text) returns boolean
        language sql immutable parallel safe
        as $lh$ select case when position('i' in options) > 0
                            then s ~* lh_compat.lh_re2_to_are(pattern)
                            else s ~ lh_compat.lh_re2_to_are(pattern) end $lh$;

    create or replace function lh_compat.regexp_full_match(s text, pattern text) returns boolean
        language sql immutable parallel safe
        as $lh$ select s ~ ('^(?:' || lh_compat.lh_re2_to_are(pattern) || ')$') $lh$;

    create or replace function lh_compat.regexp_extract(s text, pattern text, grp integer default 0) returns text
        language sql immutable parallel safe
        as $lh$ select case
            when s is null or pattern is null then null
            when grp = 0 then coalesce(substring(s from '(' || lh_compat.lh_re2_to_are(pattern) || ')'), '')
            else coalesce((regexp_match(s, lh_compat.lh_re2_to_are(pattern)))[grp], '')
        end $lh$;

    create or replace function lh_compat.contains(s text, part text) returns boolean
        language sql immutable parallel safe
        as $lh$ select strpos(s, part) > 0 $lh$;

    create or replace function lh_compat.string_split(s text, delimiter text) returns text[]
        language sql immutable parallel safe
        as $lh$ select string_to_array(s, delimiter) $lh$;

    create or replace function lh_compat.round(x double precision, digits integer) returns double precision
        language sql immutable parallel safe
        as $lh$ select round(cast(x as numeric), digits)::double precision $lh$;

    create or replace function lh_compat.range(start bigint, stop bigint) returns setof bigint
        language sql immutable parallel safe
        as $lh$ select generate_series(start, stop - 1) $lh$;

    create or replace function lh_compat.range(stop bigint) returns setof bigint
        language sql immutable parallel safe
        as $lh$ select generate_series(0, stop - 1) $lh$;

    {% for unit in ['days', 'hours', 'minutes', 'seconds'] %}
    create or replace function lh_compat.to_{{ unit }}(n double precision) returns interval
        language sql immutable parallel safe
        as $lh$ select n * interval '1 {{ unit }}' $lh$;
    {% endfor %}

    -- optimal string alignment distance: DuckDB's damerau_levenshtein
    create or replace function lh_compat.damerau_levenshtein(a text, b text) returns integer
        language plpgsql immutable parallel safe
        as $lh$
        declare
            la int := char_length(a);
            lb int := char_length(b);
            d int[];
            w int := lb + 1;
            cost int;
        begin
            if a is null or b is null then return null; end if;
            if la = 0 then return lb; end if;
            if lb = 0 then return la; end if;
            d := array_fill(0, array[(la + 1) * w]);
            for i in 0..la loop d[i * w + 1] := i; end loop;
            for j in 0..lb loop d[j + 1] := j; end loop;
            for i in 1..la loop
                for j in 1..lb loop
                    cost := case when substr(a, i, 1) = substr(b, j, 1) then 0 else 1 end;
                    d[i * w + j + 1] := least(d[(i - 1) * w + j + 1] + 1, d[i * w + j] + 1, d[(i - 1) * w + j] + cost);
                    if i > 1 and j > 1 and substr(a, i, 1) = substr(b, j - 1, 1) and substr(a, i - 1, 1) = substr(b, j, 1) then
                        d[i * w + j + 1] := least(d[i * w + j + 1], d[(i - 2) * w + j - 1] + 1);
                    end if;
                end loop;
            end loop;
            return d[la * w + lb + 1];
        end
        $lh$;

    -- levenshtein(): fuzzystrmatch is a trusted extension (PostgreSQL 13+), so the database owner may add it
    do $lh$
    begin
        create extension if not exists fuzzystrmatch schema lh_compat;
    exception when others then
        raise notice 'fuzzystrmatch not installed (%): levenshtein() is unavailable', sqlerrm;
    end
    $lh$;
{%- endmacro %}


{#- One row per `key`, the first by `order_by`, from `relation` (a relation or a view, not a CTE: it is read
    more than once) filtered by `where`: `lh_first_per` for big inputs in which a key rarely repeats (event
    streams, where only retried deliveries share a key).

    On DuckDB a window over every row sorts all of them, all their columns included: at 1 M contacts
    (21 M event rows) that was 16 GB spilled and half of int_email_events' build. Here the keys that occur
    more than once are found first (a hash aggregate over the key alone); rows with any other key pass
    through untouched, and only the rows of repeated keys are ranked. A hash collision only sends a few more
    rows to the ranking; the ranking itself goes by the key. -#}
{% macro lh_first_per_key(relation, key, order_by, where=none) -%}
    {{ return(adapter.dispatch('lh_first_per_key', 'list_hygiene')(relation, key, order_by, where)) }}
{%- endmacro %}

{% macro default__lh_first_per_key(relation, key, order_by, where) -%}
    {%- set rows_in -%}
    (select * from {{ relation }}{% if where %} where {{ where }}{% endif %}) as rows_in
    {%- endset -%}
    {{ lh_first_per(rows_in, key, order_by) }}
{%- endmacro %}

{% macro duckdb__lh_first_per_key(relation, key, order_by, where) -%}
    {%- set and_where = '(' ~ where ~ ') and ' if where else '' -%}
    with repeated_keys as (
        select hash({{ key }}) as key_hash
        from {{ relation }}
        {%- if where %}
        where {{ where }}
        {%- endif %}
        group by 1
        having count(*) > 1
    )

    select *
    from {{ relation }}
    where {{ and_where }}hash({{ key }}) not in (select key_hash from repeated_keys)

    union all

    select *
    from (
        select *
        from {{ relation }}
        where {{ and_where }}hash({{ key }}) in (select key_hash from repeated_keys)
        qualify row_number() over (partition by {{ key }} order by {{ order_by }}) = 1
    ) as repeated_rows
{%- endmacro %}


{#- `not materialized`, for a CTE that is read more than once and is cheap to read again: an import CTE
    (`select * from {{ ref(...) }}`) or a plain filter of one. DuckDB 2.0 stores a CTE with several
    consumers whole before any of them runs, every column of every row, whatever each consumer needs; at
    1 M contacts int_engagement_events' 11.6 M-row `scoped` CTE wrote 8.6 GB under the 3 GB memory limit.
    Inlined, each consumer scans only the columns and row groups it needs. Do not inline a CTE that does
    real work (a window, a join, a regex): that work would be done once per consumer. PostgreSQL (12+)
    has the same hint; other warehouses get nothing and their planners decide. -#}
{% macro lh_inline_cte() -%}
    {{ return(adapter.dispatch('lh_inline_cte', 'list_hygiene')()) }}
{%- endmacro %}
{% macro default__lh_inline_cte() -%}{%- endmacro %}
{% macro duckdb__lh_inline_cte() -%}not materialized{%- endmacro %}
{% macro postgres__lh_inline_cte() -%}not materialized{%- endmacro %}


{#- `materialized`, for a CTE that does real work and whose consumers DuckDB 2.0 would otherwise run beside each
    other (its "fan-out" mode): int_contact_activity's N-th latest send (an aggregate keeping a list per address)
    ran beside the window over the signs of life and spilled 2.7 GB under the 3 GB cap on a next day at 1 M
    contacts, 4.2 s against 1.2 s stored first. PostgreSQL has the same hint. -#}
{% macro lh_materialized_cte() -%}
    {{ return(adapter.dispatch('lh_materialized_cte', 'list_hygiene')()) }}
{%- endmacro %}
{% macro default__lh_materialized_cte() -%}{%- endmacro %}
{% macro duckdb__lh_materialized_cte() -%}materialized{%- endmacro %}
{% macro postgres__lh_materialized_cte() -%}materialized{%- endmacro %}


{#- DuckDB's memory cap for this dbt run only, from LIST_HYGIENE_DBT_RUN_MEMORY_LIMIT (the quality gate sets it
    while its GX process runs beside the dbt tests; quality/gate.py). Run as an on-run-start hook: the setting
    is the database's, so every thread's queries get it. Read at run time, not from the profile: a profile
    that renders differently from the last run's makes dbt parse the whole project again (4 s at every gate,
    and again at the next build). Unset, or on another warehouse, nothing changes. -#}
{% macro lh_session_memory_limit() -%}
    {%- set limit = env_var('LIST_HYGIENE_DBT_RUN_MEMORY_LIMIT', '') | trim -%}
    {%- if target.type == 'duckdb' and limit -%}
        set memory_limit = '{{ limit | replace("'", "''") }}'
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}


{#- Whether two values are the same, two nulls included (`is not distinct from`, spelled out for every
    warehouse). -#}
{% macro lh_same(left, right) -%}
    ({{ left }} = {{ right }} or ({{ left }} is null and {{ right }} is null))
{%- endmacro %}
