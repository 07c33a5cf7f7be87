-- id: s3-getobject-burst
-- title: S3 objects downloaded far above the identity's usual rate
-- severity: high
-- mitre: T1530, T1567
-- description: GetObject data events by one identity on one bucket: at least min_objects
--   downloads within the window, and spike_factor times that identity's own average rate for the
--   bucket over the whole lake. Exfiltration shows as a sudden bulk read. Needs S3 data events in
--   the trail.
-- false_positives: backups, analytics jobs and migrations with a new schedule
-- param: min_objects = 500 | downloads within the window
-- param: window = '15 minutes' | the sliding window
-- param: spike_factor = 20 | times the identity's average rate for the bucket
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region,
         actor(useridentity) AS actor, useridentity.arn AS actor_arn,
         json_get_str(requestparameters, 'bucketName') AS bucket
  FROM cloudtrail
  WHERE eventsource = 's3.amazonaws.com' AND eventname = 'GetObject' AND errorcode IS NULL
),
counted AS (
  SELECT *, count(*) OVER (PARTITION BY account, actor, bucket) AS total,
         min(eventtime) OVER (PARTITION BY account, actor, bucket) AS t_min,
         max(eventtime) OVER (PARTITION BY account, actor, bucket) AS t_max,
         count(*) OVER (PARTITION BY account, actor, bucket ORDER BY eventtime
                        RANGE BETWEEN INTERVAL '15 minutes' /* window */ PRECEDING AND CURRENT ROW) AS n
  FROM ev
),
scored AS (
  SELECT *, greatest(date_part('epoch', t_max) - date_part('epoch', t_min), 3600) AS span_seconds,
         date_part('epoch', eventtime) - date_part('epoch', eventtime - INTERVAL '15 minutes' /* window */) AS window_seconds
  FROM counted
),
ended AS (
  SELECT *, max(CASE WHEN n >= 500 /* min_objects */
                      AND n >= 20 /* spike_factor */ * total * window_seconds / span_seconds
                     THEN eventtime END) OVER (PARTITION BY account, actor, bucket) AS burst_end
  FROM scored
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, min(region) AS region, actor,
       min(actor_arn) AS actor_arn, count(*) AS event_count,
       array_agg(eventid ORDER BY eventtime, eventid) AS eventids, array_sort(array_distinct(array_agg(source_uri))) AS source_uris,
       concat(actor, ' downloaded ', count(*), ' objects from bucket ', bucket, ' within ', '15 minutes' /* window */) AS summary
FROM ended
WHERE eventtime BETWEEN burst_end - INTERVAL '15 minutes' /* window */ AND burst_end
GROUP BY account, actor, bucket
