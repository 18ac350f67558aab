{#- Human engagement per address and platform with an exponentially decayed score (POLICY rules 9, 11, 17).
    The counting is int_contact_platform_activity's (incremental); here the score is decayed from the latest
    human engagement to the evaluation date, which moves every day. -#}
with

activity as (select * from {{ ref('int_contact_platform_activity') }}),

as_of as (select {{ lh_as_of() }} as as_of_at),

final as (

    select
        a.email,
        a.platform,
        a.sends,
        a.deliveries,
        a.human_opens,
        a.human_clicks,
        a.machine_opens_discarded,
        a.machine_clicks_discarded,
        a.first_send_at,
        a.last_send_at,
        a.last_human_engagement_at,
        a.sends_since_last_engagement,
        a.last_n_sends,
        a.engaged_of_last_n_sends,
        -- Σ w × 0.5^(age at as_of / half-life) = (Σ w × 0.5^(age at the latest engagement / half-life))
        --                                        × 0.5^(days from the latest engagement to as_of / half-life)
        round(
            coalesce(
                a.engagement_score_at_last
                * power(
                    0.5,
                    {{ dbt.datediff('a.last_human_engagement_at', 'o.as_of_at', 'second') }} / 86400.0
                        / {{ var('engagement_half_life_days') }}
                ),
                0
            ),
            4
        ) as engagement_score,
        o.as_of_at
    from activity as a
    cross join as_of as o

)

select * from final
