-- Global DAU, WAU and MAU at the active level in time linear in the user-days: a user is inside
-- the N-day window of day d when one of their active days a satisfies a <= d < a + N. Each
-- active day opens a span that closes N days later, or on the user's next active day if that
-- comes first, so the spans of one user never overlap. A running sum of +1 at each opening and
-- -1 at each closing counts the users in the window with no distinct count.
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
spans AS (
    SELECT
        activity_date,
        COALESCE(LEAD(activity_date) OVER (PARTITION BY user_id ORDER BY activity_date), DATE '9999-12-31') AS next_date
    FROM user_days
),
deltas AS (
    SELECT delta_date, SUM(dau_delta) AS dau_delta, SUM(wau_delta) AS wau_delta, SUM(mau_delta) AS mau_delta
    FROM (
        SELECT activity_date AS delta_date, 1 AS dau_delta, 1 AS wau_delta, 1 AS mau_delta FROM spans
        UNION ALL
        SELECT activity_date + 1, -1, 0, 0 FROM spans
        UNION ALL
        SELECT LEAST(next_date, activity_date + 7), 0, -1, 0 FROM spans
        UNION ALL
        SELECT LEAST(next_date, activity_date + 30), 0, 0, -1 FROM spans
    )
    GROUP BY delta_date
)
SELECT
    c.activity_date,
    SUM(COALESCE(d.dau_delta, 0)) OVER (ORDER BY c.activity_date) AS dau,
    SUM(COALESCE(d.wau_delta, 0)) OVER (ORDER BY c.activity_date) AS wau,
    SUM(COALESCE(d.mau_delta, 0)) OVER (ORDER BY c.activity_date) AS mau
FROM calendar AS c
LEFT JOIN deltas AS d ON d.delta_date = c.activity_date
