{#- Per address, across platforms: what contact_health (rule 9), int_soft_bounce_streaks (rule 3) and
    int_spam_trap_risk (rule 10) need from the whole event history, kept as one row per address.

    Incremental (`delete+insert` on email). An address that gained events since the newest `loaded_at` here
    adds them to its stored row: the latest success and the stored revival times stand (the new events are
    later), a revival not yet seen can only be a new event, and the sends since the latest human engagement
    go on, or count only the new sends after a new engagement. Counts, first times and the latest human
    engagement come from int_contact_platform_activity and the N-th latest send from int_recent_sends, as
    they are now. That holds while the new events all happened at or after the address's latest stored
    event (`last_event_at`); an address with an older new event (landed late), or with an open or click
    landed earlier that int_engagement_events classified again since this table took its events, is
    recounted from all its events instead. A table built before `last_event_at` existed gets the new
    columns and every row computed anew on its next run. With var `as_of_date` set
    it is ephemeral, like int_contact_platform_activity (the human engagement it counts from is evaluated as
    of that date). A run with other policy vars than the rows here recomputes every row (policy_vars,
    macros/incremental.sql). -#}
{{ config(
    materialized=('ephemeral' if var('as_of_date') else 'incremental'),
    incremental_strategy='delete+insert',
    unique_key='email',
    on_schema_change='append_new_columns'
) }}

{#- the machine-open vars too: they decide which engagement is human (last_human_engagement_at) -#}
{%- set policy = lh_policy_vars(['disengagement_sends', 'spam_trap_silence_days'] + lh_machine_open_vars()) %}
{#- a table from before last_event_at existed gets the new columns (append_new_columns) and every row anew -#}
{%- set merge = is_incremental() and not lh_policy_changed(policy)
    and ('__dbt__cte__' in (this | string) or lh_has_column(this, 'last_event_at')) %}

with

all_events as {{ lh_inline_cte() }} (select * from {{ ref('int_email_events') }}),

platform_activity as {{ lh_inline_cte() }} (select * from {{ ref('int_contact_platform_activity') }}),

recent_sends as {{ lh_inline_cte() }} (select * from {{ ref('int_recent_sends') }}),

all_bounces as {{ lh_inline_cte() }} (select * from {{ ref('int_bounces_classified') }}),

all_engagement as {{ lh_inline_cte() }} (select * from {{ ref('int_engagement_events') }}),

{% if merge %}
{%- set watermark = lh_loaded_watermark() %}
new_events as {{ lh_inline_cte() }} (

    select *
    from all_events
    where loaded_at > {{ watermark }}

),

stored as {{ lh_inline_cte() }} (select * from {{ this }}),

-- the addresses recounted from all their events: a new event older than the latest stored one, or an open
-- or click landed earlier and classified again since this table took its events (the newest build time
-- among the events it has taken)
recount as (

    select n.email
    from new_events as n
    inner join stored as s
        on n.email = s.email
    where n.occurred_at < s.last_event_at

    union

    select email
    from all_engagement
    where loaded_at <= {{ watermark }}
        and built_at > (select max(built_at) from all_events where loaded_at <= {{ watermark }})

),

written as (

    select distinct email from new_events

    union

    select email from recount

),

events as (

    select e.*
    from all_events as e
    inner join recount as r
        on e.email = r.email

),

activity as (

    select a.*
    from platform_activity as a
    inner join written as w
        on a.email = w.email

),

recent as (

    select s.*
    from recent_sends as s
    inner join written as w
        on s.email = w.email

),

bounces as (

    select b.*
    from all_bounces as b
    inner join written as w
        on b.email = w.email

),
{% else %}
events as (select * from all_events),

activity as (select * from platform_activity),

recent as (select * from recent_sends),

bounces as (select * from all_bounces),
{% endif %}

per_address as (

    select
        email,
        min(first_event_at) as first_event_at,
        max(last_event_at) as last_event_at,
        sum(sends) as sends,
        max(last_human_engagement_at) as last_human_engagement_at,
        max(loaded_at) as loaded_at
    from activity
    group by email

),

-- the time of the N-th latest send: the N-th latest of each platform's last N sends (an aggregate)
nth_sends as (

    select
        email,
        {{ lh_nth_largest('occurred_at', var('disengagement_sends')) }} as nth_last_send_at
    from recent
    group by email

),

first_hard_bounce as (

    select email, min(occurred_at) as died_at
    from bounces
    where is_hard
    group by email

),

{#- every address's row from all its events: all addresses, or on a merging run the recounted ones -#}
sends_since as (

    select
        e.email,
        -- the CRM's engagement date that contact_health may use instead predates every event, so it
        -- would count the same sends as no engagement at all
        count(*) as sends_since_last_engagement
    from events as e
    inner join per_address as p
        on e.email = p.email
    where e.event_type = 'send'
        and (p.last_human_engagement_at is null or e.occurred_at > p.last_human_engagement_at)
    group by e.email

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

last_alive as (

    select email, max(occurred_at) as last_alive_at
    from alive
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

counted as (

    select
        p.email,
        coalesce(s.sends_since_last_engagement, 0) as sends_since_last_engagement,
        l.last_success_at,
        rb.revived_at as revived_after_hard_bounce_at,
        rs.revived_at as revived_after_silence_at,
        la.last_alive_at
    from per_address as p
    {%- if merge %}
    inner join recount as r on p.email = r.email
    {%- endif %}
    left join sends_since as s on p.email = s.email
    left join last_success as l on p.email = l.email
    left join revived_after_bounce as rb on p.email = rb.email
    left join revived_after_silence as rs on p.email = rs.email
    left join last_alive as la on p.email = la.email

),
{% if merge %}

{#- the other addresses with new events: the stored row plus the new events, which all happened at or
    after the stored ones -#}
fresh as {{ lh_inline_cte() }} (

    select n.*
    from new_events as n
    where not exists (select 1 from recount as r where r.email = n.email)

),

fresh_alive as {{ lh_inline_cte() }} (

    select email, occurred_at
    from fresh
    where event_type in ('delivered', 'open', 'click')

),

fresh_stats as (

    select
        email,
        max(case when event_type in ('delivered', 'click') or (event_type = 'open' and not is_machine_open)
            then occurred_at end) as last_success_at,
        max(case when event_type in ('delivered', 'open', 'click') then occurred_at end) as last_alive_at
    from fresh
    group by email

),

-- a new human engagement: only the new sends after it count (every stored send is older)
fresh_engaged as (

    select distinct g.email
    from all_engagement as g
    where g.loaded_at > {{ watermark }}
        and g.is_human

),

fresh_sends_since as (

    select n.email, count(*) as sends
    from fresh as n
    inner join per_address as p
        on n.email = p.email
    where n.event_type = 'send'
        and (p.last_human_engagement_at is null or n.occurred_at > p.last_human_engagement_at)
    group by n.email

),

-- the first new sign of life after the first hard bounce, when the stored row has none yet
fresh_revived_after_bounce as (

    select a.email, min(a.occurred_at) as revived_at
    from fresh_alive as a
    inner join first_hard_bounce as b
        on a.email = b.email
        and a.occurred_at > b.died_at
    group by a.email

),

-- the first new sign of life after a long silence, the stored last one included
fresh_gaps as (

    select
        a.email,
        a.occurred_at,
        coalesce(
            lag(a.occurred_at) over (partition by a.email order by a.occurred_at),
            max(s.last_alive_at) over (partition by a.email)
        ) as previous_at
    from fresh_alive as a
    left join stored as s
        on a.email = s.email

),

fresh_revived_after_silence as (

    select email, min(occurred_at) as revived_at
    from fresh_gaps
    where {{ dbt.datediff('previous_at', 'occurred_at', 'day') }} >= {{ var('spam_trap_silence_days') }}
    group by email

),

merged as (

    select
        f.email,
        case when g.email is null then coalesce(s.sends_since_last_engagement, 0) else 0 end
            + coalesce(ss.sends, 0) as sends_since_last_engagement,
        coalesce(f.last_success_at, s.last_success_at) as last_success_at,
        coalesce(s.revived_after_hard_bounce_at, rb.revived_at) as revived_after_hard_bounce_at,
        coalesce(s.revived_after_silence_at, rs.revived_at) as revived_after_silence_at,
        coalesce(f.last_alive_at, s.last_alive_at) as last_alive_at
    from fresh_stats as f
    left join stored as s on f.email = s.email
    left join fresh_engaged as g on f.email = g.email
    left join fresh_sends_since as ss on f.email = ss.email
    left join fresh_revived_after_bounce as rb on f.email = rb.email
    left join fresh_revived_after_silence as rs on f.email = rs.email

),
{% endif %}

summed as (

    select * from counted
    {%- if merge %}

    union all

    select * from merged
    {%- endif %}

),

final as (

    select
        p.email,
        p.first_event_at,
        coalesce(p.sends, 0) as sends,
        c.sends_since_last_engagement,
        n.nth_last_send_at,
        c.last_success_at,
        c.revived_after_hard_bounce_at,
        c.revived_after_silence_at,
        p.last_event_at,
        c.last_alive_at,
        p.loaded_at,
        '{{ policy }}' as policy_vars
    from summed as c
    inner join per_address as p on c.email = p.email
    left join nth_sends as n on c.email = n.email

)

select * from final
