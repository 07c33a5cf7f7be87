-- id: cloudtrail-stop-logging
-- title: CloudTrail logging stopped
-- severity: critical
-- mitre: T1562.008
-- description: StopLogging on a trail: from this moment nothing is recorded by it. The first
--   thing many attackers do once they have the rights, and the last event of theirs you may see.
-- false_positives: trail maintenance announced in advance
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region,
         actor(useridentity) AS actor, useridentity.arn AS actor_arn,
         json_get_str(requestparameters, 'name') AS trail
  FROM cloudtrail
  WHERE eventsource = 'cloudtrail.amazonaws.com' AND eventname = 'StopLogging' AND errorcode IS NULL
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, region, actor, actor_arn,
       count(*) AS event_count, array_agg(eventid ORDER BY eventtime, eventid) AS eventids,
       array_sort(array_distinct(array_agg(source_uri))) AS source_uris,
       concat(actor, ' stopped logging on trail ', trail) AS summary
FROM ev
GROUP BY account, region, actor, actor_arn, trail
