{#- POLICY rule 14: hard-bounced contacts with a mobile number and SMS consent, not yet corrected, to ask
    by SMS for a corrected address. Exported for the SMS platform (mobile number in the clear is the point). -#}
with

bounces as (select * from {{ ref('int_bounces_classified') }}),

crm as (select * from {{ ref('int_crm_contacts') }}),

corrections as (select * from {{ ref('int_email_corrections') }}),

hard as (

    select
        email,
        min(occurred_at) as bounced_at,
        min(reason) as bounce_reason
    from bounces
    where is_hard
    group by email

),

final as (

    select
        c.crm_contact_key,
        c.crm,
        c.crm_id,
        h.email as bounced_email,
        c.first_name,
        c.mobile_phone,
        h.bounce_reason,
        h.bounced_at,
        {{ dbt.dateadd('day', var('correction_wait_days'), 'h.bounced_at') }} as wait_until
    from hard as h
    inner join crm as c
        on c.email = h.email
    left join corrections as k
        on k.bounced_email = h.email
    where c.mobile_phone is not null
        and c.sms_consent
        and k.bounced_email is null

)

select * from final
