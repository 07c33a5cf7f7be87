-- id: iam-access-key-for-other-user
-- title: Access key created for another user
-- severity: medium
-- mitre: T1098.001
-- description: CreateAccessKey naming a user other than the caller. Attackers holding iam rights
--   mint long-lived keys for other (often more privileged, or new) users to keep access after the
--   first key is revoked.
-- false_positives: administrators issuing keys to service users
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region,
         actor(useridentity) AS actor, useridentity.arn AS actor_arn,
         json_get_str(requestparameters, 'userName') AS target,
         json_get_str(responseelements, 'accessKey', 'accessKeyId') AS new_key
  FROM cloudtrail
  WHERE eventsource = 'iam.amazonaws.com' AND eventname = 'CreateAccessKey'
    AND errorcode IS NULL
    AND json_get_str(requestparameters, 'userName') IS NOT NULL
    AND json_get_str(requestparameters, 'userName') <> coalesce(useridentity.username, '')
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, region, actor, actor_arn,
       count(*) AS event_count, array_agg(eventid ORDER BY eventtime, eventid) AS eventids,
       array_sort(array_distinct(array_agg(source_uri))) AS source_uris,
       concat(actor, ' created access key ', coalesce(min(new_key), '?'), ' for user ', target) AS summary
FROM ev
GROUP BY account, region, actor, actor_arn, target
