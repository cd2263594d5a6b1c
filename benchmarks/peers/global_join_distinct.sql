-- Global DAU, WAU and MAU at the active level, without window functions: each day of the
-- calendar joins the active user-days of the 30 days up to it, and distinct counts with filters
-- give the three windows. $events and $time_zone are replaced by benchmarks/run.py.
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
)
SELECT
    c.activity_date,
    COUNT(DISTINCT u.user_id) FILTER (WHERE u.activity_date = c.activity_date) AS dau,
    COUNT(DISTINCT u.user_id) FILTER (WHERE u.activity_date > c.activity_date - 7) AS wau,
    COUNT(DISTINCT u.user_id) AS mau
FROM calendar AS c
LEFT JOIN user_days AS u
    ON u.activity_date BETWEEN c.activity_date - 29 AND c.activity_date
GROUP BY c.activity_date
