-- Golden SQL checked by tests/test_golden_sql.py::test_golden_sql
-- dialect: snowflake, view: _hl_account_health_components, project: tests/fixtures/shop, schema: analytics
-- Rewrite with HEALTHLAYER_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
CREATE OR REPLACE VIEW analytics._hl_account_health_components AS
SELECT
  as_of_date,
  account_id,
  raw_0_0,
  COALESCE(
    CASE
      WHEN (
        (
          CAST(raw_0_0 AS DOUBLE) - 0.0
        ) * 100.0 / 0.5
      ) IS NULL
      THEN NULL
      WHEN (
        (
          CAST(raw_0_0 AS DOUBLE) - 0.0
        ) * 100.0 / 0.5
      ) < 0
      THEN CAST(0 AS DOUBLE)
      WHEN (
        (
          CAST(raw_0_0 AS DOUBLE) - 0.0
        ) * 100.0 / 0.5
      ) > 100
      THEN CAST(100 AS DOUBLE)
      ELSE CAST((
        (
          CAST(raw_0_0 AS DOUBLE) - 0.0
        ) * 100.0 / 0.5
      ) AS DOUBLE)
    END,
    CAST(0.0 AS DOUBLE)
  ) AS score_0_0,
  raw_0_1,
  CASE
    WHEN CAST(raw_0_1 AS DOUBLE) IS NULL
    THEN NULL
    WHEN CAST(raw_0_1 AS DOUBLE) >= 0.5
    THEN CAST(100.0 AS DOUBLE)
    WHEN CAST(raw_0_1 AS DOUBLE) >= 0.3
    THEN CAST(80.0 AS DOUBLE)
    WHEN CAST(raw_0_1 AS DOUBLE) >= 0.1
    THEN CAST(40.0 AS DOUBLE)
    ELSE CAST(0 AS DOUBLE)
  END AS score_0_1,
  raw_0_2,
  CASE
    WHEN raw_0_2 IS NULL
    THEN NULL
    WHEN COUNT(raw_0_2) OVER (PARTITION BY as_of_date) = 1
    THEN CAST(50.0 AS DOUBLE)
    ELSE CAST(RANK() OVER (
      PARTITION BY as_of_date, CASE WHEN raw_0_2 IS NULL THEN 1 ELSE 0 END
      ORDER BY raw_0_2
    ) - 1 AS DOUBLE) * 100.0 / CAST(COUNT(raw_0_2) OVER (PARTITION BY as_of_date) - 1 AS DOUBLE)
  END AS score_0_2,
  raw_1_0,
  CASE
    WHEN raw_1_0 IS NULL
    THEN NULL
    WHEN COUNT(raw_1_0) OVER (PARTITION BY as_of_date) = 1
    THEN CAST(50.0 AS DOUBLE)
    ELSE CAST(RANK() OVER (
      PARTITION BY as_of_date, CASE WHEN raw_1_0 IS NULL THEN 1 ELSE 0 END
      ORDER BY raw_1_0
    ) - 1 AS DOUBLE) * 100.0 / CAST(COUNT(raw_1_0) OVER (PARTITION BY as_of_date) - 1 AS DOUBLE)
  END AS score_1_0,
  raw_1_1,
  CASE
    WHEN CAST(raw_1_1 AS DOUBLE) IS NULL
    THEN NULL
    WHEN CAST(raw_1_1 AS DOUBLE) >= 0.25
    THEN CAST(100.0 AS DOUBLE)
    WHEN CAST(raw_1_1 AS DOUBLE) >= 0.0
    THEN CAST(60.0 AS DOUBLE)
    WHEN CAST(raw_1_1 AS DOUBLE) >= -0.25
    THEN CAST(30.0 AS DOUBLE)
    ELSE CAST(0 AS DOUBLE)
  END AS score_1_1,
  raw_1_2,
  CASE
    WHEN (
      (
        CAST(raw_1_2 AS DOUBLE) - 0.0
      ) * 100.0 / 10.0
    ) IS NULL
    THEN NULL
    WHEN (
      (
        CAST(raw_1_2 AS DOUBLE) - 0.0
      ) * 100.0 / 10.0
    ) < 0
    THEN CAST(0 AS DOUBLE)
    WHEN (
      (
        CAST(raw_1_2 AS DOUBLE) - 0.0
      ) * 100.0 / 10.0
    ) > 100
    THEN CAST(100 AS DOUBLE)
    ELSE CAST((
      (
        CAST(raw_1_2 AS DOUBLE) - 0.0
      ) * 100.0 / 10.0
    ) AS DOUBLE)
  END AS score_1_2,
  raw_1_3,
  CASE
    WHEN (
      (
        CAST(raw_1_3 AS DOUBLE) - -5.0
      ) * 100.0 / 10.0
    ) IS NULL
    THEN NULL
    WHEN (
      (
        CAST(raw_1_3 AS DOUBLE) - -5.0
      ) * 100.0 / 10.0
    ) < 0
    THEN CAST(0 AS DOUBLE)
    WHEN (
      (
        CAST(raw_1_3 AS DOUBLE) - -5.0
      ) * 100.0 / 10.0
    ) > 100
    THEN CAST(100 AS DOUBLE)
    ELSE CAST((
      (
        CAST(raw_1_3 AS DOUBLE) - -5.0
      ) * 100.0 / 10.0
    ) AS DOUBLE)
  END AS score_1_3,
  raw_1_4,
  COALESCE(
    CASE
      WHEN (
        (
          CAST(raw_1_4 AS DOUBLE) - 5.0
        ) * 100.0 / 45.0
      ) IS NULL
      THEN NULL
      WHEN (
        (
          CAST(raw_1_4 AS DOUBLE) - 5.0
        ) * 100.0 / 45.0
      ) < 0
      THEN CAST(0 AS DOUBLE)
      WHEN (
        (
          CAST(raw_1_4 AS DOUBLE) - 5.0
        ) * 100.0 / 45.0
      ) > 100
      THEN CAST(100 AS DOUBLE)
      ELSE CAST((
        (
          CAST(raw_1_4 AS DOUBLE) - 5.0
        ) * 100.0 / 45.0
      ) AS DOUBLE)
    END,
    CAST(40.0 AS DOUBLE)
  ) AS score_1_4,
  raw_1_5,
  CASE
    WHEN raw_1_5 IS NULL
    THEN NULL
    WHEN COUNT(raw_1_5) OVER (PARTITION BY as_of_date) = 1
    THEN CAST(50.0 AS DOUBLE)
    ELSE 100.0 - (
      CAST(RANK() OVER (
        PARTITION BY as_of_date, CASE WHEN raw_1_5 IS NULL THEN 1 ELSE 0 END
        ORDER BY raw_1_5
      ) - 1 AS DOUBLE) * 100.0 / CAST(COUNT(raw_1_5) OVER (PARTITION BY as_of_date) - 1 AS DOUBLE)
    )
  END AS score_1_5,
  raw_2_0,
  COALESCE(
    CASE
      WHEN (
        (
          CAST(raw_2_0 AS DOUBLE) - -100.0
        ) * 100.0 / 200.0
      ) IS NULL
      THEN NULL
      WHEN (
        (
          CAST(raw_2_0 AS DOUBLE) - -100.0
        ) * 100.0 / 200.0
      ) < 0
      THEN CAST(0 AS DOUBLE)
      WHEN (
        (
          CAST(raw_2_0 AS DOUBLE) - -100.0
        ) * 100.0 / 200.0
      ) > 100
      THEN CAST(100 AS DOUBLE)
      ELSE CAST((
        (
          CAST(raw_2_0 AS DOUBLE) - -100.0
        ) * 100.0 / 200.0
      ) AS DOUBLE)
    END,
    CAST(50.0 AS DOUBLE)
  ) AS score_2_0,
  raw_2_1,
  CASE
    WHEN CAST(raw_2_1 AS DOUBLE) IS NULL
    THEN NULL
    WHEN CAST(raw_2_1 AS DOUBLE) >= 50.0
    THEN CAST(100.0 AS DOUBLE)
    WHEN CAST(raw_2_1 AS DOUBLE) >= 10.0
    THEN CAST(80.0 AS DOUBLE)
    WHEN CAST(raw_2_1 AS DOUBLE) >= 1.0
    THEN CAST(40.0 AS DOUBLE)
    ELSE CAST(0 AS DOUBLE)
  END AS score_2_1
FROM (
  SELECT
    v.as_of_date,
    v.account_id,
    v.metric_0 AS raw_0_0,
    v.metric_1 AS raw_0_1,
    v.metric_2 AS raw_0_2,
    v.metric_3 AS raw_1_0,
    CASE
      WHEN v.metric_3_lag_30 <> 0
      THEN (
        CAST(v.metric_3 AS DOUBLE) - CAST(v.metric_3_lag_30 AS DOUBLE)
      ) / CAST(ABS(v.metric_3_lag_30) AS DOUBLE)
    END AS raw_1_1,
    v.metric_4 AS raw_1_2,
    (
      CAST(v.metric_4 AS DOUBLE) - CAST(v.metric_4_lag_7 AS DOUBLE)
    ) AS raw_1_3,
    v.metric_5 AS raw_1_4,
    v.metric_6 AS raw_1_5,
    v.metric_7 AS raw_2_0,
    v.attribute_0 AS raw_2_1
  FROM _hl_account_health_values AS v
) AS r
