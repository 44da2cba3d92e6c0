-- Did indexing on DigitalOcean and ingestion on Amperity fail on the same days?
--
-- A join that needs two providers at once: DigitalOcean indexing jobs and Amperity table
-- loads, counted per day and matched on the day.
--   sqlprovider exec -f docs/examples/failures_by_day.sql --var since=2025-05-25 --var until=2025-06-01
WITH digitalocean_days AS (
    SELECT CAST(created_at AS DATE) AS day,
           count(*) AS indexing_jobs,
           count(*) FILTER (WHERE phase IN ('BATCH_JOB_PHASE_FAILED', 'BATCH_JOB_PHASE_ERROR'))
               AS indexing_failed
    FROM digitalocean.genai.indexing_jobs
    WHERE created_at >= '{{ since | default("2025-05-25") }}'
      AND created_at < '{{ until | default("2025-06-01") }}'
    GROUP BY ALL
),
amperity_days AS (
    SELECT CAST(started_at AS DATE) AS day,
           count(*) AS table_loads,
           count(*) FILTER (WHERE state = 'failed') AS loads_failed,
           sum(errors) AS rows_with_errors
    FROM amperity.ingest.job_tables
    WHERE started_at >= '{{ since | default("2025-05-25") }}'
      AND started_at < '{{ until | default("2025-06-01") }}'
    GROUP BY ALL
)
SELECT day,
       coalesce(d.indexing_jobs, 0) AS indexing_jobs,
       coalesce(d.indexing_failed, 0) AS indexing_failed,
       coalesce(a.table_loads, 0) AS table_loads,
       coalesce(a.loads_failed, 0) AS loads_failed,
       coalesce(a.rows_with_errors, 0) AS rows_with_errors,
       coalesce(d.indexing_failed, 0) > 0 AND coalesce(a.loads_failed, 0) > 0 AS both_failed
FROM digitalocean_days d
FULL JOIN amperity_days a USING (day)
ORDER BY day;
