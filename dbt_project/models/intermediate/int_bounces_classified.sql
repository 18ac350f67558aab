-- Classifies every bounce, deferral, drop and complaint into the TAXONOMY.md reason and class.
--
-- The rules are seeds (bounce_*.csv, platform_bounce_codes.csv). Every rule family that applies
-- proposes a reason with a priority; the highest priority wins, ties go to wording, then status
-- code, then platform code, then reply code. The priorities encode the precedence:
--   * wording beats a generic code (many servers say "550 5.1.1" for a full mailbox);
--   * a specific code (x.7.26, x.2.2, x.4.7, ...) beats vague wording ("rejected", "policy");
--   * a platform's specific native code (SES Transient/MailboxFull) beats the text, while its
--     coarse codes (SES Permanent/General) are only a fallback.
--
-- The list-hygiene command line renders and runs this very file on parsed bounce messages (see
-- list_hygiene/bounces/classify.py, which provides ref(), run_query() and execute), so keep the
-- Jinja to those. The SQL stays portable: DuckDB functions that PostgreSQL lacks (regexp_matches,
-- regexp_extract, contains) come from the lh_compat schema there (macros/portability.sql).
--
-- Incremental in dbt (`delete+insert` on event_key): a run classifies the bounce events landed since the
-- newest `loaded_at` here (an event's class depends on the event and the rules only). `rules_version` is a
-- digest of the rule seeds; when it differs from the rows here, every bounce event is classified again,
-- so a changed seed never leaves rows classified by old rules. A change to this SQL needs
-- `dbt build --full-refresh --select int_bounces_classified+`. The command line has no dbt (no config,
-- no is_incremental): there the model classifies every row it is given.
{%- set in_dbt = is_incremental is defined %}
{%- if in_dbt %}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='event_key',
    on_schema_change='fail'
) }}
{%- endif %}
{%- set rules_version = lh_bounce_rules_version() if in_dbt else 'cli' %}
{%- set only_new = in_dbt and this is not none and is_incremental()
    and not lh_policy_changed(rules_version, column='rules_version') %}
{%- set wording_relation = ref('bounce_wording_rules') %}
{%- if execute and '__dbt__cte__' in (wording_relation | string) %}
{#- a dbt unit test mocks ref() with a CTE; the rules themselves are read from the built seed
    (schema as dbt_project.yml configures seeds) #}
{%- set wording_relation = api.Relation.create(
    database=target.database,
    schema=generate_schema_name('seeds', none),
    identifier='bounce_wording_rules'
) %}
{%- endif %}
{%- set wording_rules_query %}
select rule_id, keyword, pattern, skip_status
from {{ wording_relation }}
order by priority desc, rule_id
{%- endset %}
{%- if execute %}
{%- set wording = run_query(wording_rules_query).rows %}
{%- else %}
{%- set wording = [] %}
{%- endif %}

with

events as (
    select * from {{ ref('int_email_events') }}
    where event_type in ('bounce', 'deferred', 'dropped', 'complaint')
    {%- if only_new %}
        and loaded_at > {{ lh_loaded_watermark() }}
    {%- endif %}
),

bounce_reasons as (
    select * from {{ ref('bounce_reasons') }}
),

status_rules as (
    select * from {{ ref('bounce_status_codes') }}
),

reply_rules as (
    select * from {{ ref('bounce_reply_codes') }}
),

wording_rules as (
    select * from {{ ref('bounce_wording_rules') }}
),

platform_rules as (
    select * from {{ ref('platform_bounce_codes') }}
),

normalized as (
    select
        event_key,
        event_type,
        lower(trim(platform)) as platform_lc,
        lower(trim(native_type)) as native_type_lc,
        nullif(lower(trim(native_subtype)), '') as native_subtype_lc,
        -- the text the wording rules read: lower-case; e-mail and IPv4 addresses masked, so that the same
        -- message about different recipients is classified once (addresses never decide a reason); and the
        -- "550-5.7.1 " prefixes of multi-line SMTP replies removed, so phrases split across lines match
        regexp_replace(
            regexp_replace(
                regexp_replace(lower(coalesce(diagnostic, '')), '[a-z0-9._%+=-]+@[a-z0-9-]+(\.[a-z0-9-]+)+', 'x@x.x', 'g'),
                '[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}',
                '0.0.0.0',
                'g'
            ),
            ' [245][0-9][0-9][ -][245]\.[0-9]{1,3}\.[0-9]{1,3} ',
            ' ',
            'g'
        ) as diagnostic_lc,
        -- the enhanced status code: the column if it holds one, else the first error code in the text
        -- (4.x.x / 5.x.x; a 2.x.x only when there is no error code)
        coalesce(
            nullif(regexp_extract(status_code, '([245]\.[0-9]{1,3}\.[0-9]{1,3})', 1), ''),
            nullif(regexp_extract(diagnostic, '(?:^|[^0-9.])([45]\.[0-9]{1,3}\.[0-9]{1,3})(?:[^0-9.]|$)', 1), ''),
            nullif(regexp_extract(diagnostic, '(?:^|[^0-9.])(2\.[0-9]{1,3}\.[0-9]{1,3})(?:[^0-9.]|$)', 1), '')
        ) as status_norm,
        -- the SMTP reply code: the column if it holds one, else the first error reply in the text
        coalesce(
            nullif(regexp_extract(reply_code, '([245][0-9][0-9])', 1), ''),
            nullif(regexp_extract(diagnostic, '(?:^|[^0-9.#:/])([45][0-5][0-9])(?:[ -]|$)', 1), ''),
            nullif(regexp_extract(diagnostic, '(?:^|[^0-9.#:/])(2[0-5][0-9])(?:[ -]|$)', 1), '')
        ) as reply_norm
    from events
),

-- everything the rules read; classified once per distinct combination, not once per event
signatures as (
    select distinct
        event_type,
        platform_lc,
        native_type_lc,
        native_subtype_lc,
        diagnostic_lc,
        status_norm,
        reply_norm
    from normalized
),

-- materialized: the id is a row number, so every reference below must see the same numbering
signature_ids as materialized (
    select
        *,
        row_number() over () as signature_id
    from signatures
),

-- wording: only the best wording rule of a text matters, so one CASE tries the rules in priority
-- order and stops at the first match. The patterns are written into the SQL as constants (read from
-- the seed when the model compiles) because DuckDB compiles a regex given as a column again for
-- every row, far too slow for millions of bounces; a constant compiles once. The keyword pre-filter
-- (contains) skips the regex for texts that cannot match.
wording_hits as (
    select
        signature_id,
        {%- if wording %}
        case
            {%- for rule in wording %}
            when (
                {%- for keyword in rule[1].split('|') %}
                {% if not loop.first %}or {% endif %}contains(diagnostic_lc, '{{ keyword | replace("'", "''") }}')
                {%- endfor %}
            )
            and regexp_matches(diagnostic_lc, '{{ rule[2] | replace("'", "''") }}')
            {%- if rule[3] %}
            and not regexp_matches(coalesce(status_norm, ''), '{{ rule[3] | replace("'", "''") }}')
            {%- endif %}
                then '{{ rule[0] }}'
            {%- endfor %}
        end
        {%- else %}
        cast(null as varchar)
        {%- endif %} as rule_id
    from signature_ids
    where diagnostic_lc <> ''
),

wording_candidates as (
    select
        wording_hits.signature_id,
        wording_rules.reason,
        wording_rules.priority,
        'wording' as classified_by,
        1 as family_rank,
        wording_rules.rule_id
    from wording_hits
    inner join wording_rules
        on wording_hits.rule_id = wording_rules.rule_id
),

status_candidates as (
    select
        signature_ids.signature_id,
        status_rules.reason,
        status_rules.priority,
        'status_code' as classified_by,
        2 as family_rank,
        'status:' || status_rules.status_code as rule_id
    from signature_ids
    inner join status_rules
        on status_rules.status_code = signature_ids.status_norm
        or status_rules.status_code = 'x' || substr(signature_ids.status_norm, 2)
        or status_rules.status_code = substr(signature_ids.status_norm, 1, 1) || '.x.x'
),

platform_candidates as (
    select
        signature_ids.signature_id,
        platform_rules.reason,
        platform_rules.priority,
        'platform_code' as classified_by,
        3 as family_rank,
        'platform:' || platform_rules.platform || ':' || platform_rules.native_type
        || coalesce(':' || nullif(platform_rules.native_subtype, ''), '') as rule_id
    from signature_ids
    inner join platform_rules
        on platform_rules.platform = signature_ids.platform_lc
        and platform_rules.native_type = signature_ids.native_type_lc
        and (
            nullif(platform_rules.native_subtype, '') is null
            or platform_rules.native_subtype = signature_ids.native_subtype_lc
        )
),

-- a complaint event is a complaint whatever its text says
complaint_candidates as (
    select
        signature_id,
        'feedback' as reason,
        1000 as priority,
        'platform_code' as classified_by,
        0 as family_rank,
        'event_type:complaint' as rule_id
    from signature_ids
    where event_type = 'complaint'
),

reply_candidates as (
    select
        signature_ids.signature_id,
        reply_rules.reason,
        reply_rules.priority,
        'reply_code' as classified_by,
        4 as family_rank,
        'reply:' || reply_rules.reply_code as rule_id
    from signature_ids
    inner join reply_rules
        on reply_rules.reply_code = signature_ids.reply_norm
),

candidates as (
    select * from wording_candidates
    union all
    select * from status_candidates
    union all
    select * from platform_candidates
    union all
    select * from complaint_candidates
    union all
    select * from reply_candidates
),

ranked as (
    select
        *,
        row_number() over (
            partition by signature_id
            order by priority desc, family_rank, rule_id
        ) as candidate_rank
    from candidates
),

winners as (
    select *
    from ranked
    where candidate_rank = 1
),

decided as (
    select
        signature_ids.*,
        -- nothing matched: onhold when there was something to read, undefined when there was nothing
        coalesce(
            winners.reason,
            case
                when signature_ids.status_norm is null and signature_ids.reply_norm is null and signature_ids.diagnostic_lc = ''
                    then 'undefined'
                else 'onhold'
            end
        ) as reason,
        coalesce(winners.classified_by, 'default') as classified_by,
        coalesce(winners.rule_id, 'default') as rule_id
    from signature_ids
    left join winners
        on signature_ids.signature_id = winners.signature_id
),

classified as (
    select
        decided.*,
        bounce_reasons.bounce_class,
        -- notaccept is hard only when the failure is permanent (RFC 7505 null MX vs a 4xx refusal); with
        -- no code at all nothing says it is transient (coalesce: a null comparison must not make it not hard)
        bounce_reasons.is_hard
        and not coalesce(
            bounce_reasons.hard_only_when_permanent
            and (
                decided.event_type = 'deferred'
                or decided.status_norm like '4.%'
                or (decided.status_norm is null and decided.reply_norm like '4%')
            ),
            false
        ) as is_hard
    from decided
    inner join bounce_reasons
        on decided.reason = bounce_reasons.reason
),

final as (
    select
        events.*,
        classified.reason,
        classified.bounce_class,
        classified.is_hard,
        classified.classified_by,
        classified.rule_id,
        '{{ rules_version }}' as rules_version
    from events
    inner join normalized
        on events.event_key = normalized.event_key
    -- null-safe equality written with coalesce so that every warehouse can hash-join on it
    inner join classified
        on coalesce(normalized.event_type, '') = coalesce(classified.event_type, '')
        and coalesce(normalized.platform_lc, '') = coalesce(classified.platform_lc, '')
        and coalesce(normalized.native_type_lc, '') = coalesce(classified.native_type_lc, '')
        and coalesce(normalized.native_subtype_lc, '') = coalesce(classified.native_subtype_lc, '')
        and normalized.diagnostic_lc = classified.diagnostic_lc
        and coalesce(normalized.status_norm, '') = coalesce(classified.status_norm, '')
        and coalesce(normalized.reply_norm, '') = coalesce(classified.reply_norm, '')
)

select * from final
