-- id: lambda-code-signing-removed
-- title: Lambda code signing removed or weakened
-- severity: high
-- mitre: T1553, T1562.001
-- description: DeleteFunctionCodeSigningConfig or DeleteCodeSigningConfig (any API version), or
--   UpdateCodeSigningConfig / CreateCodeSigningConfig that only warns on untrusted code. Without
--   enforced signing, unsigned code can be deployed to the function.
-- false_positives: a planned change of signing profiles
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region,
         actor(useridentity) AS actor, useridentity.arn AS actor_arn,
         lambda_api(eventname) AS api,
         coalesce(lambda_function(json_get_str(requestparameters, 'functionName')),
                  json_get_str(requestparameters, 'codeSigningConfigArn')) AS target
  FROM cloudtrail
  WHERE eventsource = 'lambda.amazonaws.com'
    AND eventname LIKE '%CodeSigningConfig%'
    AND errorcode IS NULL
    AND (lambda_api(eventname) IN ('DeleteFunctionCodeSigningConfig', 'DeleteCodeSigningConfig')
         OR (lambda_api(eventname) IN ('UpdateCodeSigningConfig', 'CreateCodeSigningConfig')
             AND upper(json_get_str(requestparameters, 'codeSigningPolicies', 'untrustedArtifactOnDeployment')) = 'WARN'))
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, region, actor, actor_arn,
       count(*) AS event_count, array_agg(eventid ORDER BY eventtime, eventid) AS eventids,
       array_sort(array_distinct(array_agg(source_uri))) AS source_uris,
       concat(actor, ' weakened code signing (', api, ') for ', coalesce(target, 'a function')) AS summary
FROM ev
GROUP BY account, region, actor, actor_arn, api, target
