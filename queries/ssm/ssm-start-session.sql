-- id: ssm-start-session
-- title: Interactive SSM sessions opened on many instances
-- severity: medium
-- mitre: T1021.007, T1651
-- description: StartSession opens a shell on an instance through Session Manager, with no SSH
--   key and no open port. One identity opening sessions on at least min_instances instances
--   within the window is moving through the fleet (medium); fewer is an administrator at work
--   (info); identities that open sessions on more than one day are the account's usual operators
--   (info).
-- false_positives: operators checking several instances during an incident of their own
-- param: min_instances = 3 | distinct targets within the window
-- param: window = '60 minutes' | the window
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region, actor(useridentity) AS actor,
         useridentity.arn AS actor_arn, principal(useridentity) AS who, json_get_str(requestparameters, 'target') AS target,
         date_bin(INTERVAL '60 minutes' /* window */, eventtime, TIMESTAMP '2000-01-01T00:00:00') AS slot
  FROM cloudtrail
  WHERE eventsource = 'ssm.amazonaws.com' AND eventname = 'StartSession' AND errorcode IS NULL
),
habits AS (
  SELECT account, who, count(DISTINCT date_trunc('day', eventtime)) AS n_days FROM ev GROUP BY account, who
)
SELECT min(e.eventtime) AS first_seen, max(e.eventtime) AS last_seen, e.account, e.region, e.actor,
       min(e.actor_arn) AS actor_arn, count(*) AS event_count, array_agg(e.eventid ORDER BY e.eventtime, e.eventid) AS eventids,
       array_sort(array_distinct(array_agg(e.source_uri))) AS source_uris,
       CASE WHEN min(h.n_days) > 1 THEN 'info'
            WHEN count(DISTINCT e.target) >= 3 /* min_instances */ THEN 'medium' ELSE 'info' END AS severity,
       concat(e.actor, ' opened SSM sessions on ', count(DISTINCT e.target), ' instance(s): ',
              array_to_string(array_sort(array_distinct(array_agg(e.target))), ', ')) AS summary
FROM ev e JOIN habits h ON e.account = h.account AND e.who = h.who
GROUP BY e.account, e.region, e.actor, e.slot
