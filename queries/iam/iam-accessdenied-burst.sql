-- id: iam-accessdenied-burst
-- title: One access key denied across many APIs in a short time
-- severity: medium
-- mitre: T1580, T1087.004, T1078.004
-- description: AccessDenied (or UnauthorizedOperation) errors for one access key on at least
--   min_apis different APIs within the window: someone trying what a key can do, the signature of
--   a leaked key being explored. Applications fail on the same few calls; explorers fail on many.
-- false_positives: security scanners with partial rights; a misconfigured new deployment
-- param: min_apis = 5 | distinct denied APIs within the window
-- param: window = '15 minutes' | the sliding window
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region,
         actor(useridentity) AS actor, useridentity.arn AS actor_arn,
         coalesce(useridentity.accesskeyid, useridentity.arn, useridentity.principalid) AS key,
         concat(eventsource, ':', eventname) AS api
  FROM cloudtrail
  WHERE errorcode IN ('AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation',
                      'Client.UnauthorizedOperation', 'UnauthorizedAccess')
),
firsts AS (
  SELECT account, key, api, min(eventtime) AS t FROM ev GROUP BY account, key, api
),
sliding AS (
  SELECT account, key, t,
         count(*) OVER (PARTITION BY account, key ORDER BY t
                        RANGE BETWEEN INTERVAL '15 minutes' /* window */ PRECEDING AND CURRENT ROW) AS n
  FROM firsts
),
bursts AS (
  SELECT account, key, max(t) AS burst_end FROM sliding WHERE n >= 5 /* min_apis */ GROUP BY account, key
)
SELECT min(e.eventtime) AS first_seen, max(e.eventtime) AS last_seen, e.account, min(e.region) AS region,
       min(e.actor) AS actor, min(e.actor_arn) AS actor_arn, count(*) AS event_count,
       array_agg(e.eventid ORDER BY e.eventtime) AS eventids, array_agg(DISTINCT e.source_uri) AS source_uris,
       concat(min(e.actor), ' (key ', e.key, ') was denied on ', count(DISTINCT e.api), ' different APIs: ',
              array_to_string(array_agg(DISTINCT e.api), ', ')) AS summary
FROM ev e JOIN bursts b ON e.account = b.account AND e.key = b.key
WHERE e.eventtime BETWEEN b.burst_end - INTERVAL '15 minutes' /* window */ AND b.burst_end
GROUP BY e.account, e.key
