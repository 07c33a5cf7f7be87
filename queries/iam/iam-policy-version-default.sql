-- id: iam-policy-version-default
-- title: Managed policy version made the default
-- severity: medium
-- mitre: T1098.003, T1484
-- description: CreatePolicyVersion with setAsDefault true, or SetDefaultPolicyVersion. Changing
--   which version of a managed policy is in force changes the rights of everyone it is attached
--   to; rolling back to an old, broader version is a known privilege escalation.
-- false_positives: policy updates deployed as code (they set the new version as default)
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region,
         actor(useridentity) AS actor, useridentity.arn AS actor_arn, eventname,
         json_get_str(requestparameters, 'policyArn') AS policy,
         json_get_str(requestparameters, 'versionId') AS version
  FROM cloudtrail
  WHERE eventsource = 'iam.amazonaws.com'
    AND errorcode IS NULL
    AND (eventname = 'SetDefaultPolicyVersion'
         OR (eventname = 'CreatePolicyVersion' AND json_get_bool(requestparameters, 'setAsDefault')))
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, region, actor, actor_arn,
       count(*) AS event_count, array_agg(eventid ORDER BY eventtime) AS eventids,
       array_agg(DISTINCT source_uri) AS source_uris,
       concat(actor, ' changed the default version of ', policy, coalesce(concat(' to ', min(version)), ''), ' (', eventname, ')') AS summary
FROM ev
GROUP BY account, region, actor, actor_arn, eventname, policy
