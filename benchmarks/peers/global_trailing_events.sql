-- Global DAU, WAU and MAU at the active level the plain way: each day of the calendar joins every
-- active event of the trailing 30 days, with no user-day step in between.
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
)
SELECT
    c.activity_date,
    COUNT(DISTINCT e.user_id) FILTER (WHERE e.activity_date = c.activity_date) AS dau,
    COUNT(DISTINCT e.user_id) FILTER (WHERE e.activity_date > c.activity_date - 7) AS wau,
    COUNT(DISTINCT e.user_id) AS mau
FROM calendar AS c
LEFT JOIN events AS e
    ON e.activity_date BETWEEN c.activity_date - 29 AND c.activity_date
   AND e.event_name IN ('report_created', 'query_run', 'record_updated', 'workflow_completed',
                        'automation_built', 'api_integration_used', 'comment_mentioned', 'dashboard_shared')
GROUP BY c.activity_date
