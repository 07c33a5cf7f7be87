-- id: iam-policy-version-default
-- title: Managed policy version made the default
-- severity: medium
-- mitre: T1098.003, T1484
-- description: CreatePolicyVersion with setAsDefault true, or SetDefaultPolicyVersion. Changing
--   which version of a managed policy is in force changes the rights of everyone it is attached
--   to; rolling back to an old, broader version is a known privilege escalation. Info when the
--   principal (a role whatever its session names) is the account's usual policy deployer: it
--   set default versions at least an hour earlier, or during the account's learning period.
--   Medium otherwise. (A version that allows everything is iam-policy-allows-all's.)
-- false_positives: a new infrastructure pipeline's first run (medium once, then info)
-- param: learning = '24 hours' | the start of each account's data that is baseline only
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region,
         actor(useridentity) AS actor, useridentity.arn AS actor_arn, principal(useridentity) AS who, eventname,
         json_get_str(requestparameters, 'policyArn') AS policy,
         json_get_str(requestparameters, 'versionId') AS version
  FROM cloudtrail
  WHERE eventsource = 'iam.amazonaws.com'
    AND errorcode IS NULL
    AND (eventname = 'SetDefaultPolicyVersion'
         OR (eventname = 'CreatePolicyVersion' AND json_get_bool(requestparameters, 'setAsDefault')))
),
spans AS (
  SELECT account, t0, t1 FROM account_spans
),
learned AS (
  SELECT account, CASE WHEN t1 > t0 + INTERVAL '24 hours' /* learning */ THEN t0 + INTERVAL '24 hours' /* learning */
                       ELSE t0 END AS since
  FROM spans
),
firsts AS (
  SELECT account, who, min(eventtime) AS first_change FROM ev GROUP BY account, who
),
graded AS (
  SELECT e.*, CASE WHEN f.first_change < l.since OR f.first_change < e.eventtime - INTERVAL '1 hour' THEN 'info'
                   ELSE 'medium' END AS severity
  FROM ev e JOIN firsts f ON e.account = f.account AND e.who = f.who JOIN learned l ON e.account = l.account
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, region, actor, actor_arn,
       count(*) AS event_count, array_agg(eventid ORDER BY eventtime, eventid) AS eventids,
       array_sort(array_distinct(array_agg(source_uri))) AS source_uris, severity,
       concat(actor, ' changed the default version of ', policy, coalesce(concat(' to ', min(version)), ''), ' (', eventname, ')',
              CASE WHEN severity = 'info' THEN ', as it usually does' ELSE '' END) AS summary
FROM graded
GROUP BY account, region, actor, actor_arn, eventname, policy, severity
