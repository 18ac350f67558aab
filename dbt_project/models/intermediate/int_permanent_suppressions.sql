{#- POLICY "Never": permanent reasons (hard bounce, complaint, unsubscribe) once seen are kept, even if a
    later export no longer shows them. Incremental and insert-only: rows are never updated or deleted
    (a documented manual override or a corrected address is handled by the sync, not by forgetting). -#}
{{ config(materialized='incremental', unique_key=['email', 'reason'], incremental_strategy='append', full_refresh=false) }}

with

reasons as (select * from {{ ref('int_suppression_reasons') }}),

catalog as (select * from {{ ref('suppression_reasons') }}),

permanent as (

    select
        r.email,
        r.reason,
        r.since,
        {{ dbt.current_timestamp() }} as first_recorded_at
    from reasons as r
    inner join catalog as c
        on r.reason = c.reason
    where c.is_permanent
    {% if is_incremental() %}
        and not exists (
            select 1 from {{ this }} as t
            where t.email = r.email
                and t.reason = r.reason
        )
    {% endif %}

)

select * from permanent
