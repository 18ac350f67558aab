{#- POLICY rule 18: open rate by step of multi-step campaigns; a drop at one step says it needs work. -#}
with

campaigns as (select * from {{ ref('campaign_deliverability') }}),

final as (

    select
        platform,
        series_name,
        step_number,
        count(*) as campaigns,
        sum(deliveries) as deliveries,
        sum(unique_human_openers) as unique_human_openers,
        sum(unique_clickers) as unique_clickers,
        case when sum(deliveries) > 0 then cast(sum(unique_human_openers) as double precision) / sum(deliveries) end as human_open_rate,
        case when sum(deliveries) > 0 then cast(sum(unique_clickers) as double precision) / sum(deliveries) end as click_rate
    from campaigns
    where step_number is not null
    group by platform, series_name, step_number

)

select * from final
