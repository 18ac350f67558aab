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
-- or click landed earlier and classified again since this table took its events
recount as (

    select n.email
    from new_events as n
    inner join stored as s
        on n.email = s.email
    where n.occurred_at < s.last_event_at

    union

    select email
    from all_engagement
    where {{ lh_reclassified_since_taken('all_events', watermark) }}

),

written as (

    select distinct email from new_events

    union

    select email from recount

),

-- the events this run reads: every event of a recounted address, the new ones of the others
events as (

    select e.*
    from all_events as e
    inner join recount as r
        on e.email = r.email

    union all

    select n.*
    from new_events as n
    where not exists (select 1 from recount as r where r.email = n.email)

),

-- the stored rows the new events are added to (a recounted address has none)
kept as (

    select s.*
    from stored as s
    inner join written as w
        on s.email = w.email
    where not exists (select 1 from recount as r where r.email = s.email)

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

-- the time of the N-th latest send: the N-th latest of each platform's last N sends (an aggregate; stored
-- before the rest runs, see lh_materialized_cte)
nth_sends as {{ lh_materialized_cte() }} (

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

{#- over the events this run reads; on a merging run `final` adds the stored rows they continue -#}
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

-- alive again after a long silence (measured from the stored latest sign of life too: it is never revived
-- itself, nothing precedes it here)
gaps as (

    select
        email,
        occurred_at,
        lag(occurred_at) over (partition by email order by occurred_at) as previous_at
    from (
        select email, occurred_at from alive
        {%- if merge %}

        union all

        select email, last_alive_at from kept where last_alive_at is not null
        {%- endif %}
    ) as signs

),

revived_after_silence as (

    select email, min(occurred_at) as revived_at
    from gaps
    where {{ dbt.datediff('previous_at', 'occurred_at', 'day') }} >= {{ var('spam_trap_silence_days') }}
    group by email

),
{% if merge %}

-- a new human engagement: only the sends after it count, and every stored send is older
newly_engaged as (

    select distinct g.email
    from all_engagement as g
    where g.loaded_at > {{ watermark }}
        and g.is_human

),
{% endif %}

final as (

    select
        p.email,
        p.first_event_at,
        coalesce(p.sends, 0) as sends,
        {%- if merge %}
        case when g.email is null then coalesce(k.sends_since_last_engagement, 0) else 0 end
            + coalesce(ss.sends_since_last_engagement, 0) as sends_since_last_engagement,
        {%- else %}
        coalesce(ss.sends_since_last_engagement, 0) as sends_since_last_engagement,
        {%- endif %}
        n.nth_last_send_at,
        {%- if merge %}
        -- the new events are later than the kept row's: its latest times give way, its first revivals stand
        coalesce(l.last_success_at, k.last_success_at) as last_success_at,
        coalesce(k.revived_after_hard_bounce_at, rb.revived_at) as revived_after_hard_bounce_at,
        coalesce(k.revived_after_silence_at, rs.revived_at) as revived_after_silence_at,
        p.last_event_at,
        coalesce(la.last_alive_at, k.last_alive_at) as last_alive_at,
        {%- else %}
        l.last_success_at,
        rb.revived_at as revived_after_hard_bounce_at,
        rs.revived_at as revived_after_silence_at,
        p.last_event_at,
        la.last_alive_at,
        {%- endif %}
        p.loaded_at,
        '{{ policy }}' as policy_vars
    from per_address as p
    left join nth_sends as n on p.email = n.email
    left join sends_since as ss on p.email = ss.email
    left join last_success as l on p.email = l.email
    left join revived_after_bounce as rb on p.email = rb.email
    left join revived_after_silence as rs on p.email = rs.email
    left join last_alive as la on p.email = la.email
    {%- if merge %}
    left join kept as k on p.email = k.email
    left join newly_engaged as g on p.email = g.email
    {%- endif %}

)

select * from final
