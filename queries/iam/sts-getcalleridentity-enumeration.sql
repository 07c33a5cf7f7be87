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
WITH whoami AS (
  SELECT eventtime, eventid, source_uri, account, region,
         actor(useridentity) AS actor, useridentity.arn AS actor_arn, principal(useridentity) AS who,
         coalesce(useridentity.accesskeyid, useridentity.arn) AS key
  FROM cloudtrail
  WHERE eventsource = 'sts.amazonaws.com' AND eventname = 'GetCallerIdentity'
),
reads AS (
  SELECT eventtime, eventid, source_uri, account,
         coalesce(useridentity.accesskeyid, useridentity.arn) AS key, eventsource, eventname
  FROM cloudtrail
  WHERE (eventname LIKE 'List%' OR eventname LIKE 'Get%' OR eventname LIKE 'Describe%')
    AND eventname <> 'GetCallerIdentity'
),
-- One row per key: joining the evidence to every GetCallerIdentity of the key would count each
-- event once per call.
first_whoami AS (
  SELECT account, key, min(eventtime) AS t0, min(region) AS region, min(actor) AS actor,
         min(actor_arn) AS actor_arn, min(who) AS who
  FROM whoami GROUP BY account, key
),
followed AS (
  -- The API name is worked out after the join, for the few reads that follow a whoami.
  SELECT r.eventtime, r.eventid, r.source_uri, r.account, r.key,
         concat(r.eventsource, ':', lambda_api(r.eventname)) AS api
  FROM reads r JOIN first_whoami w ON r.account = w.account AND r.key = w.key
  WHERE r.eventtime > w.t0 AND r.eventtime <= w.t0 + INTERVAL '15 minutes' /* window */
),
hits AS (
  SELECT account, key, count(DISTINCT api) AS apis FROM followed GROUP BY account, key
  HAVING count(DISTINCT api) >= 8 /* min_apis */
),
spans AS (
  SELECT account, min(eventtime) AS t0, max(eventtime) AS t1 FROM cloudtrail GROUP BY account
),
learned AS (
  SELECT account, CASE WHEN t1 > t0 + INTERVAL '24 hours' /* learning */ THEN t0 + INTERVAL '24 hours' /* learning */
                       ELSE t0 END AS since
  FROM spans
),
habits AS (
  SELECT f.account, f.who, min(f.t0) AS first_hit
  FROM hits h JOIN first_whoami f ON h.account = f.account AND h.key = f.key
  GROUP BY f.account, f.who
),
evidence AS (
  SELECT w.eventtime, w.eventid, w.source_uri, w.account, w.key FROM whoami w
  JOIN first_whoami f ON w.account = f.account AND w.key = f.key AND w.eventtime = f.t0
  UNION ALL
  SELECT eventtime, eventid, source_uri, account, key FROM followed
)
SELECT min(e.eventtime) AS first_seen, max(e.eventtime) AS last_seen, e.account, min(f.region) AS region,
       min(f.actor) AS actor, min(f.actor_arn) AS actor_arn, count(*) AS event_count,
       array_agg(e.eventid ORDER BY e.eventtime) AS eventids, array_agg(DISTINCT e.source_uri) AS source_uris,
       CASE WHEN min(b.first_hit) < min(l.since) OR min(b.first_hit) < min(f.t0) - INTERVAL '1 hour' THEN 'info'
            ELSE 'medium' END AS severity,
       concat(min(f.actor), ' (key ', e.key, ') asked GetCallerIdentity, then called ', min(h.apis),
              ' different List/Get/Describe APIs') AS summary
FROM evidence e
JOIN hits h ON e.account = h.account AND e.key = h.key
JOIN first_whoami f ON e.account = f.account AND e.key = f.key
JOIN habits b ON f.account = b.account AND f.who = b.who
JOIN learned l ON e.account = l.account
GROUP BY e.account, e.key
