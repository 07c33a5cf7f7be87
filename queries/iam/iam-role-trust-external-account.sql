-- id: iam-role-trust-external-account
-- title: Role trust policy opened to an account outside the lake's accounts
-- severity: high
-- mitre: T1098, T1199
-- description: CreateRole or UpdateAssumeRolePolicy whose trust policy names an AWS account (12
--   digits, or an ARN in it) that is neither the role's own account nor any account whose logs are
--   in the lake: someone outside can now assume the role.
-- false_positives: vendor integrations (monitoring, backup, security tools) with an external id
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region,
         actor(useridentity) AS actor, useridentity.arn AS actor_arn,
         json_get_str(requestparameters, 'roleName') AS role,
         coalesce(json_get_str(requestparameters, 'policyDocument'),
                  json_get_str(requestparameters, 'assumeRolePolicyDocument')) AS doc
  FROM cloudtrail
  WHERE eventsource = 'iam.amazonaws.com'
    AND eventname IN ('CreateRole', 'UpdateAssumeRolePolicy')
    AND errorcode IS NULL
),
named AS (
  SELECT *, (regexp_match(regexp_replace(doc, account, '', 'g'), '(?:arn:aws[a-z-]*:iam::|"AWS"\s*:\s*(?:\[[^\]]*)?")([0-9]{12})'))[1] AS outsider
  FROM ev
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, region, actor, actor_arn,
       count(*) AS event_count, array_agg(eventid ORDER BY eventtime, eventid) AS eventids,
       array_sort(array_distinct(array_agg(source_uri))) AS source_uris,
       concat(actor, ' let account ', outsider, ' assume role ', role) AS summary
FROM named
WHERE outsider IS NOT NULL AND outsider NOT IN (SELECT account FROM account_spans)
GROUP BY account, region, actor, actor_arn, role, outsider
