-- id: mfa-device-removed
-- title: MFA device deactivated or deleted
-- severity: medium
-- mitre: T1556.006, T1098
-- description: DeactivateMFADevice or DeleteVirtualMFADevice. Taking MFA off a user (or root)
--   lets a stolen password sign in alone; attackers do it before or after a takeover.
-- false_positives: a user replacing a lost phone (a new device is enabled soon after)
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region,
         actor(useridentity) AS actor, useridentity.arn AS actor_arn, eventname,
         coalesce(json_get_str(requestparameters, 'userName'), json_get_str(requestparameters, 'serialNumber'), useridentity.username, 'root') AS target
  FROM cloudtrail
  WHERE eventsource = 'iam.amazonaws.com'
    AND eventname IN ('DeactivateMFADevice', 'DeleteVirtualMFADevice')
    AND errorcode IS NULL
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, region, actor, actor_arn,
       count(*) AS event_count, array_agg(eventid ORDER BY eventtime, eventid) AS eventids,
       array_sort(array_distinct(array_agg(source_uri))) AS source_uris,
       concat(actor, ' removed MFA from ', target, ' (', array_to_string(array_sort(array_distinct(array_agg(eventname))), ', '), ')') AS summary
FROM ev
GROUP BY account, region, actor, actor_arn, target
