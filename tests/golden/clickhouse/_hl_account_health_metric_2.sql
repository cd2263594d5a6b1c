-- Golden SQL checked by tests/test_golden_sql.py::test_golden_sql
-- dialect: clickhouse, view: _hl_account_health_metric_2, project: tests/fixtures/shop, schema: analytics
-- Rewrite with HEALTHLAYER_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
CREATE OR REPLACE VIEW analytics._hl_account_health_metric_2 AS
SELECT
  account_id AS account_id,
  as_of_date AS as_of_date,
  metric_value AS metric_2
FROM (
  SELECT
    sp.account_id AS account_id,
    sp.as_of_date AS as_of_date,
    CAST(SUM(COALESCE(CASE WHEN j._hl_matched = 1 THEN j.distinct_values_delta END, 0)) OVER (
      PARTITION BY sp.account_id
      ORDER BY sp.as_of_date
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS Nullable(Int64)) AS metric_value
  FROM (
    SELECT
      account_id AS account_id,
      as_of_date AS as_of_date
    FROM analytics._hl_account_health_accounts
  ) AS sp
  LEFT JOIN (
    SELECT
      account_id AS account_id,
      delta_date AS metric_date,
      distinct_values_delta AS distinct_values_delta,
      1 AS _hl_matched
    FROM (
      WITH spans AS (
        SELECT
          account_id AS account_id,
          activity_date AS activity_date,
          lagInFrame(toNullable(activity_date)) OVER (
            PARTITION BY account_id, member_key
            ORDER BY activity_date
            ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
          ) AS previous_date,
          leadInFrame(toNullable(activity_date)) OVER (
            PARTITION BY account_id, member_key
            ORDER BY activity_date
            ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
          ) AS next_date
        FROM (
          SELECT DISTINCT
            account_id AS account_id,
            metric_value AS member_key,
            activity_date AS activity_date
          FROM (
            SELECT
              account_id AS account_id,
              CAST(toTimeZone(toDateTime64(event_ts, 6, 'UTC'), 'Europe/Berlin') AS Nullable(Date32)) AS activity_date,
              area AS metric_value
            FROM raw.events
            WHERE
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
          ) AS r
          WHERE
            NOT (
              metric_value IS NULL
            )
        ) AS f
      )
      SELECT
        account_id AS account_id,
        delta_date AS delta_date,
        SUM(distinct_values_delta) AS distinct_values_delta
      FROM (
        SELECT
          s.account_id AS account_id,
          s.activity_date AS delta_date,
          1 AS distinct_values_delta
        FROM spans AS s
        WHERE
          s.previous_date IS NULL
          OR CAST(DATE_ADD(DAY, 30, s.previous_date) AS Nullable(Date32)) <= s.activity_date
        UNION ALL
        SELECT
          s.account_id AS account_id,
          CAST(DATE_ADD(DAY, 30, s.activity_date) AS Nullable(Date32)) AS delta_date,
          -1 AS distinct_values_delta
        FROM spans AS s
        WHERE
          s.next_date IS NULL
          OR s.next_date >= CAST(DATE_ADD(DAY, 30, s.activity_date) AS Nullable(Date32))
      ) AS d
      GROUP BY
        account_id,
        delta_date
    ) AS dd
  ) AS j
    ON sp.account_id = j.account_id AND sp.as_of_date = j.metric_date
) AS mv
