-- id: sts-getcalleridentity-enumeration
-- title: GetCallerIdentity followed by enumeration
-- severity: medium
-- mitre: T1087.004, T1580, T1526
-- description: GetCallerIdentity ("whoami") by an access key, then List*, Get* or Describe* calls
--   on at least min_apis different APIs by the same key within the window. The first minutes of a
--   leaked key in an attacker's hands: check it works, then map the account.
--   Clients that do this all day (container tasks and inventory tools get a new key every hour
--   or task) are info once their principal (a role whatever its session names) is known to:
--   it did the same at least an hour earlier, or during the account's learning period.
-- false_positives: inventory and security tools that start with GetCallerIdentity (medium once,
--   then info)
-- param: min_apis = 8 | distinct read APIs after GetCallerIdentity
-- param: window = '15 minutes' | how long after GetCallerIdentity
-- param: learning = '24 hours' | the start of each account's data that is baseline only
WITH first_whoami AS (
  SELECT account, coalesce(useridentity.accesskeyid, useridentity.arn) AS key, min(eventtime) AS t0,
         min(region) AS region, min(actor(useridentity)) AS actor, min(useridentity.arn) AS actor_arn,
         min(principal(useridentity)) AS who
  FROM cloudtrail
  WHERE eventsource = 'sts.amazonaws.com' AND eventname = 'GetCallerIdentity'
  GROUP BY 1, 2
),
-- One pass: each key's calls in the window after its first whoami (one row per key on the right,
-- so no event is counted twice), then one group per key that counts its APIs and gathers its
-- evidence at once: the window's events are read once (whoami rows count no API).
kept AS (
  SELECT c.eventtime, c.eventid, c.source_uri, c.account, c.eventsource, c.eventname,
         w.key, w.t0, w.region, w.actor, w.actor_arn, w.who, c.eventsource = 'sts.amazonaws.com' AND c.eventname = 'GetCallerIdentity' AS whoami
  FROM (SELECT eventtime, eventid, source_uri, account, eventsource, eventname,
               coalesce(useridentity.accesskeyid, useridentity.arn) AS key
        FROM cloudtrail
        WHERE eventname LIKE 'List%' OR eventname LIKE 'Get%' OR eventname LIKE 'Describe%') c
  JOIN first_whoami w ON c.account = w.account AND c.key = w.key
  WHERE c.eventtime >= w.t0 AND c.eventtime <= w.t0 + INTERVAL '15 minutes' /* window */
),
hits AS (
  SELECT account, key, min(t0) AS t0, min(region) AS region, min(actor) AS actor,
         min(actor_arn) AS actor_arn, min(who) AS who,
         count(DISTINCT CASE WHEN NOT whoami THEN concat(eventsource, ':', lambda_api(eventname)) END) AS apis,
         min(eventtime) AS first_seen, max(eventtime) AS last_seen, count(*) AS event_count,
         array_agg(eventid ORDER BY eventtime, eventid) AS eventids, array_sort(array_distinct(array_agg(source_uri))) AS source_uris
  FROM kept
  WHERE NOT whoami OR eventtime = t0
  GROUP BY account, key
  HAVING count(DISTINCT CASE WHEN NOT whoami THEN concat(eventsource, ':', lambda_api(eventname)) END) >= 8 /* min_apis */
),
spans AS (
  SELECT account, t0, t1 FROM account_spans
),
learned AS (
  SELECT account, CASE WHEN t1 > t0 + INTERVAL '24 hours' /* learning */ THEN t0 + INTERVAL '24 hours' /* learning */
                       ELSE t0 END AS since
  FROM spans
),
habits AS (
  SELECT *, min(t0) OVER (PARTITION BY account, who) AS first_hit FROM hits
)
SELECT h.first_seen, h.last_seen, h.account, h.region, h.actor, h.actor_arn, h.event_count, h.eventids, h.source_uris,
       CASE WHEN h.first_hit < l.since OR h.first_hit < h.t0 - INTERVAL '1 hour' THEN 'info' ELSE 'medium' END AS severity,
       concat(h.actor, ' (key ', h.key, ') asked GetCallerIdentity, then called ', h.apis,
              ' different List/Get/Describe APIs') AS summary
FROM habits h JOIN learned l ON h.account = l.account
