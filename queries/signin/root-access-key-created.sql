-- id: root-access-key-created
-- title: Access key created for the root user
-- severity: critical
-- mitre: T1098.001
-- description: CreateAccessKey by root with no userName: a long-lived key with unlimited rights
--   over the account. AWS advises against root keys altogether.
-- false_positives: none worth keeping; delete root keys
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region,
         actor(useridentity) AS actor, useridentity.arn AS actor_arn,
         json_get_str(responseelements, 'accessKey', 'accessKeyId') AS new_key
  FROM cloudtrail
  WHERE eventsource = 'iam.amazonaws.com' AND eventname = 'CreateAccessKey'
    AND useridentity.type = 'Root' AND errorcode IS NULL
    AND json_get_str(requestparameters, 'userName') IS NULL
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, region, actor, actor_arn,
       count(*) AS event_count, array_agg(eventid ORDER BY eventtime, eventid) AS eventids,
       array_sort(array_distinct(array_agg(source_uri))) AS source_uris,
       concat('root of ', account, ' created root access key ', coalesce(min(new_key), '?')) AS summary
FROM ev
GROUP BY account, region, actor, actor_arn
