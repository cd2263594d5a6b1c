-- Golden SQL checked by tests/test_golden_sql.py::test_golden_sql
-- dialect: snowflake, view: _hl_account_health_metric_2, project: tests/fixtures/shop, schema: analytics
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
      g.account_id,
      c.calendar_date AS as_of_date
    FROM (
      SELECT
        account_id,
        MIN(activity_date) AS first_date
      FROM (
        SELECT
          account_id,
          as_of_date AS activity_date
        FROM _hl_account_health_accounts
        UNION ALL
        SELECT
          r.account_id,
          r.activity_date
        FROM (
          SELECT
            account_id AS account_id,
            CAST(CONVERT_TIMEZONE('UTC', 'Europe/Berlin', event_ts) AS DATE) AS activity_date,
            area AS metric_value
          FROM raw.events
          WHERE
            (
              NOT account_id IS NULL AND NOT event_ts IS NULL
            ) AND NOT user_id IS NULL
        ) AS r
        JOIN (
          SELECT DISTINCT
            account_id
          FROM _hl_account_health_accounts
        ) AS m
          ON r.account_id = m.account_id
      ) AS e
      GROUP BY
        account_id
    ) AS g
    JOIN _hl_calendar AS c
      ON c.calendar_date >= g.first_date
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
          LEAD(activity_date) OVER (PARTITION BY account_id, member_key ORDER BY activity_date) AS next_date
        FROM (
          SELECT DISTINCT
            account_id,
            metric_value AS member_key,
            activity_date
          FROM (
            SELECT
              account_id AS account_id,
              CAST(CONVERT_TIMEZONE('UTC', 'Europe/Berlin', event_ts) AS DATE) AS activity_date,
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
        UNION ALL
        SELECT
          s.account_id,
          CASE
            WHEN s.next_date < CAST(DATEADD(DAY, 30, s.activity_date) AS DATE)
            THEN s.next_date
            ELSE CAST(DATEADD(DAY, 30, s.activity_date) AS DATE)
          END AS delta_date,
          -1 AS distinct_values_delta
        FROM spans AS s
      ) AS d
      GROUP BY
        account_id,
        delta_date
    ) AS dd
  ) AS j
    ON sp.account_id = j.account_id AND sp.as_of_date = j.metric_date
) AS mv
