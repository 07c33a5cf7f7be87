-- id: iam-policy-allows-all
-- title: IAM policy grants every action on every resource
-- severity: high
-- mitre: T1098.003
-- description: PutUserPolicy, PutRolePolicy, PutGroupPolicy, CreatePolicy or CreatePolicyVersion
--   whose document allows Action "*" (or "*:*") on Resource "*": administrator rights written by
--   hand, which the AdministratorAccess rule does not see.
-- false_positives: deliberate administrator policies maintained as code
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region,
         actor(useridentity) AS actor, useridentity.arn AS actor_arn, eventname,
         coalesce(json_get_str(requestparameters, 'policyName'), json_get_str(requestparameters, 'policyArn')) AS policy,
         coalesce(json_get_str(requestparameters, 'userName'), json_get_str(requestparameters, 'roleName'),
                  json_get_str(requestparameters, 'groupName')) AS target,
         json_get_str(requestparameters, 'policyDocument') AS doc
  FROM cloudtrail
  WHERE eventsource = 'iam.amazonaws.com'
    AND eventname IN ('PutUserPolicy', 'PutRolePolicy', 'PutGroupPolicy', 'CreatePolicy', 'CreatePolicyVersion')
    AND errorcode IS NULL
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, region, actor, actor_arn,
       count(*) AS event_count, array_agg(eventid ORDER BY eventtime, eventid) AS eventids,
       array_sort(array_distinct(array_agg(source_uri))) AS source_uris,
       concat(actor, ' wrote policy ', coalesce(policy, '?'), coalesce(concat(' on ', target), ''),
              ' allowing every action on every resource (', eventname, ')') AS summary
FROM ev
WHERE regexp_like(doc, '"Effect"\s*:\s*"Allow"')
  AND regexp_like(doc, '"Action"\s*:\s*(\[[^\]]*)?"\*(:\*)?"')
  AND regexp_like(doc, '"Resource"\s*:\s*(\[[^\]]*)?"\*"')
GROUP BY account, region, actor, actor_arn, eventname, policy, target
