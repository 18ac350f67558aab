{#- POLICY rule 21: every change of an address's segment, with the rule that caused it. Incremental:
    each run appends the addresses whose segment differs from their latest recorded one, so the history
    is a record, not a recomputation. `dbt build --full-refresh` starts the record over. -#}
{{ config(materialized='incremental', unique_key=['email', 'valid_from'], full_refresh=false) }}

with

segments as (select * from {{ ref('sunset_segments') }}),

{% if is_incremental() %}
latest as (

    select email, to_segment as segment
    from ({{ lh_first_per(this, 'email', 'valid_from desc, recorded_at desc') }}) as latest_segment

),
{% endif %}

changes as (

    select
        s.email,
        {% if is_incremental() %}l.segment{% else %}cast(null as {{ dbt.type_string() }}){% endif %} as from_segment,
        s.segment as to_segment,
        s.segment_rule as rule,
        s.as_of_at as valid_from
    from segments as s
    {% if is_incremental() %}
    left join latest as l
        on s.email = l.email
    where l.segment is null
        or l.segment <> s.segment
    {% endif %}

),

final as (

    select
        email,
        from_segment,
        to_segment,
        rule,
        valid_from,
        '{{ invocation_id }}' as invocation_id,
        {{ dbt.current_timestamp() }} as recorded_at
    from changes

)

select * from final
