-- Golden SQL checked by tests/test_golden_sql.py::test_golden_sql
-- dialect: duckdb, view: _hl_account_health_metric_2, project: tests/fixtures/shop, schema: analytics
-- Rewrite with HEALTHLAYER_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
CREATE OR REPLACE VIEW analytics._hl_account_health_metric_2 AS
SELECT
  account_id,
  as_of_date,
  metric_value AS metric_2
FROM (
  SELECT
    sp.account_id,
    sp.as_of_date,
    CAST(SUM(COALESCE(j.distinct_values_delta, 0)) OVER (
      PARTITION BY sp.account_id
      ORDER BY sp.as_of_date
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS BIGINT) AS metric_value
  FROM (
    SELECT
      account_id,
      as_of_date
    FROM analytics._hl_account_health_accounts
  ) AS sp
  LEFT JOIN (
    SELECT
      account_id,
      delta_date AS metric_date,
      distinct_values_delta
    FROM (
      WITH spans AS (
        SELECT
          account_id,
          activity_date,
          LAG(activity_date) OVER (PARTITION BY account_id, member_key ORDER BY activity_date) AS previous_date,
          LEAD(activity_date) OVER (PARTITION BY account_id, member_key ORDER BY activity_date) AS next_date
        FROM (
          SELECT DISTINCT
            account_id,
            metric_value AS member_key,
            activity_date
          FROM (
            SELECT
              account_id AS account_id,
              CAST(CAST(event_ts AS TIMESTAMP) AT TIME ZONE 'UTC' AT TIME ZONE 'Europe/Berlin' AS DATE) AS activity_date,
              area AS metric_value
            FROM raw.events
            WHERE
              (
                NOT account_id IS NULL AND NOT event_ts IS NULL
              ) AND NOT user_id IS NULL
          ) AS r
          WHERE
            NOT metric_value IS NULL
        ) AS f
      )
      SELECT
        account_id,
        delta_date,
        SUM(distinct_values_delta) AS distinct_values_delta
      FROM (
        SELECT
          s.account_id,
          s.activity_date AS delta_date,
          1 AS distinct_values_delta
        FROM spans AS s
        WHERE
          s.previous_date IS NULL
          OR CAST(s.previous_date + INTERVAL 30 DAY AS DATE) <= s.activity_date
        UNION ALL
        SELECT
          s.account_id,
          CAST(s.activity_date + INTERVAL 30 DAY AS DATE) AS delta_date,
          -1 AS distinct_values_delta
        FROM spans AS s
        WHERE
          s.next_date IS NULL
          OR s.next_date >= CAST(s.activity_date + INTERVAL 30 DAY AS DATE)
      ) AS d
      GROUP BY
        account_id,
        delta_date
    ) AS dd
  ) AS j
    ON sp.account_id = j.account_id AND sp.as_of_date = j.metric_date
) AS mv
