-- id: s3-delete-burst
-- title: Objects deleted in bulk
-- severity: high
-- mitre: T1485
-- description: DeleteObject and DeleteObjects calls by one identity (a role whatever its session
--   names): at least min_calls within the window, a DeleteObjects call counting as batch_weight
--   calls since it removes up to 1,000 objects. Destruction, or the second half of ransomware
--   (copy out, then delete). An identity that deletes in bulk on more than one day is a clean-up
--   job (info).
-- false_positives: clean-up jobs (graded info once seen on two days), bucket teardown in CI
-- param: min_calls = 50 | delete calls within the window
-- param: window = '10 minutes' | the window
-- param: batch_weight = 10 | how many calls one DeleteObjects counts as
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region, actor(useridentity) AS actor,
         useridentity.arn AS actor_arn, principal(useridentity) AS who, eventname, json_get_str(requestparameters, 'bucketName') AS bucket,
         date_bin(INTERVAL '10 minutes' /* window */, eventtime, TIMESTAMP '2000-01-01T00:00:00') AS slot,
         CASE WHEN eventname = 'DeleteObjects' THEN 10 /* batch_weight */ ELSE 1 END AS weight
  FROM cloudtrail
  WHERE eventsource = 's3.amazonaws.com' AND errorcode IS NULL AND eventname IN ('DeleteObject', 'DeleteObjects')
),
slots AS (
  SELECT account, region, who, slot, sum(weight) AS n FROM ev GROUP BY account, region, who, slot
  HAVING sum(weight) >= 50 /* min_calls */
),
habits AS (
  SELECT account, who, count(DISTINCT date_trunc('day', slot)) AS n_days FROM slots GROUP BY account, who
)
SELECT min(e.eventtime) AS first_seen, max(e.eventtime) AS last_seen, e.account, e.region, min(e.actor) AS actor,
       min(e.actor_arn) AS actor_arn, count(*) AS event_count, array_agg(e.eventid ORDER BY e.eventtime, e.eventid) AS eventids,
       array_sort(array_distinct(array_agg(e.source_uri))) AS source_uris,
       CASE WHEN min(h.n_days) > 1 THEN 'info' ELSE 'high' END AS severity,
       concat(min(e.actor), ' made ', count(*), ' delete calls (', sum(CASE WHEN e.eventname = 'DeleteObjects' THEN 1 ELSE 0 END),
              ' of them batches) on ', array_to_string(array_sort(array_distinct(array_agg(e.bucket))), ', ')) AS summary
FROM ev e
JOIN slots s ON e.account = s.account AND e.region = s.region AND e.who = s.who AND e.slot = s.slot
JOIN habits h ON e.account = h.account AND e.who = h.who
GROUP BY e.account, e.region, e.who, e.slot
