-- Golden SQL checked by tests/test_golden_sql.py::test_golden_sql
-- dialect: clickhouse, view: account_health, project: tests/fixtures/shop, schema: analytics
-- Rewrite with HEALTHLAYER_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
CREATE OR REPLACE VIEW analytics.account_health AS
SELECT
  o.as_of_date AS as_of_date,
  o.account_id AS account_id,
  o.engagement_score AS engagement_score,
  o.commercial_score AS commercial_score,
  o.relationship_score AS relationship_score,
  o.health_score AS health_score,
  o.band AS band,
  o.coverage AS coverage,
  cb.last_date AS complete_through
FROM (
  SELECT
    as_of_date AS as_of_date,
    account_id AS account_id,
    engagement_score AS engagement_score,
    commercial_score AS commercial_score,
    relationship_score AS relationship_score,
    health_score AS health_score,
    CASE
      WHEN health_score IS NULL
      THEN NULL
      WHEN health_score >= 80.0
      THEN 'thriving'
      WHEN health_score >= 50.0
      THEN 'steady'
      WHEN health_score >= 20.0
      THEN 'at_risk'
      ELSE 'critical'
    END AS band,
    coverage AS coverage
  FROM (
    SELECT
      h.as_of_date AS as_of_date,
      h.account_id AS account_id,
      h.category_0 AS engagement_score,
      h.category_1 AS commercial_score,
      h.category_2 AS relationship_score,
      CASE
        WHEN h.coverage = 0.0
        THEN NULL
        WHEN h.scored_weight = 0.0
        THEN NULL
        ELSE h.weighted_sum / h.scored_weight
      END AS health_score,
      h.coverage AS coverage
    FROM (
      SELECT
        s.as_of_date AS as_of_date,
        s.account_id AS account_id,
        s.category_0 AS category_0,
        s.category_1 AS category_1,
        s.category_2 AS category_2,
        (
          COALESCE(50.0 * s.category_0, CAST(0 AS Nullable(Float64))) + COALESCE(
            30.0 * COALESCE(s.category_1, CAST(50.0 AS Nullable(Float64))),
            CAST(0 AS Nullable(Float64))
          ) + COALESCE(
            20.0 * COALESCE(s.category_2, CAST(0.0 AS Nullable(Float64))),
            CAST(0 AS Nullable(Float64))
          )
        ) AS weighted_sum,
        (
          CASE WHEN NOT (
            s.category_0 IS NULL
          ) THEN 50.0 ELSE 0.0 END + CASE
            WHEN NOT (
              COALESCE(s.category_1, CAST(50.0 AS Nullable(Float64))) IS NULL
            )
            THEN 30.0
            ELSE 0.0
          END + CASE
            WHEN NOT (
              COALESCE(s.category_2, CAST(0.0 AS Nullable(Float64))) IS NULL
            )
            THEN 20.0
            ELSE 0.0
          END
        ) AS scored_weight,
        CAST((
          0.5 * s.coverage_0 + 0.3 * s.coverage_1 + 0.2 * s.coverage_2
        ) AS Nullable(Float64)) AS coverage
      FROM (
        SELECT
          c.as_of_date AS as_of_date,
          c.account_id AS account_id,
          CASE
            WHEN (
              CASE WHEN NOT (
                c.raw_0_0 IS NULL
              ) THEN 50.0 ELSE 0.0 END + CASE WHEN NOT (
                c.raw_0_1 IS NULL
              ) THEN 25.0 ELSE 0.0 END + CASE WHEN NOT (
                c.raw_0_2 IS NULL
              ) THEN 25.0 ELSE 0.0 END
            ) = 0.0
            THEN NULL
            ELSE (
              COALESCE(50.0 * c.score_0_0, CAST(0 AS Nullable(Float64))) + COALESCE(25.0 * c.score_0_1, CAST(0 AS Nullable(Float64))) + COALESCE(25.0 * c.score_0_2, CAST(0 AS Nullable(Float64)))
            ) / (
              CASE WHEN NOT (
                c.score_0_0 IS NULL
              ) THEN 50.0 ELSE 0.0 END + CASE WHEN NOT (
                c.score_0_1 IS NULL
              ) THEN 25.0 ELSE 0.0 END + CASE WHEN NOT (
                c.score_0_2 IS NULL
              ) THEN 25.0 ELSE 0.0 END
            )
          END AS category_0,
          (
            CAST(CASE WHEN NOT (
              c.raw_0_0 IS NULL
            ) THEN 50.0 ELSE 0.0 END + CASE WHEN NOT (
              c.raw_0_1 IS NULL
            ) THEN 25.0 ELSE 0.0 END + CASE WHEN NOT (
              c.raw_0_2 IS NULL
            ) THEN 25.0 ELSE 0.0 END AS Nullable(Float64))
          ) / 100.0 AS coverage_0,
          CASE
            WHEN (
              CASE WHEN NOT (
                c.raw_1_0 IS NULL
              ) THEN 25.0 ELSE 0.0 END + CASE WHEN NOT (
                c.raw_1_1 IS NULL
              ) THEN 15.0 ELSE 0.0 END + CASE WHEN NOT (
                c.raw_1_2 IS NULL
              ) THEN 20.0 ELSE 0.0 END + CASE WHEN NOT (
                c.raw_1_3 IS NULL
              ) THEN 10.0 ELSE 0.0 END + CASE WHEN NOT (
                c.raw_1_4 IS NULL
              ) THEN 15.0 ELSE 0.0 END + CASE WHEN NOT (
                c.raw_1_5 IS NULL
              ) THEN 15.0 ELSE 0.0 END
            ) = 0.0
            THEN NULL
            ELSE (
              COALESCE(25.0 * c.score_1_0, CAST(0 AS Nullable(Float64))) + COALESCE(15.0 * c.score_1_1, CAST(0 AS Nullable(Float64))) + COALESCE(20.0 * c.score_1_2, CAST(0 AS Nullable(Float64))) + COALESCE(10.0 * c.score_1_3, CAST(0 AS Nullable(Float64))) + COALESCE(15.0 * c.score_1_4, CAST(0 AS Nullable(Float64))) + COALESCE(15.0 * c.score_1_5, CAST(0 AS Nullable(Float64)))
            ) / (
              CASE WHEN NOT (
                c.score_1_0 IS NULL
              ) THEN 25.0 ELSE 0.0 END + CASE WHEN NOT (
                c.score_1_1 IS NULL
              ) THEN 15.0 ELSE 0.0 END + CASE WHEN NOT (
                c.score_1_2 IS NULL
              ) THEN 20.0 ELSE 0.0 END + CASE WHEN NOT (
                c.score_1_3 IS NULL
              ) THEN 10.0 ELSE 0.0 END + CASE WHEN NOT (
                c.score_1_4 IS NULL
              ) THEN 15.0 ELSE 0.0 END + CASE WHEN NOT (
                c.score_1_5 IS NULL
              ) THEN 15.0 ELSE 0.0 END
            )
          END AS category_1,
          (
            CAST(CASE WHEN NOT (
              c.raw_1_0 IS NULL
            ) THEN 25.0 ELSE 0.0 END + CASE WHEN NOT (
              c.raw_1_1 IS NULL
            ) THEN 15.0 ELSE 0.0 END + CASE WHEN NOT (
              c.raw_1_2 IS NULL
            ) THEN 20.0 ELSE 0.0 END + CASE WHEN NOT (
              c.raw_1_3 IS NULL
            ) THEN 10.0 ELSE 0.0 END + CASE WHEN NOT (
              c.raw_1_4 IS NULL
            ) THEN 15.0 ELSE 0.0 END + CASE WHEN NOT (
              c.raw_1_5 IS NULL
            ) THEN 15.0 ELSE 0.0 END AS Nullable(Float64))
          ) / 100.0 AS coverage_1,
          CASE
            WHEN (
              CASE WHEN NOT (
                c.raw_2_0 IS NULL
              ) THEN 60.0 ELSE 0.0 END + CASE WHEN NOT (
                c.raw_2_1 IS NULL
              ) THEN 40.0 ELSE 0.0 END
            ) = 0.0
            THEN NULL
            ELSE (
              COALESCE(60.0 * c.score_2_0, CAST(0 AS Nullable(Float64))) + COALESCE(40.0 * c.score_2_1, CAST(0 AS Nullable(Float64)))
            ) / (
              CASE WHEN NOT (
                c.score_2_0 IS NULL
              ) THEN 60.0 ELSE 0.0 END + CASE WHEN NOT (
                c.score_2_1 IS NULL
              ) THEN 40.0 ELSE 0.0 END
            )
          END AS category_2,
          (
            CAST(CASE WHEN NOT (
              c.raw_2_0 IS NULL
            ) THEN 60.0 ELSE 0.0 END + CASE WHEN NOT (
              c.raw_2_1 IS NULL
            ) THEN 40.0 ELSE 0.0 END AS Nullable(Float64))
          ) / 100.0 AS coverage_2
        FROM analytics._hl_account_health_components AS c
      ) AS s
    ) AS h
  ) AS t
) AS o
CROSS JOIN analytics._hl_bounds AS cb
