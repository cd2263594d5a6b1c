-- Every day from 2025-01-01 to 2026-12-31, a range that covers the benchmark data.
{{ config(materialized='table') }}
select cast(range as date) as date_day
from range(date '2025-01-01', date '2027-01-01', interval 1 day)
