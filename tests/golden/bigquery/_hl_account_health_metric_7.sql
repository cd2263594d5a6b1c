-- Golden SQL checked by tests/test_golden_sql.py::test_golden_sql
-- dialect: bigquery, view: _hl_account_health_metric_7, project: tests/fixtures/shop, schema: analytics
-- Rewrite with HEALTHLAYER_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
CREATE OR REPLACE VIEW analytics._hl_account_health_metric_7 AS
WITH shared_hl_account_health_accounts AS (
  SELECT
    *
  FROM analytics._hl_account_health_accounts
)
SELECT
  account_id,
  as_of_date,
  metric_value AS metric_7
FROM (
  SELECT
    sp.account_id,
    sp.as_of_date,
    CASE
      WHEN COALESCE(
        SUM(j.value_count) OVER (
          PARTITION BY sp.account_id
          ORDER BY sp.as_of_date
          ROWS BETWEEN 179 PRECEDING AND CURRENT ROW
        ),
        0
      ) > 0
      THEN SUM(j.value_sum) OVER (
        PARTITION BY sp.account_id
        ORDER BY sp.as_of_date
        ROWS BETWEEN 179 PRECEDING AND CURRENT ROW
      ) / CAST(COALESCE(
        SUM(j.value_count) OVER (
          PARTITION BY sp.account_id
          ORDER BY sp.as_of_date
          ROWS BETWEEN 179 PRECEDING AND CURRENT ROW
        ),
        0
      ) AS FLOAT64)
    END AS metric_value
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
        FROM shared_hl_account_health_accounts AS _hl_account_health_accounts
        UNION ALL
        SELECT
          r.account_id,
          r.activity_date
        FROM (
          SELECT
            account_id AS account_id,
            DATE(CAST(responded_at AS TIMESTAMP), 'Europe/Berlin') AS activity_date,
            CASE WHEN score >= 9 THEN 100 WHEN score >= 7 THEN 0 ELSE -100 END AS metric_value
          FROM raw.nps
          WHERE
            NOT account_id IS NULL AND NOT responded_at IS NULL
        ) AS r
        JOIN (
          SELECT DISTINCT
            account_id
          FROM shared_hl_account_health_accounts AS _hl_account_health_accounts
        ) AS m
          ON r.account_id = m.account_id
      ) AS e
      GROUP BY
        account_id
    ) AS g
    JOIN (
      SELECT
        CAST(DATE_ADD(b.first_date, INTERVAL o.day_offset DAY) AS DATE) AS calendar_date
      FROM (
        SELECT
          d0.digit + d1.digit * 10 + d2.digit * 100 + d3.digit * 1000 + d4.digit * 10000 AS day_offset
        FROM (
          SELECT
            0 AS digit
          UNION ALL
          SELECT
            1 AS digit
          UNION ALL
          SELECT
            2 AS digit
          UNION ALL
          SELECT
            3 AS digit
          UNION ALL
          SELECT
            4 AS digit
          UNION ALL
          SELECT
            5 AS digit
          UNION ALL
          SELECT
            6 AS digit
          UNION ALL
          SELECT
            7 AS digit
          UNION ALL
          SELECT
            8 AS digit
          UNION ALL
          SELECT
            9 AS digit
        ) AS d0
        CROSS JOIN (
          SELECT
            0 AS digit
          UNION ALL
          SELECT
            1 AS digit
          UNION ALL
          SELECT
            2 AS digit
          UNION ALL
          SELECT
            3 AS digit
          UNION ALL
          SELECT
            4 AS digit
          UNION ALL
          SELECT
            5 AS digit
          UNION ALL
          SELECT
            6 AS digit
          UNION ALL
          SELECT
            7 AS digit
          UNION ALL
          SELECT
            8 AS digit
          UNION ALL
          SELECT
            9 AS digit
        ) AS d1
        CROSS JOIN (
          SELECT
            0 AS digit
          UNION ALL
          SELECT
            1 AS digit
          UNION ALL
          SELECT
            2 AS digit
          UNION ALL
          SELECT
            3 AS digit
          UNION ALL
          SELECT
            4 AS digit
          UNION ALL
          SELECT
            5 AS digit
          UNION ALL
          SELECT
            6 AS digit
          UNION ALL
          SELECT
            7 AS digit
          UNION ALL
          SELECT
            8 AS digit
          UNION ALL
          SELECT
            9 AS digit
        ) AS d2
        CROSS JOIN (
          SELECT
            0 AS digit
          UNION ALL
          SELECT
            1 AS digit
          UNION ALL
          SELECT
            2 AS digit
          UNION ALL
          SELECT
            3 AS digit
          UNION ALL
          SELECT
            4 AS digit
          UNION ALL
          SELECT
            5 AS digit
          UNION ALL
          SELECT
            6 AS digit
          UNION ALL
          SELECT
            7 AS digit
          UNION ALL
          SELECT
            8 AS digit
          UNION ALL
          SELECT
            9 AS digit
        ) AS d3
        CROSS JOIN (
          SELECT
            0 AS digit
          UNION ALL
          SELECT
            1 AS digit
          UNION ALL
          SELECT
            2 AS digit
          UNION ALL
          SELECT
            3 AS digit
          UNION ALL
          SELECT
            4 AS digit
          UNION ALL
          SELECT
            5 AS digit
          UNION ALL
          SELECT
            6 AS digit
          UNION ALL
          SELECT
            7 AS digit
          UNION ALL
          SELECT
            8 AS digit
          UNION ALL
          SELECT
            9 AS digit
        ) AS d4
      ) AS o
      CROSS JOIN (
        SELECT
          *
        FROM (
          SELECT
            fd.first_date,
            ld.last_date
          FROM (
            SELECT
              MIN(first_date) AS first_date
            FROM (
              SELECT
                account_id,
                MIN(activity_date) AS first_date
              FROM (
                SELECT
                  account_id,
                  as_of_date AS activity_date
                FROM shared_hl_account_health_accounts AS _hl_account_health_accounts
                UNION ALL
                SELECT
                  r.account_id,
                  r.activity_date
                FROM (
                  SELECT
                    account_id AS account_id,
                    DATE(CAST(responded_at AS TIMESTAMP), 'Europe/Berlin') AS activity_date,
                    CASE WHEN score >= 9 THEN 100 WHEN score >= 7 THEN 0 ELSE -100 END AS metric_value
                  FROM raw.nps
                  WHERE
                    NOT account_id IS NULL AND NOT responded_at IS NULL
                ) AS r
                JOIN (
                  SELECT DISTINCT
                    account_id
                  FROM shared_hl_account_health_accounts AS _hl_account_health_accounts
                ) AS m
                  ON r.account_id = m.account_id
              ) AS e
              GROUP BY
                account_id
            ) AS st
          ) AS fd
          CROSS JOIN (
            SELECT
              MAX(as_of_date) AS last_date
            FROM shared_hl_account_health_accounts AS _hl_account_health_accounts
          ) AS ld
        ) AS bq
      ) AS b
      WHERE
        o.day_offset <= DATE_DIFF(b.last_date, b.first_date, DAY)
    ) AS c
      ON c.calendar_date >= g.first_date
  ) AS sp
  LEFT JOIN (
    SELECT
      account_id,
      activity_date AS metric_date,
      COUNT(*) AS row_count,
      COUNT(metric_value) AS value_count,
      SUM(CAST(metric_value AS FLOAT64)) AS value_sum
    FROM (
      SELECT
        account_id AS account_id,
        DATE(CAST(responded_at AS TIMESTAMP), 'Europe/Berlin') AS activity_date,
        CASE WHEN score >= 9 THEN 100 WHEN score >= 7 THEN 0 ELSE -100 END AS metric_value
      FROM raw.nps
      WHERE
        NOT account_id IS NULL AND NOT responded_at IS NULL
    ) AS r
    GROUP BY
      account_id,
      activity_date
  ) AS j
    ON sp.account_id = j.account_id AND sp.as_of_date = j.metric_date
) AS mv
