-- The events at the active tier or higher (the active and power event names of
-- benchmarks/project/models/sources.yml), one row per event, with the local day of each.
{{ config(materialized='view') }}
select
    event_id,
    user_id,
    account_id,
    event_name,
    event_ts,
    cast(cast(event_ts as timestamptz) at time zone '{{ var("time_zone") }}' as date) as activity_date
from read_parquet('{{ var("events_parquet") }}')
where user_id is not null
  and event_ts is not null
  and event_name in ('report_created', 'query_run', 'record_updated', 'workflow_completed',
                     'automation_built', 'api_integration_used', 'comment_mentioned', 'dashboard_shared')
