-- DAU, WAU and MAU per account at the active level, without window functions: each account's
-- days, from its first event of any kind to the last day of data, join the account's active
-- user-days of the 30 days up to them. $events and $time_zone are replaced by benchmarks/run.py.
WITH events AS (
    SELECT
        user_id,
        account_id,
        event_name,
        CAST(CAST(event_ts AS TIMESTAMPTZ) AT TIME ZONE '$time_zone' AS DATE) AS activity_date
    FROM $events
    WHERE user_id IS NOT NULL AND event_ts IS NOT NULL
),
calendar AS (
    SELECT CAST(UNNEST(generate_series(MIN(activity_date), MAX(activity_date), INTERVAL 1 DAY)) AS DATE) AS activity_date
    FROM events
),
account_days AS (
    SELECT a.account_id, c.activity_date
    FROM (SELECT account_id, MIN(activity_date) AS first_date FROM events WHERE account_id IS NOT NULL GROUP BY account_id) AS a
    JOIN calendar AS c ON c.activity_date >= a.first_date
),
user_days AS (
    SELECT DISTINCT account_id, user_id, activity_date
    FROM events
    WHERE account_id IS NOT NULL
      AND event_name IN ('report_created', 'query_run', 'record_updated', 'workflow_completed',
                         'automation_built', 'api_integration_used', 'comment_mentioned', 'dashboard_shared')
)
SELECT
    d.account_id,
    d.activity_date,
    COUNT(DISTINCT u.user_id) FILTER (WHERE u.activity_date = d.activity_date) AS dau,
    COUNT(DISTINCT u.user_id) FILTER (WHERE u.activity_date > d.activity_date - 7) AS wau,
    COUNT(DISTINCT u.user_id) AS mau
FROM account_days AS d
LEFT JOIN user_days AS u
    ON u.account_id = d.account_id
   AND u.activity_date BETWEEN d.activity_date - 29 AND d.activity_date
GROUP BY d.account_id, d.activity_date
