-- id: iam-role-trust-public
-- title: Role trust policy lets anyone assume the role
-- severity: critical
-- mitre: T1098, T1199
-- description: CreateRole or UpdateAssumeRolePolicy whose trust policy names Principal "*" or
--   AWS "*": any AWS identity in the world may assume the role unless a condition stops it.
-- false_positives: roles with a strict condition (sts:ExternalId, aws:PrincipalOrgID); read the policy
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region,
         actor(useridentity) AS actor, useridentity.arn AS actor_arn, eventname,
         json_get_str(requestparameters, 'roleName') AS role,
         coalesce(json_get_str(requestparameters, 'policyDocument'),
                  json_get_str(requestparameters, 'assumeRolePolicyDocument')) AS doc
  FROM cloudtrail
  WHERE eventsource = 'iam.amazonaws.com'
    AND eventname IN ('CreateRole', 'UpdateAssumeRolePolicy')
    AND errorcode IS NULL
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, region, actor, actor_arn,
       count(*) AS event_count, array_agg(eventid ORDER BY eventtime, eventid) AS eventids,
       array_sort(array_distinct(array_agg(source_uri))) AS source_uris,
       concat(actor, ' let anyone assume role ', role,
              CASE WHEN regexp_like(min(doc), '"Condition"') THEN ' (with a condition: read it)' ELSE '' END) AS summary
FROM ev
WHERE regexp_like(doc, '"Principal"\s*:\s*"\*"') OR regexp_like(doc, '"AWS"\s*:\s*(\[[^\]]*)?"\*"')
GROUP BY account, region, actor, actor_arn, role
