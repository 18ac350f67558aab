{#- POLICY rule 5's denominator: the messages a platform's deliverability rates are over, by its row in the
    send_count_basis seed. One rule in two forms: per event (fct_email_events.counts_as_message, which the
    audit and ad-hoc queries sum) and from a row's counts (the `messages` of campaign_deliverability and
    deliverability_daily, whose counts are kept as sums). A bounce counts when it is hard, soft or block:
    an auto-reply or a delivery report filed as a bounce is not a failed message. -#}
{% macro lh_counts_as_message(basis, event_type, bounce_class) -%}
    coalesce(case {{ basis }}
        when 'send_events' then {{ event_type }} = 'send'
        when 'deliveries_and_bounces' then {{ event_type }} = 'delivered'
            or ({{ event_type }} = 'bounce' and {{ bounce_class }} in ('hard', 'soft', 'block'))
    end, false)
{%- endmacro %}


{#- null when the platform's messages cannot be counted (`not_countable`, or no row in the seed): no rate,
    rather than a rate over zero. -#}
{% macro lh_messages(basis, sends, deliveries, hard_bounces, soft_bounces, block_bounces) -%}
    case {{ basis }}
        when 'send_events' then {{ sends }}
        when 'deliveries_and_bounces'
            then {{ deliveries }} + {{ hard_bounces }} + {{ soft_bounces }} + {{ block_bounces }}
    end
{%- endmacro %}
