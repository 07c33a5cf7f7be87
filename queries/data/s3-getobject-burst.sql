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
rate AS (
  SELECT account, actor, bucket, count(*) AS total,
         greatest(date_part('epoch', max(eventtime)) - date_part('epoch', min(eventtime)), 3600) AS span_seconds
  FROM ev GROUP BY account, actor, bucket
),
sliding AS (
  SELECT account, actor, bucket, eventtime,
         count(*) OVER (PARTITION BY account, actor, bucket ORDER BY eventtime
                        RANGE BETWEEN INTERVAL '15 minutes' /* window */ PRECEDING AND CURRENT ROW) AS n
  FROM ev
),
bursts AS (
  SELECT s.account, s.actor, s.bucket, max(s.eventtime) AS burst_end, max(s.n) AS n
  FROM sliding s JOIN rate r ON s.account = r.account AND s.actor = r.actor AND s.bucket = r.bucket
  WHERE s.n >= 500 /* min_objects */
    AND s.n >= 20 /* spike_factor */ * r.total * (date_part('epoch', s.eventtime) - date_part('epoch', s.eventtime - INTERVAL '15 minutes' /* window */)) / r.span_seconds
  GROUP BY s.account, s.actor, s.bucket
)
SELECT min(e.eventtime) AS first_seen, max(e.eventtime) AS last_seen, e.account, min(e.region) AS region, e.actor,
       min(e.actor_arn) AS actor_arn, count(*) AS event_count,
       array_agg(e.eventid ORDER BY e.eventtime) AS eventids, array_agg(DISTINCT e.source_uri) AS source_uris,
       concat(e.actor, ' downloaded ', count(*), ' objects from bucket ', e.bucket, ' within ', '15 minutes' /* window */) AS summary
FROM ev e JOIN bursts b ON e.account = b.account AND e.actor = b.actor AND e.bucket = b.bucket
WHERE e.eventtime BETWEEN b.burst_end - INTERVAL '15 minutes' /* window */ AND b.burst_end
GROUP BY e.account, e.actor, e.bucket
