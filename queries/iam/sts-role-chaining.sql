-- id: sts-role-chaining
-- title: Role chaining: a role session assumes another role
-- severity: low
-- mitre: T1550.001, T1078.004
-- description: AssumeRole called with a role session's credentials. Attackers hop from role to
--   role (and account to account) to widen access and muddy the trail; each hop hides the origin
--   one level deeper.
-- false_positives: hub-and-spoke administration roles, CI pipelines deploying across accounts
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region,
         actor(useridentity) AS actor, useridentity.arn AS actor_arn,
         json_get_str(requestparameters, 'roleArn') AS role
  FROM cloudtrail
  WHERE eventsource = 'sts.amazonaws.com' AND eventname = 'AssumeRole'
    AND errorcode IS NULL AND useridentity.type = 'AssumedRole'
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, region, actor, actor_arn,
       count(*) AS event_count, array_agg(eventid ORDER BY eventtime, eventid) AS eventids,
       array_sort(array_distinct(array_agg(source_uri))) AS source_uris,
       concat(actor, ' chained into role ', role, ' (', count(*), ' time(s))') AS summary
FROM ev
GROUP BY account, region, actor, actor_arn, role
