{#- int_recent_sends keeps each address and platform's latest N sends (N = var disengagement_sends) by
    appending the day's sends and deleting the ones that fell out (docs/scaling.md §3). -#}

{#- Newest first; ties in time go by message id, then landing, then the event's key, so the N kept are
    always the same whatever order the sends arrived in. -#}
{% macro lh_recent_sends_order(alias=none) -%}
    {%- set p = (alias ~ '.') if alias else '' -%}
    {{ p }}occurred_at desc, {{ p }}message_id, {{ p }}loaded_at, {{ p }}event_key
{%- endmacro %}


{#- True when an incremental run must take every send again: the rows here were kept under another
    `disengagement_sends`, or the table has the layout before `event_key` (it stored `send_rank`). In a dbt
    unit test `this` is fixture rows: never. -#}
{% macro lh_recent_sends_reset_needed() -%}
    {%- if not execute or not is_incremental() or '__dbt__cte__' in (this | string) -%}
        {{ return(false) }}
    {%- endif -%}
    {{ return(not lh_has_column(this, 'event_key') or lh_policy_changed(lh_policy_vars(['disengagement_sends']))) }}
{%- endmacro %}


{#- pre-hook: such a run empties the table, then appends every pair's latest N (on_schema_change
    sync_all_columns drops `send_rank` and adds the new columns of an older table). -#}
{% macro lh_recent_sends_reset() -%}
    {%- if lh_recent_sends_reset_needed() -%}
        delete from {{ this }}
    {%- endif -%}
{%- endmacro %}


{#- post-hook: in the pairs this run appended to, delete every send after the N-th latest. Stored rows that
    stay are not touched; on a newsletter day that is one deleted row per pair. When every row is this run's
    (a first build, a full refresh, a run that emptied the table first), the latest N were written already
    and nothing is ranked. -#}
{% macro lh_recent_sends_trim() -%}
    {%- set earlier = run_query('select count(*) from (select 1 from ' ~ this ~ ' where built_at < '
                                ~ lh_built_at() ~ ' limit 1) as earlier') if execute else none -%}
    {%- if earlier and earlier.columns[0].values()[0] > 0 -%}
        delete from {{ this }}
        where event_key in (
            select ranked.event_key
            from (
                select
                    s.event_key,
                    row_number() over (
                        partition by s.email, s.platform order by {{ lh_recent_sends_order('s') }}
                    ) as send_rank
                from {{ this }} as s
                where exists (
                    select 1
                    from {{ this }} as w
                    where w.built_at = {{ lh_built_at() }}
                        and w.email = s.email
                        and w.platform = s.platform
                )
            ) as ranked
            where ranked.send_rank > {{ var('disengagement_sends') }}
        )
    {%- endif -%}
{%- endmacro %}
