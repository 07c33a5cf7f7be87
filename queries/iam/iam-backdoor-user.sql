-- id: iam-backdoor-user
-- title: New IAM user given a key, password or policy within the hour
-- severity: critical
-- mitre: T1136.003, T1098
-- description: CreateUser followed, within the window, by CreateAccessKey, CreateLoginProfile,
--   AttachUserPolicy, PutUserPolicy or AddUserToGroup for that user. The shape of a backdoor
--   account: created, armed and used in minutes.
-- false_positives: onboarding scripts that create and equip users in one go
-- param: window = '60 minutes' | how soon after CreateUser the arming counts
WITH created AS (
  SELECT eventtime, eventid, source_uri, account, region,
         actor(useridentity) AS actor, useridentity.arn AS actor_arn,
         json_get_str(requestparameters, 'userName') AS target
  FROM cloudtrail
  WHERE eventsource = 'iam.amazonaws.com' AND eventname = 'CreateUser' AND errorcode IS NULL
),
armed AS (
  SELECT eventtime, eventid, source_uri, account, eventname,
         json_get_str(requestparameters, 'userName') AS target
  FROM cloudtrail
  WHERE eventsource = 'iam.amazonaws.com' AND errorcode IS NULL
    AND eventname IN ('CreateAccessKey', 'CreateLoginProfile', 'AttachUserPolicy', 'PutUserPolicy', 'AddUserToGroup')
),
pairs AS (
  SELECT c.account, c.region, c.actor, c.actor_arn, c.target, c.eventtime AS t0, c.eventid AS id0,
         c.source_uri AS uri0, a.eventtime AS t1, a.eventid AS id1, a.source_uri AS uri1, a.eventname AS step
  FROM created c JOIN armed a ON c.account = a.account AND c.target = a.target
  WHERE a.eventtime >= c.eventtime AND a.eventtime <= c.eventtime + INTERVAL '60 minutes' /* window */
)
SELECT min(t0) AS first_seen, max(t1) AS last_seen, account, region, actor, actor_arn,
       count(DISTINCT id1) + 1 AS event_count,
       array_distinct(array_concat([min(id0)], array_agg(id1 ORDER BY t1, id1))) AS eventids,
       array_distinct(array_concat(array_sort(array_distinct(array_agg(uri0))), array_sort(array_distinct(array_agg(uri1))))) AS source_uris,
       concat(actor, ' created user ', target, ' and within minutes gave it: ',
              array_to_string(array_sort(array_distinct(array_agg(step))), ', ')) AS summary
FROM pairs
GROUP BY account, region, actor, actor_arn, target
