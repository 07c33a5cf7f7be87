-- id: ec2-user-data-modified
-- title: Instance user data changed
-- severity: medium
-- mitre: T1059.009, T1098
-- description: ModifyInstanceAttribute setting userData. User data runs as root when the instance
--   next starts: an attacker who can stop, change and start an instance gets code execution and
--   the instance's role. Launch templates are how fleets change their user data; changing it on a
--   running instance is rare. Refused attempts are listed at low.
-- false_positives: hand-run fixes of a single instance's bootstrap script
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region, actor(useridentity) AS actor,
         useridentity.arn AS actor_arn, errorcode,
         json_get_str(requestparameters, 'instanceId') AS instance
  FROM cloudtrail
  WHERE eventsource = 'ec2.amazonaws.com' AND eventname = 'ModifyInstanceAttribute'
    AND (json_get_json(requestparameters, 'userData') IS NOT NULL
         OR json_get_str(requestparameters, 'attribute') = 'userData')
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, region, actor, min(actor_arn) AS actor_arn,
       count(*) AS event_count, array_agg(eventid ORDER BY eventtime, eventid) AS eventids,
       array_sort(array_distinct(array_agg(source_uri))) AS source_uris,
       CASE WHEN count(*) = count(errorcode) THEN 'low' ELSE 'medium' END AS severity,
       concat(actor, CASE WHEN count(*) = count(errorcode) THEN ' tried to change' ELSE ' changed' END,
              ' the user data of instance ', instance) AS summary
FROM ev
GROUP BY account, region, actor, instance
