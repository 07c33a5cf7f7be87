-- id: ec2-user-data-read-bulk
-- title: Instance user data read across many instances
-- severity: medium
-- mitre: T1552.005, T1580
-- description: DescribeInstanceAttribute for userData on at least min_instances instances by one
--   identity (a role whatever its session names) within the window, refused attempts included. User data often carries bootstrap
--   secrets (passwords, tokens, keys), and attackers pull it for every instance they can list;
--   refused attempts are the same recon by a key with fewer rights. An identity that does this on
--   more than one day is an inventory tool on a schedule: its rows are info.
-- false_positives: inventory and posture scanners (they repeat daily, so they grade as info)
-- param: min_instances = 5 | distinct instances within the window
-- param: window = '60 minutes' | the sliding window
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region, actor(useridentity) AS actor,
         useridentity.arn AS actor_arn, principal(useridentity) AS who, errorcode,
         json_get_str(requestparameters, 'instanceId') AS instance
  FROM cloudtrail
  WHERE eventsource = 'ec2.amazonaws.com' AND eventname = 'DescribeInstanceAttribute'
    AND json_get_str(requestparameters, 'attribute') = 'userData'
),
days AS (
  SELECT account, who, count(DISTINCT date_trunc('day', eventtime)) AS n_days FROM ev GROUP BY account, who
),
marked AS (
  SELECT *, eventtime = min(eventtime) OVER (PARTITION BY account, region, who, instance) AS first_read FROM ev
),
sliding AS (
  SELECT *, sum(CASE WHEN first_read THEN 1 ELSE 0 END) OVER (PARTITION BY account, region, who ORDER BY eventtime
              RANGE BETWEEN INTERVAL '60 minutes' /* window */ PRECEDING AND CURRENT ROW) AS n
  FROM marked
),
ended AS (
  SELECT *, max(CASE WHEN n >= 5 /* min_instances */ THEN eventtime END) OVER (PARTITION BY account, region, who) AS burst_end
  FROM sliding
)
SELECT min(e.eventtime) AS first_seen, max(e.eventtime) AS last_seen, e.account, e.region, min(e.actor) AS actor,
       min(e.actor_arn) AS actor_arn, count(*) AS event_count,
       array_agg(e.eventid ORDER BY e.eventtime, e.eventid) AS eventids, array_sort(array_distinct(array_agg(e.source_uri))) AS source_uris,
       CASE WHEN min(d.n_days) > 1 THEN 'info' ELSE 'medium' END AS severity,
       concat(min(e.actor), ' asked for the user data of ', count(DISTINCT e.instance), ' instances',
              CASE WHEN count(e.errorcode) > 0 THEN concat(' (', count(e.errorcode), ' refused)') ELSE '' END,
              CASE WHEN min(d.n_days) > 1 THEN concat('; it does so on ', min(d.n_days), ' days') ELSE '' END) AS summary
FROM ended e JOIN days d ON e.account = d.account AND e.who = d.who
WHERE e.eventtime BETWEEN e.burst_end - INTERVAL '60 minutes' /* window */ AND e.burst_end
GROUP BY e.account, e.region, e.who
