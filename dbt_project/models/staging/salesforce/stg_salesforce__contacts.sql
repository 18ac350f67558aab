with

source as (

    select * from {{ source('raw', 'salesforce__contacts') }}

),

renamed as (

    select
        -- ids
        contact_id as salesforce_contact_id,
        account_id as salesforce_account_id,

        -- postal address
        mailing_street as street,
        mailing_city as city,
        mailing_state as state,
        mailing_postal_code as postal_code,
        mailing_country as country,

        {{ lh_salesforce_person_columns() }}

    from source

),

latest as (

    {{ lh_latest_version('renamed', 'salesforce_contact_id') }}

)

select * from latest
