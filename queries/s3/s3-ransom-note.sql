-- id: s3-ransom-note
-- title: The same object name written to many buckets (a ransom note)
-- severity: high
-- mitre: T1486, T1491
-- description: PutObject of one key name into at least min_buckets different buckets by one
--   identity within the window: the shape of a ransom note ("README-RECOVER.txt") dropped where
--   the data used to be. Deployment tools write the same file to many buckets too, but on more
--   than one day (graded info).
-- false_positives: deployment of the same file (robots.txt, an index) to many sites
-- param: min_buckets = 3 | distinct buckets receiving the same key
-- param: window = '60 minutes' | the window
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region, actor(useridentity) AS actor,
         useridentity.arn AS actor_arn, principal(useridentity) AS who, json_get_str(requestparameters, 'bucketName') AS bucket,
         json_get_str(requestparameters, 'key') AS object,
         date_bin(INTERVAL '60 minutes' /* window */, eventtime, TIMESTAMP '2000-01-01T00:00:00') AS slot
  FROM cloudtrail
  WHERE eventsource = 's3.amazonaws.com' AND eventname = 'PutObject' AND errorcode IS NULL
),
spread AS (
  SELECT account, who, object, slot FROM ev GROUP BY account, who, object, slot
  HAVING count(DISTINCT bucket) >= 3 /* min_buckets */
),
habits AS (
  SELECT account, who, object, count(DISTINCT date_trunc('day', slot)) AS n_days FROM spread GROUP BY account, who, object
)
SELECT min(e.eventtime) AS first_seen, max(e.eventtime) AS last_seen, e.account, min(e.region) AS region, min(e.actor) AS actor,
       min(e.actor_arn) AS actor_arn, count(*) AS event_count, array_agg(e.eventid ORDER BY e.eventtime, e.eventid) AS eventids,
       array_sort(array_distinct(array_agg(e.source_uri))) AS source_uris,
       CASE WHEN min(h.n_days) > 1 THEN 'info' ELSE 'high' END AS severity,
       concat(min(e.actor), ' wrote ', e.object, ' to ', count(DISTINCT e.bucket), ' buckets: ',
              array_to_string(array_sort(array_distinct(array_agg(e.bucket))), ', ')) AS summary
FROM ev e
JOIN spread s ON e.account = s.account AND e.who = s.who AND e.object = s.object AND e.slot = s.slot
JOIN habits h ON e.account = h.account AND e.who = h.who AND e.object = h.object
GROUP BY e.account, e.who, e.object, e.slot
