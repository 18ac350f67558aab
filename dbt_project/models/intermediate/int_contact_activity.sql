{#- Per address, across platforms: what contact_health (rule 9), int_soft_bounce_streaks (rule 3) and
    int_spam_trap_risk (rule 10) need from the whole event history, kept as one row per address.

    Incremental (`delete+insert` on email): a run recomputes, from all their events, the addresses that
    gained an event since the newest `loaded_at` here. With var `as_of_date` set it is ephemeral, like
    int_contact_platform_activity (the human engagement it counts from is evaluated as of that date). A run
    with other policy vars than the rows here recomputes every row (policy_vars, macros/incremental.sql). -#}
{{ config(
    materialized=('ephemeral' if var('as_of_date') else 'incremental'),
    incremental_strategy='delete+insert',
    unique_key='email',
    on_schema_change='fail'
) }}

{#- the machine-open vars too: they decide which engagement is human (last_human_engagement_at) -#}
{%- set policy = lh_policy_vars(['disengagement_sends', 'spam_trap_silence_days'] + lh_machine_open_vars()) %}

with

all_events as {{ lh_inline_cte() }} (select * from {{ ref('int_email_events') }}),

platform_activity as {{ lh_inline_cte() }} (select * from {{ ref('int_contact_platform_activity') }}),

all_bounces as {{ lh_inline_cte() }} (select * from {{ ref('int_bounces_classified') }}),

{% if is_incremental() and not lh_policy_changed(policy) %}
touched as (

    select distinct email
    from all_events
    where loaded_at > {{ lh_loaded_watermark() }}

),

events as (

    select e.*
    from all_events as e
    inner join touched as t
        on e.email = t.email

),

activity as (

    select a.*
    from platform_activity as a
    inner join touched as t
        on a.email = t.email

),

bounces as (

    select b.*
    from all_bounces as b
    inner join touched as t
        on b.email = t.email

),
{% else %}
events as (select * from all_events),

activity as (select * from platform_activity),

bounces as (select * from all_bounces),
{% endif %}

per_address as (

    select
        email,
        min(first_event_at) as first_event_at,
        max(last_human_engagement_at) as last_human_engagement_at,
        max(loaded_at) as loaded_at
    from activity
    group by email

),

sends as (

    select email, occurred_at
    from events
    where event_type = 'send'

),

send_counts as (

    select
        r.email,
        count(*) as sends,
        -- the CRM's engagement date that contact_health may use instead predates every event, so it
        -- would count the same sends as no engagement at all
        sum(case when p.last_human_engagement_at is null or r.occurred_at > p.last_human_engagement_at
            then 1 else 0 end) as sends_since_last_engagement,
        -- the time of the N-th latest send (an aggregate, not a window ranking every send)
        {{ lh_nth_largest('r.occurred_at', var('disengagement_sends')) }} as nth_last_send_at
    from sends as r
    inner join per_address as p
        on r.email = p.email
    group by r.email

),

-- rule 3: a delivery, a click or a human-looking open ends a soft-bounce streak
last_success as (

    select
        email,
        max(occurred_at) as last_success_at
    from events
    where event_type in ('delivered', 'click')
        or (event_type = 'open' and not is_machine_open)
    group by email

),

-- rule 10: deliveries, opens and clicks (machine ones too: the mailbox exists) say an address is alive
alive as (

    select email, occurred_at
    from events
    where event_type in ('delivered', 'open', 'click')

),

first_hard_bounce as (

    select email, min(occurred_at) as died_at
    from bounces
    where is_hard
    group by email

),

-- alive again after a hard bounce: the mailbox was re-created, perhaps as a trap
revived_after_bounce as (

    select
        b.email,
        min(a.occurred_at) as revived_at
    from first_hard_bounce as b
    inner join alive as a
        on a.email = b.email
        and a.occurred_at > b.died_at
    group by b.email

),

-- alive again after a long silence
gaps as (

    select
        email,
        occurred_at,
        lag(occurred_at) over (partition by email order by occurred_at) as previous_at
    from alive

),

revived_after_silence as (

    select email, min(occurred_at) as revived_at
    from gaps
    where {{ dbt.datediff('previous_at', 'occurred_at', 'day') }} >= {{ var('spam_trap_silence_days') }}
    group by email

),

final as (

    select
        p.email,
        p.first_event_at,
        coalesce(s.sends, 0) as sends,
        coalesce(s.sends_since_last_engagement, 0) as sends_since_last_engagement,
        s.nth_last_send_at,
        l.last_success_at,
        rb.revived_at as revived_after_hard_bounce_at,
        rs.revived_at as revived_after_silence_at,
        p.loaded_at,
        '{{ policy }}' as policy_vars
    from per_address as p
    left join send_counts as s on p.email = s.email
    left join last_success as l on p.email = l.email
    left join revived_after_bounce as rb on p.email = rb.email
    left join revived_after_silence as rs on p.email = rs.email

)

select * from final
