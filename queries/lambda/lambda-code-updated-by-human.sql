-- id: lambda-code-updated-by-human
-- title: Lambda code changed by a person instead of the deploy pipeline
-- severity: medium
-- mitre: T1525, T1072
-- description: UpdateFunctionCode (any API version) by an IAM user, root, a federated user, or
--   an IAM Identity Center (SSO) or SAML session. Pipelines deploy with a role; a person pushing
--   code by hand is how a stolen user key or console session backdoors a function.
-- false_positives: hot fixes during an outage; teams that deploy from laptops
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region,
         actor(useridentity) AS actor, useridentity.arn AS actor_arn,
         useridentity.type AS kind,
         json_get_str(requestparameters, 'functionName') AS fn
  FROM cloudtrail
  WHERE eventsource = 'lambda.amazonaws.com'
    AND eventname LIKE 'UpdateFunctionCode%' AND lambda_api(eventname) = 'UpdateFunctionCode'
    AND errorcode IS NULL
    AND (useridentity.type IN ('IAMUser', 'Root', 'FederatedUser', 'SAMLUser', 'IdentityCenterUser')
         OR useridentity.sessioncontext.sessionissuer.username LIKE 'AWSReservedSSO%'
         OR useridentity.arn LIKE '%:assumed-role/AWSReservedSSO%')
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, region, actor, actor_arn,
       count(*) AS event_count, array_agg(eventid ORDER BY eventtime, eventid) AS eventids,
       array_sort(array_distinct(array_agg(source_uri))) AS source_uris,
       concat(actor, ' (', min(kind), ') replaced the code of function ', fn, ' by hand') AS summary
FROM ev
GROUP BY account, region, actor, actor_arn, fn
