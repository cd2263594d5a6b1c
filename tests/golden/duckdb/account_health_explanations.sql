-- Golden SQL checked by tests/test_golden_sql.py::test_golden_sql
-- dialect: duckdb, view: account_health_explanations, project: tests/fixtures/shop, schema: analytics
-- Rewrite with HEALTHLAYER_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
CREATE OR REPLACE VIEW analytics.account_health_explanations AS
SELECT
  o.as_of_date,
  o.account_id,
  o.category,
  o.component,
  o.raw_value,
  o.score,
  o.weight,
  o.contribution,
  o.contribution_change_7d,
  o.category_score,
  o.weakest_category,
  cb.last_date AS complete_through
FROM (
  SELECT
    as_of_date,
    account_id,
    category,
    component,
    raw_value,
    score,
    weight,
    contribution,
    contribution - LAG(contribution, 7) OVER (PARTITION BY account_id, component_index ORDER BY as_of_date) AS contribution_change_7d,
    category_score,
    weakest_category
  FROM (
    SELECT
      l.as_of_date,
      l.account_id,
      l.component_index,
      l.category,
      l.component,
      l.raw_value,
      l.score,
      l.weight,
      CASE
        WHEN l.weight IS NULL
        THEN NULL
        WHEN l.weight = 0.0
        THEN CAST(0.0 AS DOUBLE)
        ELSE l.weight * l.carried / 100.0
      END AS contribution,
      l.category_score,
      l.weakest_category
    FROM (
      SELECT
        p.as_of_date,
        p.account_id,
        k.component_index,
        CASE k.component_index
          WHEN 0
          THEN 'engagement'
          WHEN 1
          THEN 'engagement'
          WHEN 2
          THEN 'engagement'
          WHEN 3
          THEN 'commercial'
          WHEN 4
          THEN 'commercial'
          WHEN 5
          THEN 'commercial'
          WHEN 6
          THEN 'commercial'
          WHEN 7
          THEN 'commercial'
          WHEN 8
          THEN 'commercial'
          WHEN 9
          THEN 'relationship'
          WHEN 10
          THEN 'relationship'
        END AS category,
        CASE k.component_index
          WHEN 0
          THEN 'stickiness'
          WHEN 1
          THEN 'buyer_share'
          WHEN 2
          THEN 'breadth'
          WHEN 3
          THEN 'revenue'
          WHEN 4
          THEN 'revenue_trend'
          WHEN 5
          THEN 'orders'
          WHEN 6
          THEN 'orders_trend'
          WHEN 7
          THEN 'smallest_basket'
          WHEN 8
          THEN 'largest_basket'
          WHEN 9
          THEN 'nps'
          WHEN 10
          THEN 'seats'
        END AS component,
        CASE k.component_index
          WHEN 0
          THEN p.raw_0_0
          WHEN 1
          THEN p.raw_0_1
          WHEN 2
          THEN p.raw_0_2
          WHEN 3
          THEN p.raw_1_0
          WHEN 4
          THEN p.raw_1_1
          WHEN 5
          THEN p.raw_1_2
          WHEN 6
          THEN p.raw_1_3
          WHEN 7
          THEN p.raw_1_4
          WHEN 8
          THEN p.raw_1_5
          WHEN 9
          THEN p.raw_2_0
          WHEN 10
          THEN p.raw_2_1
        END AS raw_value,
        CASE k.component_index
          WHEN 0
          THEN p.score_0_0
          WHEN 1
          THEN p.score_0_1
          WHEN 2
          THEN p.score_0_2
          WHEN 3
          THEN p.score_1_0
          WHEN 4
          THEN p.score_1_1
          WHEN 5
          THEN p.score_1_2
          WHEN 6
          THEN p.score_1_3
          WHEN 7
          THEN p.score_1_4
          WHEN 8
          THEN p.score_1_5
          WHEN 9
          THEN p.score_2_0
          WHEN 10
          THEN p.score_2_1
        END AS score,
        CASE k.component_index
          WHEN 0
          THEN p.weight_0_0
          WHEN 1
          THEN p.weight_0_1
          WHEN 2
          THEN p.weight_0_2
          WHEN 3
          THEN p.weight_1_0
          WHEN 4
          THEN p.weight_1_1
          WHEN 5
          THEN p.weight_1_2
          WHEN 6
          THEN p.weight_1_3
          WHEN 7
          THEN p.weight_1_4
          WHEN 8
          THEN p.weight_1_5
          WHEN 9
          THEN p.weight_2_0
          WHEN 10
          THEN p.weight_2_1
        END AS weight,
        CASE k.component_index
          WHEN 0
          THEN p.value_0_0
          WHEN 1
          THEN p.value_0_1
          WHEN 2
          THEN p.value_0_2
          WHEN 3
          THEN p.value_1_0
          WHEN 4
          THEN p.value_1_1
          WHEN 5
          THEN p.value_1_2
          WHEN 6
          THEN p.value_1_3
          WHEN 7
          THEN p.value_1_4
          WHEN 8
          THEN p.value_1_5
          WHEN 9
          THEN p.value_2_0
          WHEN 10
          THEN p.value_2_1
        END AS carried,
        CASE k.component_index
          WHEN 0
          THEN p.category_0_0
          WHEN 1
          THEN p.category_0_1
          WHEN 2
          THEN p.category_0_2
          WHEN 3
          THEN p.category_1_0
          WHEN 4
          THEN p.category_1_1
          WHEN 5
          THEN p.category_1_2
          WHEN 6
          THEN p.category_1_3
          WHEN 7
          THEN p.category_1_4
          WHEN 8
          THEN p.category_1_5
          WHEN 9
          THEN p.category_2_0
          WHEN 10
          THEN p.category_2_1
        END AS category_score,
        p.weakest_category
      FROM (
        SELECT
          t.as_of_date,
          t.account_id,
          CASE
            WHEN NOT t.category_0 IS NULL
            AND (
              t.category_1 IS NULL OR t.category_0 <= t.category_1
            )
            AND (
              t.category_2 IS NULL OR t.category_0 <= t.category_2
            )
            THEN 'engagement'
            WHEN NOT t.category_1 IS NULL
            AND (
              t.category_0 IS NULL OR t.category_1 <= t.category_0
            )
            AND (
              t.category_2 IS NULL OR t.category_1 <= t.category_2
            )
            THEN 'commercial'
            WHEN NOT t.category_2 IS NULL
            AND (
              t.category_0 IS NULL OR t.category_2 <= t.category_0
            )
            AND (
              t.category_1 IS NULL OR t.category_2 <= t.category_1
            )
            THEN 'relationship'
          END AS weakest_category,
          t.category_0 AS category_0_0,
          CAST(t.raw_0_0 AS DOUBLE) AS raw_0_0,
          CASE WHEN NOT t.category_0 IS NULL THEN t.score_0_0 END AS score_0_0,
          CASE
            WHEN t.has_data = 1
            AND (
              CASE WHEN NOT t.effective_0 IS NULL THEN t.category_weight_0 ELSE 0.0 END + CASE WHEN NOT t.effective_1 IS NULL THEN t.category_weight_1 ELSE 0.0 END + CASE WHEN NOT t.effective_2 IS NULL THEN t.category_weight_2 ELSE 0.0 END
            ) > 0.0
            THEN CAST(100.0 AS DOUBLE) * CASE
              WHEN NOT t.effective_0 IS NULL
              THEN t.category_weight_0 / (
                CASE WHEN NOT t.effective_0 IS NULL THEN t.category_weight_0 ELSE 0.0 END + CASE WHEN NOT t.effective_1 IS NULL THEN t.category_weight_1 ELSE 0.0 END + CASE WHEN NOT t.effective_2 IS NULL THEN t.category_weight_2 ELSE 0.0 END
              )
              ELSE 0.0
            END * CASE
              WHEN NOT t.category_0 IS NULL
              THEN CASE
                WHEN NOT t.score_0_0 IS NULL
                THEN CAST(50.0 AS DOUBLE) / CAST(t.scored_0 AS DOUBLE)
                ELSE 0.0
              END
              WHEN NOT t.effective_0 IS NULL
              THEN CAST(0.5 AS DOUBLE)
              ELSE 0.0
            END
          END AS weight_0_0,
          CAST(CASE WHEN NOT t.category_0 IS NULL THEN t.score_0_0 ELSE t.effective_0 END AS DOUBLE) AS value_0_0,
          t.category_0 AS category_0_1,
          CAST(t.raw_0_1 AS DOUBLE) AS raw_0_1,
          CASE WHEN NOT t.category_0 IS NULL THEN t.score_0_1 END AS score_0_1,
          CASE
            WHEN t.has_data = 1
            AND (
              CASE WHEN NOT t.effective_0 IS NULL THEN t.category_weight_0 ELSE 0.0 END + CASE WHEN NOT t.effective_1 IS NULL THEN t.category_weight_1 ELSE 0.0 END + CASE WHEN NOT t.effective_2 IS NULL THEN t.category_weight_2 ELSE 0.0 END
            ) > 0.0
            THEN CAST(100.0 AS DOUBLE) * CASE
              WHEN NOT t.effective_0 IS NULL
              THEN t.category_weight_0 / (
                CASE WHEN NOT t.effective_0 IS NULL THEN t.category_weight_0 ELSE 0.0 END + CASE WHEN NOT t.effective_1 IS NULL THEN t.category_weight_1 ELSE 0.0 END + CASE WHEN NOT t.effective_2 IS NULL THEN t.category_weight_2 ELSE 0.0 END
              )
              ELSE 0.0
            END * CASE
              WHEN NOT t.category_0 IS NULL
              THEN CASE
                WHEN NOT t.score_0_1 IS NULL
                THEN CAST(25.0 AS DOUBLE) / CAST(t.scored_0 AS DOUBLE)
                ELSE 0.0
              END
              WHEN NOT t.effective_0 IS NULL
              THEN CAST(0.25 AS DOUBLE)
              ELSE 0.0
            END
          END AS weight_0_1,
          CAST(CASE WHEN NOT t.category_0 IS NULL THEN t.score_0_1 ELSE t.effective_0 END AS DOUBLE) AS value_0_1,
          t.category_0 AS category_0_2,
          CAST(t.raw_0_2 AS DOUBLE) AS raw_0_2,
          CASE WHEN NOT t.category_0 IS NULL THEN t.score_0_2 END AS score_0_2,
          CASE
            WHEN t.has_data = 1
            AND (
              CASE WHEN NOT t.effective_0 IS NULL THEN t.category_weight_0 ELSE 0.0 END + CASE WHEN NOT t.effective_1 IS NULL THEN t.category_weight_1 ELSE 0.0 END + CASE WHEN NOT t.effective_2 IS NULL THEN t.category_weight_2 ELSE 0.0 END
            ) > 0.0
            THEN CAST(100.0 AS DOUBLE) * CASE
              WHEN NOT t.effective_0 IS NULL
              THEN t.category_weight_0 / (
                CASE WHEN NOT t.effective_0 IS NULL THEN t.category_weight_0 ELSE 0.0 END + CASE WHEN NOT t.effective_1 IS NULL THEN t.category_weight_1 ELSE 0.0 END + CASE WHEN NOT t.effective_2 IS NULL THEN t.category_weight_2 ELSE 0.0 END
              )
              ELSE 0.0
            END * CASE
              WHEN NOT t.category_0 IS NULL
              THEN CASE
                WHEN NOT t.score_0_2 IS NULL
                THEN CAST(25.0 AS DOUBLE) / CAST(t.scored_0 AS DOUBLE)
                ELSE 0.0
              END
              WHEN NOT t.effective_0 IS NULL
              THEN CAST(0.25 AS DOUBLE)
              ELSE 0.0
            END
          END AS weight_0_2,
          CAST(CASE WHEN NOT t.category_0 IS NULL THEN t.score_0_2 ELSE t.effective_0 END AS DOUBLE) AS value_0_2,
          t.category_1 AS category_1_0,
          CAST(t.raw_1_0 AS DOUBLE) AS raw_1_0,
          CASE WHEN NOT t.category_1 IS NULL THEN t.score_1_0 END AS score_1_0,
          CASE
            WHEN t.has_data = 1
            AND (
              CASE WHEN NOT t.effective_0 IS NULL THEN t.category_weight_0 ELSE 0.0 END + CASE WHEN NOT t.effective_1 IS NULL THEN t.category_weight_1 ELSE 0.0 END + CASE WHEN NOT t.effective_2 IS NULL THEN t.category_weight_2 ELSE 0.0 END
            ) > 0.0
            THEN CAST(100.0 AS DOUBLE) * CASE
              WHEN NOT t.effective_1 IS NULL
              THEN t.category_weight_1 / (
                CASE WHEN NOT t.effective_0 IS NULL THEN t.category_weight_0 ELSE 0.0 END + CASE WHEN NOT t.effective_1 IS NULL THEN t.category_weight_1 ELSE 0.0 END + CASE WHEN NOT t.effective_2 IS NULL THEN t.category_weight_2 ELSE 0.0 END
              )
              ELSE 0.0
            END * CASE
              WHEN NOT t.category_1 IS NULL
              THEN CASE
                WHEN NOT t.score_1_0 IS NULL
                THEN CAST(25.0 AS DOUBLE) / CAST(t.scored_1 AS DOUBLE)
                ELSE 0.0
              END
              WHEN NOT t.effective_1 IS NULL
              THEN CAST(0.25 AS DOUBLE)
              ELSE 0.0
            END
          END AS weight_1_0,
          CAST(CASE WHEN NOT t.category_1 IS NULL THEN t.score_1_0 ELSE t.effective_1 END AS DOUBLE) AS value_1_0,
          t.category_1 AS category_1_1,
          CAST(t.raw_1_1 AS DOUBLE) AS raw_1_1,
          CASE WHEN NOT t.category_1 IS NULL THEN t.score_1_1 END AS score_1_1,
          CASE
            WHEN t.has_data = 1
            AND (
              CASE WHEN NOT t.effective_0 IS NULL THEN t.category_weight_0 ELSE 0.0 END + CASE WHEN NOT t.effective_1 IS NULL THEN t.category_weight_1 ELSE 0.0 END + CASE WHEN NOT t.effective_2 IS NULL THEN t.category_weight_2 ELSE 0.0 END
            ) > 0.0
            THEN CAST(100.0 AS DOUBLE) * CASE
              WHEN NOT t.effective_1 IS NULL
              THEN t.category_weight_1 / (
                CASE WHEN NOT t.effective_0 IS NULL THEN t.category_weight_0 ELSE 0.0 END + CASE WHEN NOT t.effective_1 IS NULL THEN t.category_weight_1 ELSE 0.0 END + CASE WHEN NOT t.effective_2 IS NULL THEN t.category_weight_2 ELSE 0.0 END
              )
              ELSE 0.0
            END * CASE
              WHEN NOT t.category_1 IS NULL
              THEN CASE
                WHEN NOT t.score_1_1 IS NULL
                THEN CAST(15.0 AS DOUBLE) / CAST(t.scored_1 AS DOUBLE)
                ELSE 0.0
              END
              WHEN NOT t.effective_1 IS NULL
              THEN CAST(0.15 AS DOUBLE)
              ELSE 0.0
            END
          END AS weight_1_1,
          CAST(CASE WHEN NOT t.category_1 IS NULL THEN t.score_1_1 ELSE t.effective_1 END AS DOUBLE) AS value_1_1,
          t.category_1 AS category_1_2,
          CAST(t.raw_1_2 AS DOUBLE) AS raw_1_2,
          CASE WHEN NOT t.category_1 IS NULL THEN t.score_1_2 END AS score_1_2,
          CASE
            WHEN t.has_data = 1
            AND (
              CASE WHEN NOT t.effective_0 IS NULL THEN t.category_weight_0 ELSE 0.0 END + CASE WHEN NOT t.effective_1 IS NULL THEN t.category_weight_1 ELSE 0.0 END + CASE WHEN NOT t.effective_2 IS NULL THEN t.category_weight_2 ELSE 0.0 END
            ) > 0.0
            THEN CAST(100.0 AS DOUBLE) * CASE
              WHEN NOT t.effective_1 IS NULL
              THEN t.category_weight_1 / (
                CASE WHEN NOT t.effective_0 IS NULL THEN t.category_weight_0 ELSE 0.0 END + CASE WHEN NOT t.effective_1 IS NULL THEN t.category_weight_1 ELSE 0.0 END + CASE WHEN NOT t.effective_2 IS NULL THEN t.category_weight_2 ELSE 0.0 END
              )
              ELSE 0.0
            END * CASE
              WHEN NOT t.category_1 IS NULL
              THEN CASE
                WHEN NOT t.score_1_2 IS NULL
                THEN CAST(20.0 AS DOUBLE) / CAST(t.scored_1 AS DOUBLE)
                ELSE 0.0
              END
              WHEN NOT t.effective_1 IS NULL
              THEN CAST(0.2 AS DOUBLE)
              ELSE 0.0
            END
          END AS weight_1_2,
          CAST(CASE WHEN NOT t.category_1 IS NULL THEN t.score_1_2 ELSE t.effective_1 END AS DOUBLE) AS value_1_2,
          t.category_1 AS category_1_3,
          CAST(t.raw_1_3 AS DOUBLE) AS raw_1_3,
          CASE WHEN NOT t.category_1 IS NULL THEN t.score_1_3 END AS score_1_3,
          CASE
            WHEN t.has_data = 1
            AND (
              CASE WHEN NOT t.effective_0 IS NULL THEN t.category_weight_0 ELSE 0.0 END + CASE WHEN NOT t.effective_1 IS NULL THEN t.category_weight_1 ELSE 0.0 END + CASE WHEN NOT t.effective_2 IS NULL THEN t.category_weight_2 ELSE 0.0 END
            ) > 0.0
            THEN CAST(100.0 AS DOUBLE) * CASE
              WHEN NOT t.effective_1 IS NULL
              THEN t.category_weight_1 / (
                CASE WHEN NOT t.effective_0 IS NULL THEN t.category_weight_0 ELSE 0.0 END + CASE WHEN NOT t.effective_1 IS NULL THEN t.category_weight_1 ELSE 0.0 END + CASE WHEN NOT t.effective_2 IS NULL THEN t.category_weight_2 ELSE 0.0 END
              )
              ELSE 0.0
            END * CASE
              WHEN NOT t.category_1 IS NULL
              THEN CASE
                WHEN NOT t.score_1_3 IS NULL
                THEN CAST(10.0 AS DOUBLE) / CAST(t.scored_1 AS DOUBLE)
                ELSE 0.0
              END
              WHEN NOT t.effective_1 IS NULL
              THEN CAST(0.1 AS DOUBLE)
              ELSE 0.0
            END
          END AS weight_1_3,
          CAST(CASE WHEN NOT t.category_1 IS NULL THEN t.score_1_3 ELSE t.effective_1 END AS DOUBLE) AS value_1_3,
          t.category_1 AS category_1_4,
          CAST(t.raw_1_4 AS DOUBLE) AS raw_1_4,
          CASE WHEN NOT t.category_1 IS NULL THEN t.score_1_4 END AS score_1_4,
          CASE
            WHEN t.has_data = 1
            AND (
              CASE WHEN NOT t.effective_0 IS NULL THEN t.category_weight_0 ELSE 0.0 END + CASE WHEN NOT t.effective_1 IS NULL THEN t.category_weight_1 ELSE 0.0 END + CASE WHEN NOT t.effective_2 IS NULL THEN t.category_weight_2 ELSE 0.0 END
            ) > 0.0
            THEN CAST(100.0 AS DOUBLE) * CASE
              WHEN NOT t.effective_1 IS NULL
              THEN t.category_weight_1 / (
                CASE WHEN NOT t.effective_0 IS NULL THEN t.category_weight_0 ELSE 0.0 END + CASE WHEN NOT t.effective_1 IS NULL THEN t.category_weight_1 ELSE 0.0 END + CASE WHEN NOT t.effective_2 IS NULL THEN t.category_weight_2 ELSE 0.0 END
              )
              ELSE 0.0
            END * CASE
              WHEN NOT t.category_1 IS NULL
              THEN CASE
                WHEN NOT t.score_1_4 IS NULL
                THEN CAST(15.0 AS DOUBLE) / CAST(t.scored_1 AS DOUBLE)
                ELSE 0.0
              END
              WHEN NOT t.effective_1 IS NULL
              THEN CAST(0.15 AS DOUBLE)
              ELSE 0.0
            END
          END AS weight_1_4,
          CAST(CASE WHEN NOT t.category_1 IS NULL THEN t.score_1_4 ELSE t.effective_1 END AS DOUBLE) AS value_1_4,
          t.category_1 AS category_1_5,
          CAST(t.raw_1_5 AS DOUBLE) AS raw_1_5,
          CASE WHEN NOT t.category_1 IS NULL THEN t.score_1_5 END AS score_1_5,
          CASE
            WHEN t.has_data = 1
            AND (
              CASE WHEN NOT t.effective_0 IS NULL THEN t.category_weight_0 ELSE 0.0 END + CASE WHEN NOT t.effective_1 IS NULL THEN t.category_weight_1 ELSE 0.0 END + CASE WHEN NOT t.effective_2 IS NULL THEN t.category_weight_2 ELSE 0.0 END
            ) > 0.0
            THEN CAST(100.0 AS DOUBLE) * CASE
              WHEN NOT t.effective_1 IS NULL
              THEN t.category_weight_1 / (
                CASE WHEN NOT t.effective_0 IS NULL THEN t.category_weight_0 ELSE 0.0 END + CASE WHEN NOT t.effective_1 IS NULL THEN t.category_weight_1 ELSE 0.0 END + CASE WHEN NOT t.effective_2 IS NULL THEN t.category_weight_2 ELSE 0.0 END
              )
              ELSE 0.0
            END * CASE
              WHEN NOT t.category_1 IS NULL
              THEN CASE
                WHEN NOT t.score_1_5 IS NULL
                THEN CAST(15.0 AS DOUBLE) / CAST(t.scored_1 AS DOUBLE)
                ELSE 0.0
              END
              WHEN NOT t.effective_1 IS NULL
              THEN CAST(0.15 AS DOUBLE)
              ELSE 0.0
            END
          END AS weight_1_5,
          CAST(CASE WHEN NOT t.category_1 IS NULL THEN t.score_1_5 ELSE t.effective_1 END AS DOUBLE) AS value_1_5,
          t.category_2 AS category_2_0,
          CAST(t.raw_2_0 AS DOUBLE) AS raw_2_0,
          CASE WHEN NOT t.category_2 IS NULL THEN t.score_2_0 END AS score_2_0,
          CASE
            WHEN t.has_data = 1
            AND (
              CASE WHEN NOT t.effective_0 IS NULL THEN t.category_weight_0 ELSE 0.0 END + CASE WHEN NOT t.effective_1 IS NULL THEN t.category_weight_1 ELSE 0.0 END + CASE WHEN NOT t.effective_2 IS NULL THEN t.category_weight_2 ELSE 0.0 END
            ) > 0.0
            THEN CAST(100.0 AS DOUBLE) * CASE
              WHEN NOT t.effective_2 IS NULL
              THEN t.category_weight_2 / (
                CASE WHEN NOT t.effective_0 IS NULL THEN t.category_weight_0 ELSE 0.0 END + CASE WHEN NOT t.effective_1 IS NULL THEN t.category_weight_1 ELSE 0.0 END + CASE WHEN NOT t.effective_2 IS NULL THEN t.category_weight_2 ELSE 0.0 END
              )
              ELSE 0.0
            END * CASE
              WHEN NOT t.category_2 IS NULL
              THEN CASE
                WHEN NOT t.score_2_0 IS NULL
                THEN CAST(60.0 AS DOUBLE) / CAST(t.scored_2 AS DOUBLE)
                ELSE 0.0
              END
              WHEN NOT t.effective_2 IS NULL
              THEN CAST(0.6 AS DOUBLE)
              ELSE 0.0
            END
          END AS weight_2_0,
          CAST(CASE WHEN NOT t.category_2 IS NULL THEN t.score_2_0 ELSE t.effective_2 END AS DOUBLE) AS value_2_0,
          t.category_2 AS category_2_1,
          CAST(t.raw_2_1 AS DOUBLE) AS raw_2_1,
          CASE WHEN NOT t.category_2 IS NULL THEN t.score_2_1 END AS score_2_1,
          CASE
            WHEN t.has_data = 1
            AND (
              CASE WHEN NOT t.effective_0 IS NULL THEN t.category_weight_0 ELSE 0.0 END + CASE WHEN NOT t.effective_1 IS NULL THEN t.category_weight_1 ELSE 0.0 END + CASE WHEN NOT t.effective_2 IS NULL THEN t.category_weight_2 ELSE 0.0 END
            ) > 0.0
            THEN CAST(100.0 AS DOUBLE) * CASE
              WHEN NOT t.effective_2 IS NULL
              THEN t.category_weight_2 / (
                CASE WHEN NOT t.effective_0 IS NULL THEN t.category_weight_0 ELSE 0.0 END + CASE WHEN NOT t.effective_1 IS NULL THEN t.category_weight_1 ELSE 0.0 END + CASE WHEN NOT t.effective_2 IS NULL THEN t.category_weight_2 ELSE 0.0 END
              )
              ELSE 0.0
            END * CASE
              WHEN NOT t.category_2 IS NULL
              THEN CASE
                WHEN NOT t.score_2_1 IS NULL
                THEN CAST(40.0 AS DOUBLE) / CAST(t.scored_2 AS DOUBLE)
                ELSE 0.0
              END
              WHEN NOT t.effective_2 IS NULL
              THEN CAST(0.4 AS DOUBLE)
              ELSE 0.0
            END
          END AS weight_2_1,
          CAST(CASE WHEN NOT t.category_2 IS NULL THEN t.score_2_1 ELSE t.effective_2 END AS DOUBLE) AS value_2_1
        FROM (
          SELECT
            s.as_of_date,
            s.account_id,
            s.has_data,
            s.category_0,
            s.scored_0,
            s.category_1,
            s.scored_1,
            s.category_2,
            s.scored_2,
            s.raw_0_0,
            s.score_0_0,
            s.raw_0_1,
            s.score_0_1,
            s.raw_0_2,
            s.score_0_2,
            s.raw_1_0,
            s.score_1_0,
            s.raw_1_1,
            s.score_1_1,
            s.raw_1_2,
            s.score_1_2,
            s.raw_1_3,
            s.score_1_3,
            s.raw_1_4,
            s.score_1_4,
            s.raw_1_5,
            s.score_1_5,
            s.raw_2_0,
            s.score_2_0,
            s.raw_2_1,
            s.score_2_1,
            s.category_0 AS effective_0,
            CAST(50.0 AS DOUBLE) AS category_weight_0,
            COALESCE(s.category_1, CAST(50.0 AS DOUBLE)) AS effective_1,
            CAST(30.0 AS DOUBLE) AS category_weight_1,
            COALESCE(s.category_2, CAST(0.0 AS DOUBLE)) AS effective_2,
            CAST(20.0 AS DOUBLE) AS category_weight_2
          FROM (
            SELECT
              c.as_of_date,
              c.account_id,
              CASE
                WHEN (
                  CASE WHEN NOT c.raw_0_0 IS NULL THEN 50.0 ELSE 0.0 END + CASE WHEN NOT c.raw_0_1 IS NULL THEN 25.0 ELSE 0.0 END + CASE WHEN NOT c.raw_0_2 IS NULL THEN 25.0 ELSE 0.0 END
                ) = 0.0
                THEN NULL
                ELSE (
                  COALESCE(50.0 * c.score_0_0, CAST(0 AS DOUBLE)) + COALESCE(25.0 * c.score_0_1, CAST(0 AS DOUBLE)) + COALESCE(25.0 * c.score_0_2, CAST(0 AS DOUBLE))
                ) / (
                  CASE WHEN NOT c.score_0_0 IS NULL THEN 50.0 ELSE 0.0 END + CASE WHEN NOT c.score_0_1 IS NULL THEN 25.0 ELSE 0.0 END + CASE WHEN NOT c.score_0_2 IS NULL THEN 25.0 ELSE 0.0 END
                )
              END AS category_0,
              CASE WHEN NOT c.score_0_0 IS NULL THEN 50.0 ELSE 0.0 END + CASE WHEN NOT c.score_0_1 IS NULL THEN 25.0 ELSE 0.0 END + CASE WHEN NOT c.score_0_2 IS NULL THEN 25.0 ELSE 0.0 END AS scored_0,
              CASE
                WHEN (
                  CASE WHEN NOT c.raw_1_0 IS NULL THEN 25.0 ELSE 0.0 END + CASE WHEN NOT c.raw_1_1 IS NULL THEN 15.0 ELSE 0.0 END + CASE WHEN NOT c.raw_1_2 IS NULL THEN 20.0 ELSE 0.0 END + CASE WHEN NOT c.raw_1_3 IS NULL THEN 10.0 ELSE 0.0 END + CASE WHEN NOT c.raw_1_4 IS NULL THEN 15.0 ELSE 0.0 END + CASE WHEN NOT c.raw_1_5 IS NULL THEN 15.0 ELSE 0.0 END
                ) = 0.0
                THEN NULL
                ELSE (
                  COALESCE(25.0 * c.score_1_0, CAST(0 AS DOUBLE)) + COALESCE(15.0 * c.score_1_1, CAST(0 AS DOUBLE)) + COALESCE(20.0 * c.score_1_2, CAST(0 AS DOUBLE)) + COALESCE(10.0 * c.score_1_3, CAST(0 AS DOUBLE)) + COALESCE(15.0 * c.score_1_4, CAST(0 AS DOUBLE)) + COALESCE(15.0 * c.score_1_5, CAST(0 AS DOUBLE))
                ) / (
                  CASE WHEN NOT c.score_1_0 IS NULL THEN 25.0 ELSE 0.0 END + CASE WHEN NOT c.score_1_1 IS NULL THEN 15.0 ELSE 0.0 END + CASE WHEN NOT c.score_1_2 IS NULL THEN 20.0 ELSE 0.0 END + CASE WHEN NOT c.score_1_3 IS NULL THEN 10.0 ELSE 0.0 END + CASE WHEN NOT c.score_1_4 IS NULL THEN 15.0 ELSE 0.0 END + CASE WHEN NOT c.score_1_5 IS NULL THEN 15.0 ELSE 0.0 END
                )
              END AS category_1,
              CASE WHEN NOT c.score_1_0 IS NULL THEN 25.0 ELSE 0.0 END + CASE WHEN NOT c.score_1_1 IS NULL THEN 15.0 ELSE 0.0 END + CASE WHEN NOT c.score_1_2 IS NULL THEN 20.0 ELSE 0.0 END + CASE WHEN NOT c.score_1_3 IS NULL THEN 10.0 ELSE 0.0 END + CASE WHEN NOT c.score_1_4 IS NULL THEN 15.0 ELSE 0.0 END + CASE WHEN NOT c.score_1_5 IS NULL THEN 15.0 ELSE 0.0 END AS scored_1,
              CASE
                WHEN (
                  CASE WHEN NOT c.raw_2_0 IS NULL THEN 60.0 ELSE 0.0 END + CASE WHEN NOT c.raw_2_1 IS NULL THEN 40.0 ELSE 0.0 END
                ) = 0.0
                THEN NULL
                ELSE (
                  COALESCE(60.0 * c.score_2_0, CAST(0 AS DOUBLE)) + COALESCE(40.0 * c.score_2_1, CAST(0 AS DOUBLE))
                ) / (
                  CASE WHEN NOT c.score_2_0 IS NULL THEN 60.0 ELSE 0.0 END + CASE WHEN NOT c.score_2_1 IS NULL THEN 40.0 ELSE 0.0 END
                )
              END AS category_2,
              CASE WHEN NOT c.score_2_0 IS NULL THEN 60.0 ELSE 0.0 END + CASE WHEN NOT c.score_2_1 IS NULL THEN 40.0 ELSE 0.0 END AS scored_2,
              c.raw_0_0,
              c.score_0_0,
              c.raw_0_1,
              c.score_0_1,
              c.raw_0_2,
              c.score_0_2,
              c.raw_1_0,
              c.score_1_0,
              c.raw_1_1,
              c.score_1_1,
              c.raw_1_2,
              c.score_1_2,
              c.raw_1_3,
              c.score_1_3,
              c.raw_1_4,
              c.score_1_4,
              c.raw_1_5,
              c.score_1_5,
              c.raw_2_0,
              c.score_2_0,
              c.raw_2_1,
              c.score_2_1,
              CASE
                WHEN NOT c.raw_0_0 IS NULL
                OR NOT c.raw_0_1 IS NULL
                OR NOT c.raw_0_2 IS NULL
                OR NOT c.raw_1_0 IS NULL
                OR NOT c.raw_1_1 IS NULL
                OR NOT c.raw_1_2 IS NULL
                OR NOT c.raw_1_3 IS NULL
                OR NOT c.raw_1_4 IS NULL
                OR NOT c.raw_1_5 IS NULL
                OR NOT c.raw_2_0 IS NULL
                OR NOT c.raw_2_1 IS NULL
                THEN 1
                ELSE 0
              END AS has_data
            FROM analytics._hl_account_health_components AS c
          ) AS s
        ) AS t
      ) AS p
      CROSS JOIN (
        SELECT
          0 AS component_index
        UNION ALL
        SELECT
          1 AS component_index
        UNION ALL
        SELECT
          2 AS component_index
        UNION ALL
        SELECT
          3 AS component_index
        UNION ALL
        SELECT
          4 AS component_index
        UNION ALL
        SELECT
          5 AS component_index
        UNION ALL
        SELECT
          6 AS component_index
        UNION ALL
        SELECT
          7 AS component_index
        UNION ALL
        SELECT
          8 AS component_index
        UNION ALL
        SELECT
          9 AS component_index
        UNION ALL
        SELECT
          10 AS component_index
      ) AS k
    ) AS l
  ) AS x
) AS o
CROSS JOIN analytics._hl_bounds AS cb
