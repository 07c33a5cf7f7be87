-- id: iam-accessdenied-burst
-- title: One access key denied across many APIs in a short time
-- severity: medium
-- mitre: T1580, T1087.004, T1078.004
-- description: AccessDenied (or UnauthorizedOperation, AuthorizationError, …) errors for one
--   access key on at least min_apis different APIs within the window (medium), or at least
--   min_apis_low (low): someone trying what a key can do, the signature of a leaked key being
--   explored. Applications fail on the same few calls; explorers fail on many.
-- false_positives: security scanners with partial rights; a misconfigured new deployment
-- param: min_apis = 5 | distinct denied APIs within the window that make it medium
-- param: min_apis_low = 3 | distinct denied APIs within the window that make it a (low) finding
-- param: window = '15 minutes' | the sliding window
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region,
         actor(useridentity) AS actor, useridentity.arn AS actor_arn,
         coalesce(useridentity.accesskeyid, useridentity.arn, useridentity.principalid) AS key,
         concat(eventsource, ':', eventname) AS api
  FROM cloudtrail
  WHERE errorcode LIKE '%AccessDenied%' OR errorcode LIKE '%Unauthorized%'
     OR errorcode IN ('AuthorizationError', 'AuthFailure', 'Forbidden', 'NotAuthorized')
),
marked AS (
  SELECT *, eventtime = min(eventtime) OVER (PARTITION BY account, key, api) AS first_denial FROM ev
),
sliding AS (
  SELECT *, sum(CASE WHEN first_denial THEN 1 ELSE 0 END) OVER (PARTITION BY account, key ORDER BY eventtime
              RANGE BETWEEN INTERVAL '15 minutes' /* window */ PRECEDING AND CURRENT ROW) AS n
  FROM marked
),
ended AS (
  SELECT *, max(CASE WHEN n >= 3 /* min_apis_low */ THEN eventtime END) OVER (PARTITION BY account, key) AS burst_end
  FROM sliding
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, min(region) AS region,
       min(actor) AS actor, min(actor_arn) AS actor_arn, count(*) AS event_count,
       array_agg(eventid ORDER BY eventtime, eventid) AS eventids, array_sort(array_distinct(array_agg(source_uri))) AS source_uris,
       CASE WHEN max(n) >= 5 /* min_apis */ THEN 'medium' ELSE 'low' END AS severity,
       concat(min(actor), ' (key ', key, ') was denied on ', count(DISTINCT api), ' different APIs: ',
              array_to_string(array_sort(array_distinct(array_agg(api))), ', ')) AS summary
FROM ended
WHERE eventtime BETWEEN burst_end - INTERVAL '15 minutes' /* window */ AND burst_end
GROUP BY account, key
