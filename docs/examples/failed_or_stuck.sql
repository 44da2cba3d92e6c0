-- Which indexing and ingestion jobs failed or look stuck, on every platform?
--
-- One row per job (or per connector, for Onyx), normalized across DigitalOcean GenAI,
-- Onyx, Amperity and Openverse. "Stuck" means still running and started more than
-- {{ stuck_hours | default(6) }} hours ago. Amperity is asked for the range since..until
-- (at most 7 days per request; the engine splits longer ranges):
--   sqlprovider exec -f docs/examples/failed_or_stuck.sql --var since=2025-05-01 --var until=2025-06-01
WITH digitalocean_jobs AS (
    SELECT 'digitalocean' AS platform,
           uuid AS job_id,
           phase AS state,
           CASE WHEN phase IN ('BATCH_JOB_PHASE_PENDING', 'BATCH_JOB_PHASE_RUNNING')
                THEN 'stuck' ELSE 'failed' END AS problem,
           coalesce(started_at, created_at) AS started,
           finished_at AS finished,
           CAST(total_items_indexed AS BIGINT) AS items,
           'knowledge base ' || knowledge_base_uuid AS detail
    FROM digitalocean.genai.indexing_jobs
    WHERE phase IN ('BATCH_JOB_PHASE_FAILED', 'BATCH_JOB_PHASE_ERROR')
       OR (phase IN ('BATCH_JOB_PHASE_PENDING', 'BATCH_JOB_PHASE_RUNNING')
           AND created_at < now() - INTERVAL {{ stuck_hours | default(6) }} HOUR)
),
onyx_connectors AS (
    SELECT 'onyx' AS platform,
           CAST(cc_pair_id AS VARCHAR) AS job_id,
           last_status AS state,
           CASE WHEN last_status = 'failed' THEN 'failed' ELSE 'stuck' END AS problem,
           CAST(NULL AS TIMESTAMPTZ) AS started,
           CAST(NULL AS TIMESTAMPTZ) AS finished,
           docs_indexed AS items,
           source || ' connector ' || name AS detail
    FROM onyx.connector.indexing_status
    WHERE last_status = 'failed' OR in_repeated_error_state
),
amperity_tables AS (
    SELECT 'amperity' AS platform,
           job_id || '/' || table_name AS job_id,
           state,
           CASE WHEN state = 'failed' THEN 'failed' ELSE 'stuck' END AS problem,
           started_at AS started,
           ended_at AS finished,
           CAST(read AS BIGINT) AS items,
           'feed ' || feed_id AS detail
    FROM amperity.ingest.job_tables
    WHERE started_at >= '{{ since | default("2025-05-25") }}'
      AND started_at < '{{ until | default("2025-06-01") }}'
      AND (state = 'failed'
           OR (state IN ('scheduled', 'started', 'running', 'finalizing', 'stopping')
               AND started_at < now() - INTERVAL {{ stuck_hours | default(6) }} HOUR))
),
openverse_tasks AS (
    SELECT 'openverse' AS platform,
           task_id AS job_id,
           CASE WHEN active THEN 'running' ELSE 'error' END AS state,
           CASE WHEN active THEN 'stuck' ELSE 'failed' END AS problem,
           start_time AS started,
           finish_time AS finished,
           CAST(progress AS BIGINT) AS items,
           model || ' ' || action AS detail
    FROM openverse.ingestion.tasks
    WHERE error
       OR (active AND start_time < now() - INTERVAL {{ stuck_hours | default(6) }} HOUR)
)
SELECT * FROM digitalocean_jobs
UNION ALL SELECT * FROM onyx_connectors
UNION ALL SELECT * FROM amperity_tables
UNION ALL SELECT * FROM openverse_tasks
ORDER BY platform, problem, started DESC NULLS LAST, job_id;
