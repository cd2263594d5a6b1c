-- Golden SQL checked by tests/test_golden_sql.py::test_golden_sql
-- dialect: clickhouse, view: _hl_account_health_metric_5, project: tests/fixtures/shop, schema: analytics
-- Rewrite with HEALTHLAYER_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
CREATE OR REPLACE VIEW analytics._hl_account_health_metric_5 AS
SELECT
  account_id AS account_id,
  as_of_date AS as_of_date,
  metric_value AS metric_5
FROM (
  SELECT
    sp.account_id AS account_id,
    sp.as_of_date AS as_of_date,
    MIN(CASE WHEN j._hl_matched = 1 THEN j.value_extreme END) OVER (
      PARTITION BY sp.account_id
      ORDER BY sp.as_of_date
      ROWS BETWEEN 29 PRECEDING AND CURRENT ROW
    ) AS metric_value
  FROM (
    SELECT
      account_id AS account_id,
      as_of_date AS as_of_date
    FROM analytics._hl_account_health_accounts
  ) AS sp
  LEFT JOIN (
    SELECT
      account_id AS account_id,
      activity_date AS metric_date,
      COUNT(*) AS row_count,
      COUNT(metric_value) AS value_count,
      MIN(metric_value) AS value_extreme,
      1 AS _hl_matched
    FROM (
      SELECT
        account_id AS account_id,
        CAST(toTimeZone(toDateTime64(event_ts, 6, 'UTC'), 'Europe/Berlin') AS Nullable(Date32)) AS activity_date,
        LEAST(amount, 500) AS metric_value
      FROM raw.events
      WHERE
        (
          (
            NOT (
              account_id IS NULL
            ) AND NOT (
              event_ts IS NULL
            )
          )
          AND NOT (
            user_id IS NULL
          )
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
