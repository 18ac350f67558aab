{#- Address and SMTP text helpers, dispatched so the models also run on PostgreSQL. -#}

{% macro lh_normalize_email(column) -%}
    nullif(lower(trim({{ column }})), '')
{%- endmacro %}

{% macro lh_email_domain(column) -%}
    {{ return(adapter.dispatch('lh_email_domain', 'list_hygiene')(column)) }}
{%- endmacro %}
{% macro default__lh_email_domain(column) -%}
    nullif(split_part({{ column }}, '@', 2), '')
{%- endmacro %}

{#- first capture group of a regex, or null -#}
{% macro lh_regex_extract(column, pattern) -%}
    {{ return(adapter.dispatch('lh_regex_extract', 'list_hygiene')(column, pattern)) }}
{%- endmacro %}
{% macro duckdb__lh_regex_extract(column, pattern) -%}
    nullif(regexp_extract({{ column }}, '{{ pattern }}', 1), '')
{%- endmacro %}
{% macro postgres__lh_regex_extract(column, pattern) -%}
    {#- RE2's \b (word boundary) is \y in PostgreSQL's regex dialect (\b is a backspace there) -#}
    substring({{ column }} from '{{ pattern | replace('\\b', '\\y') }}')
{%- endmacro %}

{% macro lh_regex_matches(column, pattern_column) -%}
    {{ return(adapter.dispatch('lh_regex_matches', 'list_hygiene')(column, pattern_column)) }}
{%- endmacro %}
{% macro duckdb__lh_regex_matches(column, pattern_column) -%}
    regexp_matches({{ column }}, {{ pattern_column }}, 'i')
{%- endmacro %}
{% macro postgres__lh_regex_matches(column, pattern_column) -%}
    ({{ column }} ~* {{ pattern_column }})
{%- endmacro %}

{% macro lh_md5(expression) -%}
    md5({{ expression }})
{%- endmacro %}

{#- edit distance between two strings (transpositions count 1 where the engine supports it) -#}
{% macro lh_edit_distance(a, b) -%}
    {{ return(adapter.dispatch('lh_edit_distance', 'list_hygiene')(a, b)) }}
{%- endmacro %}
{% macro duckdb__lh_edit_distance(a, b) -%}
    damerau_levenshtein({{ a }}, {{ b }})
{%- endmacro %}
{% macro postgres__lh_edit_distance(a, b) -%}
    damerau_levenshtein({{ a }}, {{ b }})
{%- endmacro %}

{#- the whole string matches the pattern -#}
{% macro lh_regex_full_match(column, pattern) -%}
    {{ return(adapter.dispatch('lh_regex_full_match', 'list_hygiene')(column, pattern)) }}
{%- endmacro %}
{% macro duckdb__lh_regex_full_match(column, pattern) -%}
    regexp_full_match({{ column }}, '{{ pattern }}')
{%- endmacro %}
{% macro postgres__lh_regex_full_match(column, pattern) -%}
    ({{ column }} ~ '^(?:{{ pattern }})$')
{%- endmacro %}
