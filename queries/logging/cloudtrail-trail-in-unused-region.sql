-- id: cloudtrail-trail-in-unused-region
-- title: Trail created or started in a region the account does not use
-- severity: medium
-- mitre: T1562.008, T1535
-- description: CreateTrail or StartLogging in a region where the account made fewer than
--   min_events other calls in the lake. Organisations run their trails from a home region; a
--   trail appearing where nothing else happens is someone arranging logging to their liking (a
--   trail delivering to their own bucket), or preparing an unused region to work in.
-- false_positives: a new region being brought into use
-- param: min_events = 20 | calls (other than CloudTrail's) that make a region used
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region, actor(useridentity) AS actor,
         useridentity.arn AS actor_arn, eventname
  FROM cloudtrail
  WHERE eventsource = 'cloudtrail.amazonaws.com' AND eventname IN ('CreateTrail', 'StartLogging') AND errorcode IS NULL
),
activity AS (
  SELECT account, region, count(*) AS n FROM cloudtrail
  WHERE eventsource <> 'cloudtrail.amazonaws.com' GROUP BY account, region
)
SELECT min(e.eventtime) AS first_seen, max(e.eventtime) AS last_seen, e.account, e.region, e.actor,
       min(e.actor_arn) AS actor_arn, count(*) AS event_count, array_agg(e.eventid ORDER BY e.eventtime, e.eventid) AS eventids,
       array_sort(array_distinct(array_agg(e.source_uri))) AS source_uris,
       concat(e.actor, ' called ', array_to_string(array_sort(array_distinct(array_agg(e.eventname))), ', '), ' in ', e.region,
              ', where the account made ', coalesce(min(a.n), 0), ' other calls') AS summary
FROM ev e LEFT JOIN activity a ON e.account = a.account AND e.region = a.region
WHERE coalesce(a.n, 0) < 20 /* min_events */
GROUP BY e.account, e.region, e.actor
