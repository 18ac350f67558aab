{#- POLICY rule 16: a corrected address is a moment of contact; ask once more to confirm the data that
    drifts with it (postal address after a move, employer after a job change). -#}
with

outcomes as (select * from {{ ref('correction_outcomes') }}),

crm as (select * from {{ ref('int_crm_contacts') }}),

final as (

    select
        o.hubspot_contact_id,
        o.corrected_email as email,
        o.corrected_at,
        c.company_name,
        c.street,
        c.city,
        c.postal_code,
        c.country,
        'confirm postal address and employer' as ask
    from outcomes as o
    left join crm as c
        on c.crm = 'hubspot'
        and c.crm_id = cast(o.hubspot_contact_id as {{ dbt.type_string() }})

)

select * from final
