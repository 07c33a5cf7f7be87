-- id: ec2-unusual-instance-launch
-- title: GPU or very large instances launched, or instances in a region the account does not use
-- severity: high
-- mitre: T1496, T1578.002
-- description: RunInstances (refused attempts included) of accelerated or very large instance
--   types (p, g, inf, trn, dl, f, vt, x, u- and hpc families, metal, 24xlarge and up): the
--   mark of cryptomining on a stolen key. High for a fleet (at least min_count instances in one
--   call) of a type the account never ran before in the lake, or a refused fleet; medium for a
--   single launch of such a type, or a refused attempt; info for a type it already runs. Also medium: an instance launched, after the learning
--   period, in a region where the account made no call during the learning period and fewer
--   than min_region_events calls other than launches in the whole lake. When an account's data covers more than the learning period, its first learning
--   period is the baseline of the types it runs; shorter lakes have no baseline, and no launch in
--   them is called new to a region.
-- false_positives: machine-learning teams starting a new kind of training job
-- param: min_count = 10 | instances in one call that make a fleet
-- param: learning = '24 hours' | how much of each account's data sets its instance types
-- param: min_region_events = 20 | calls other than launches that make a region used
WITH launches AS (
  SELECT eventtime, eventid, source_uri, account, region, actor(useridentity) AS actor,
         useridentity.arn AS actor_arn, errorcode,
         json_get_str(requestparameters, 'instanceType') AS itype,
         coalesce(json_get_int(requestparameters, 'instancesSet', 'items', 0, 'maxCount'),
                  json_get_int(requestparameters, 'maxCount'), 1) AS n
  FROM cloudtrail
  WHERE eventsource = 'ec2.amazonaws.com' AND eventname = 'RunInstances'
),
spans AS (
  SELECT account, t0, t1 FROM account_spans
),
starts AS (
  SELECT account, t0, CASE WHEN t1 > t0 + INTERVAL '24 hours' /* learning */ THEN t0 + INTERVAL '24 hours' /* learning */
                           ELSE t0 END AS since
  FROM spans
),
-- A region in use shows up in the learning period, or shows other work than launches; one the
-- attacker opens shows neither.
used_regions AS (
  SELECT c.account, c.region FROM cloudtrail c JOIN starts s ON c.account = s.account
  GROUP BY c.account, c.region
  HAVING min(c.eventtime) < min(s.since)
      OR sum(CASE WHEN c.eventsource = 'ec2.amazonaws.com' AND c.eventname = 'RunInstances' THEN 0 ELSE 1 END)
         >= 20 /* min_region_events */
),
first_type AS (
  SELECT account, itype, min(eventtime) AS since FROM launches WHERE errorcode IS NULL GROUP BY account, itype
),
graded AS (
  SELECT l.*,
         regexp_like(l.itype, '^(p[0-9]|g[0-9]|inf[0-9]|trn[0-9]|dl[0-9]|f[0-9]|vt[0-9]|x[0-9]|u-|hpc)|metal|\.(24|32|48|56|96|112|224)xlarge') AS big,
         l.eventtime > ft.since OR ft.since < s.since AS known_type,
         u.region IS NULL AND s.since > s.t0 AND l.eventtime >= s.since AS new_region
  FROM launches l
  JOIN starts s ON l.account = s.account
  LEFT JOIN first_type ft ON l.account = ft.account AND l.itype = ft.itype
  LEFT JOIN used_regions u ON l.account = u.account AND l.region = u.region
),
flagged AS (
  SELECT *, CASE WHEN big AND n >= 10 /* min_count */ AND (errorcode IS NOT NULL OR NOT coalesce(known_type, false)) THEN 'high'
                 WHEN big AND (errorcode IS NOT NULL OR NOT coalesce(known_type, false)) THEN 'medium'
                 WHEN new_region THEN 'medium'
                 WHEN big THEN 'info' END AS severity
  FROM graded
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, region, actor, min(actor_arn) AS actor_arn,
       count(*) AS event_count, array_agg(eventid ORDER BY eventtime, eventid) AS eventids,
       array_sort(array_distinct(array_agg(source_uri))) AS source_uris, severity,
       concat(actor, CASE WHEN count(errorcode) = count(*) THEN ' tried to launch ' ELSE ' launched ' END,
              sum(n), ' instance(s) of type ', array_to_string(array_sort(array_distinct(array_agg(itype))), ', '),
              CASE WHEN bool_or(new_region) THEN concat(' in ', region, ', a region the account did not use') ELSE '' END) AS summary
FROM flagged
WHERE severity IS NOT NULL
GROUP BY account, region, actor, severity
