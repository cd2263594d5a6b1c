-- Golden SQL checked by tests/test_golden_sql.py::test_golden_sql
-- dialect: spark, view: _hl_account_health_accounts, project: tests/fixtures/shop, schema: analytics
-- Rewrite with HEALTHLAYER_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
CREATE OR REPLACE VIEW analytics._hl_account_health_accounts AS
SELECT
  c.calendar_date AS as_of_date,
  g.account_id
FROM (
  SELECT
    r.account_id,
    r.first_date
  FROM (
    SELECT
      x.account_id,
      MIN(
        CAST(CONVERT_TIMEZONE('UTC', 'Europe/Berlin', CAST(e._hl_timestamp AS TIMESTAMP_NTZ)) AS DATE)
      ) AS first_date
    FROM analytics._hl_events AS e
    JOIN (
      SELECT
        account_id AS account_id,
        MIN(_hl_timestamp) AS earliest
      FROM analytics._hl_events
      WHERE
        NOT account_id IS NULL
      GROUP BY
        account_id
    ) AS x
      ON e.account_id = x.account_id AND e._hl_timestamp <= x.earliest + INTERVAL '3' DAY
    GROUP BY
      x.account_id
  ) AS r
  JOIN (
    SELECT DISTINCT
      account_id
    FROM (
      SELECT
        account_id AS account_id,
        CAST(CONVERT_TIMEZONE('UTC', 'Europe/Berlin', CAST(event_ts AS TIMESTAMP_NTZ)) AS DATE) AS activity_date,
        NULL AS metric_value
      FROM raw.events
      WHERE
        (
          (
            NOT account_id IS NULL AND NOT event_ts IS NULL
          ) AND NOT user_id IS NULL
        )
        AND (
          plan <> 'internal'
        )
    ) AS p
  ) AS m
    ON r.account_id = m.account_id
) AS g
JOIN analytics._hl_calendar AS c
  ON c.calendar_date >= g.first_date
