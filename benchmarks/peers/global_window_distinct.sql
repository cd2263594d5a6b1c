-- Global DAU, WAU and MAU at the active level with DuckDB's distinct window aggregates: one row
-- per active user-day, and COUNT(DISTINCT user_id) over a RANGE frame of 7 or 30 days ending on
-- its day.
-- $events and $time_zone are replaced by benchmarks/run.py.
WITH events AS (
    SELECT
        user_id,
        event_name,
        CAST(CAST(event_ts AS TIMESTAMPTZ) AT TIME ZONE '$time_zone' AS DATE) AS activity_date
    FROM $events
    WHERE user_id IS NOT NULL AND event_ts IS NOT NULL
),
calendar AS (
    SELECT CAST(UNNEST(generate_series(MIN(activity_date), MAX(activity_date), INTERVAL 1 DAY)) AS DATE) AS activity_date
    FROM events
),
user_days AS (
    SELECT DISTINCT user_id, activity_date
    FROM events
    WHERE event_name IN ('report_created', 'query_run', 'record_updated', 'workflow_completed',
                         'automation_built', 'api_integration_used', 'comment_mentioned', 'dashboard_shared')
),
rows AS (
    -- One row without a user for each day, so that days without active users get a row too.
    SELECT activity_date, user_id FROM user_days
    UNION ALL
    SELECT activity_date, NULL FROM calendar
)
SELECT DISTINCT
    activity_date,
    COUNT(user_id) OVER (PARTITION BY activity_date) AS dau,
    COUNT(DISTINCT user_id) OVER (ORDER BY activity_date
                                  RANGE BETWEEN INTERVAL 6 DAYS PRECEDING AND CURRENT ROW) AS wau,
    COUNT(DISTINCT user_id) OVER (ORDER BY activity_date
                                  RANGE BETWEEN INTERVAL 29 DAYS PRECEDING AND CURRENT ROW) AS mau
FROM rows
