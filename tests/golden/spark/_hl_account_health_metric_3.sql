-- Golden SQL checked by tests/test_golden_sql.py::test_golden_sql
-- dialect: spark, view: _hl_account_health_metric_3, project: tests/fixtures/shop, schema: analytics
-- Rewrite with HEALTHLAYER_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
CREATE OR REPLACE VIEW analytics._hl_account_health_metric_3 AS
SELECT
  account_id,
  as_of_date,
  metric_value AS metric_3,
  LAG(metric_value, 30) OVER (PARTITION BY account_id ORDER BY as_of_date NULLS LAST) AS lag_30
FROM (
  SELECT
    sp.account_id,
    sp.as_of_date,
    COALESCE(
      SUM(j.value_sum) OVER (
        PARTITION BY sp.account_id
        ORDER BY sp.as_of_date NULLS LAST
        ROWS BETWEEN 89 PRECEDING AND CURRENT ROW
      ),
      CAST(0 AS DOUBLE)
    ) AS metric_value
  FROM (
    SELECT
      account_id,
      as_of_date
    FROM analytics._hl_account_health_accounts
  ) AS sp
  LEFT JOIN (
    SELECT
      account_id,
      activity_date AS metric_date,
      COUNT(*) AS row_count,
      COUNT(metric_value) AS value_count,
      SUM(CAST(metric_value AS DOUBLE)) AS value_sum
    FROM (
      SELECT
        account_id AS account_id,
        CAST(CONVERT_TIMEZONE('UTC', 'Europe/Berlin', CAST(event_ts AS TIMESTAMP_NTZ)) AS DATE) AS activity_date,
        amount AS metric_value
      FROM raw.events
      WHERE
        (
          (
            NOT account_id IS NULL AND NOT event_ts IS NULL
          ) AND NOT user_id IS NULL
        )
        AND (
          event_type = 'checkout'
        )
    ) AS r
    GROUP BY
      account_id,
      activity_date
  ) AS j
    ON sp.account_id = j.account_id AND sp.as_of_date = j.metric_date
) AS mv
