-- DAU, WAU and MAU per account at the active level in time linear in the user-days, as in
-- global_running_sum.sql. Each active day of a user in an account opens a span that closes N
-- days later, or on the user's next active day in that account. A running sum per account of +1
-- at each opening and -1 at each closing counts the users in the window. Each account's days
-- run from its first event of any kind to the last day of data.
-- $events and $time_zone are replaced by benchmarks/run.py.
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
),
spans AS (
    SELECT
        account_id,
        activity_date,
        COALESCE(LEAD(activity_date) OVER (PARTITION BY account_id, user_id ORDER BY activity_date),
                 DATE '9999-12-31') AS next_date
    FROM user_days
),
deltas AS (
    SELECT account_id, delta_date,
           SUM(dau_delta) AS dau_delta, SUM(wau_delta) AS wau_delta, SUM(mau_delta) AS mau_delta
    FROM (
        SELECT account_id, activity_date AS delta_date, 1 AS dau_delta, 1 AS wau_delta, 1 AS mau_delta FROM spans
        UNION ALL
        SELECT account_id, activity_date + 1, -1, 0, 0 FROM spans
        UNION ALL
        SELECT account_id, LEAST(next_date, activity_date + 7), 0, -1, 0 FROM spans
        UNION ALL
        SELECT account_id, LEAST(next_date, activity_date + 30), 0, 0, -1 FROM spans
    )
    GROUP BY account_id, delta_date
)
SELECT
    d.account_id,
    d.activity_date,
    SUM(COALESCE(x.dau_delta, 0)) OVER (PARTITION BY d.account_id ORDER BY d.activity_date) AS dau,
    SUM(COALESCE(x.wau_delta, 0)) OVER (PARTITION BY d.account_id ORDER BY d.activity_date) AS wau,
    SUM(COALESCE(x.mau_delta, 0)) OVER (PARTITION BY d.account_id ORDER BY d.activity_date) AS mau
FROM account_days AS d
LEFT JOIN deltas AS x ON x.account_id = d.account_id AND x.delta_date = d.activity_date
