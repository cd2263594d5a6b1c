WITH sma_10002_cte AS (
  SELECT
    DATE_TRUNC('day', activity_date) AS metric_time__day
    , user_id AS __active_users
  FROM "metricflow"."main"."user_days" user_days_src_10000
)

SELECT
  COALESCE(subq_9.metric_time__day, subq_18.metric_time__day, subq_27.metric_time__day) AS metric_time__day
  , MAX(subq_9.dau) AS dau
  , MAX(subq_18.wau) AS wau
  , MAX(subq_27.mau) AS mau
FROM (
  SELECT
    subq_3.date_day AS metric_time__day
    , COUNT(DISTINCT sma_10002_cte.__active_users) AS dau
  FROM "metricflow"."main"."metricflow_time_spine" subq_3
  INNER JOIN
    sma_10002_cte
  ON
    (
      sma_10002_cte.metric_time__day <= subq_3.date_day
    ) AND (
      sma_10002_cte.metric_time__day > subq_3.date_day - INTERVAL 1 day
    )
  GROUP BY
    subq_3.date_day
) subq_9
FULL OUTER JOIN (
  SELECT
    subq_12.date_day AS metric_time__day
    , COUNT(DISTINCT sma_10002_cte.__active_users) AS wau
  FROM "metricflow"."main"."metricflow_time_spine" subq_12
  INNER JOIN
    sma_10002_cte
  ON
    (
      sma_10002_cte.metric_time__day <= subq_12.date_day
    ) AND (
      sma_10002_cte.metric_time__day > subq_12.date_day - INTERVAL 7 day
    )
  GROUP BY
    subq_12.date_day
) subq_18
ON
  subq_9.metric_time__day = subq_18.metric_time__day
FULL OUTER JOIN (
  SELECT
    subq_21.date_day AS metric_time__day
    , COUNT(DISTINCT sma_10002_cte.__active_users) AS mau
  FROM "metricflow"."main"."metricflow_time_spine" subq_21
  INNER JOIN
    sma_10002_cte
  ON
    (
      sma_10002_cte.metric_time__day <= subq_21.date_day
    ) AND (
      sma_10002_cte.metric_time__day > subq_21.date_day - INTERVAL 30 day
    )
  GROUP BY
    subq_21.date_day
) subq_27
ON
  COALESCE(subq_9.metric_time__day, subq_18.metric_time__day) = subq_27.metric_time__day
GROUP BY
  COALESCE(subq_9.metric_time__day, subq_18.metric_time__day, subq_27.metric_time__day)
