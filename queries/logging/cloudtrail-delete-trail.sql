-- id: cloudtrail-delete-trail
-- title: CloudTrail trail deleted
-- severity: critical
-- mitre: T1562.008, T1070
-- description: DeleteTrail: the trail and its configuration are gone, and with them the record
--   of what happens next.
-- false_positives: consolidating account trails into an organisation trail
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region,
         actor(useridentity) AS actor, useridentity.arn AS actor_arn,
         json_get_str(requestparameters, 'name') AS trail
  FROM cloudtrail
  WHERE eventsource = 'cloudtrail.amazonaws.com' AND eventname = 'DeleteTrail' AND errorcode IS NULL
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, region, actor, actor_arn,
       count(*) AS event_count, array_agg(eventid ORDER BY eventtime, eventid) AS eventids,
       array_sort(array_distinct(array_agg(source_uri))) AS source_uris,
       concat(actor, ' deleted trail ', trail) AS summary
FROM ev
GROUP BY account, region, actor, actor_arn, trail
