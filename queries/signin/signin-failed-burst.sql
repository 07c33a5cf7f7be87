-- id: signin-failed-burst
-- title: Burst of failed console sign-ins from one IP or for one user
-- severity: medium
-- mitre: T1110.001, T1110.003
-- description: At least min_failures failed ConsoleLogin events from one source IP, or for one
--   user name, within the window: password guessing or spraying.
-- false_positives: a user with a stale password manager entry
-- param: min_failures = 5 | failed sign-ins within the window
-- param: window = '15 minutes' | the sliding window
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region, sourceipaddress,
         actor(useridentity) AS actor, useridentity.arn AS actor_arn,
         coalesce(useridentity.username, json_get_str(additionaleventdata, 'UserName'), useridentity.principalid, 'unknown user') AS who
  FROM cloudtrail
  WHERE eventname = 'ConsoleLogin'
    AND (json_get_str(responseelements, 'ConsoleLogin') = 'Failure' OR errormessage IS NOT NULL)
),
keyed AS (
  SELECT *, concat('IP ', sourceipaddress) AS k FROM ev
  UNION ALL
  SELECT *, concat('user ', who) AS k FROM ev
),
sliding AS (
  SELECT account, k, eventtime,
         count(*) OVER (PARTITION BY account, k ORDER BY eventtime
                        RANGE BETWEEN INTERVAL '15 minutes' /* window */ PRECEDING AND CURRENT ROW) AS n
  FROM keyed
),
bursts AS (
  SELECT account, k, max(eventtime) AS burst_end FROM sliding WHERE n >= 5 /* min_failures */ GROUP BY account, k
)
SELECT min(e.eventtime) AS first_seen, max(e.eventtime) AS last_seen, e.account, min(e.region) AS region,
       min(e.actor) AS actor, min(e.actor_arn) AS actor_arn, count(*) AS event_count,
       array_agg(e.eventid ORDER BY e.eventtime, e.eventid) AS eventids, array_sort(array_distinct(array_agg(e.source_uri))) AS source_uris,
       concat(count(*), ' failed console sign-ins for ', e.k, ' (users: ', array_to_string(array_sort(array_distinct(array_agg(e.who))), ', '),
              '; IPs: ', array_to_string(array_sort(array_distinct(array_agg(e.sourceipaddress))), ', '), ')') AS summary
FROM keyed e JOIN bursts b ON e.account = b.account AND e.k = b.k
WHERE e.eventtime BETWEEN b.burst_end - INTERVAL '15 minutes' /* window */ AND b.burst_end
GROUP BY e.account, e.k
