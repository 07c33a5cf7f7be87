-- id: ec2-get-password-data
-- title: Windows administrator passwords retrieved
-- severity: high
-- mitre: T1552.005
-- description: GetPasswordData returns the encrypted Administrator password of a Windows
--   instance. An administrator fetches one now and then (info); refused attempts are recon by a key
--   that hoped for it (medium); at least min_instances instances by one identity is harvesting
--   (high), refused or not.
-- false_positives: an administrator connecting to a Windows instance (graded info)
-- param: min_instances = 5 | distinct instances that make it harvesting
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region, actor(useridentity) AS actor,
         useridentity.arn AS actor_arn, errorcode, json_get_str(requestparameters, 'instanceId') AS instance
  FROM cloudtrail
  WHERE eventsource = 'ec2.amazonaws.com' AND eventname = 'GetPasswordData'
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, region, actor, min(actor_arn) AS actor_arn,
       count(*) AS event_count, array_agg(eventid ORDER BY eventtime, eventid) AS eventids,
       array_sort(array_distinct(array_agg(source_uri))) AS source_uris,
       CASE WHEN count(DISTINCT instance) >= 5 /* min_instances */ THEN 'high'
            WHEN count(errorcode) > 0 THEN 'medium' ELSE 'info' END AS severity,
       concat(actor, ' asked for the Windows password of ', count(DISTINCT instance), ' instance(s)',
              CASE WHEN count(errorcode) > 0 THEN concat(', refused ', count(errorcode), ' time(s)') ELSE '' END) AS summary
FROM ev
GROUP BY account, region, actor
