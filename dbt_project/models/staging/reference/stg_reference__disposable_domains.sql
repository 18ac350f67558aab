with

source as (

    select * from {{ source('reference', 'ref_disposable_domains') }}

),

renamed as (

    select
        -- strings
        lower(trim(domain)) as domain,
        source_package,
        source_version

    from source

)

select * from renamed
