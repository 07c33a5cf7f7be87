-- id: lambda-permission-foreign-account
-- title: Lambda function policy grants another AWS account
-- severity: medium
-- mitre: T1098
-- description: AddPermission whose principal is an AWS account (12 digits or an IAM ARN) other
--   than the function's own account, so that account can invoke or manage the function.
-- false_positives: cross-account integrations between accounts of the same organisation; check
--   the account against your account list
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region,
         actor(useridentity) AS actor, useridentity.arn AS actor_arn,
         json_get_str(requestparameters, 'functionName') AS fn,
         json_get_str(requestparameters, 'principal') AS principal
  FROM cloudtrail
  WHERE eventsource = 'lambda.amazonaws.com'
    AND eventname LIKE 'AddPermission%' AND lambda_api(eventname) = 'AddPermission'
    AND errorcode IS NULL
),
outside AS (
  SELECT *, coalesce(arn_account(principal), principal) AS grantee FROM ev
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, region, actor, actor_arn,
       count(*) AS event_count, array_agg(eventid ORDER BY eventtime, eventid) AS eventids,
       array_sort(array_distinct(array_agg(source_uri))) AS source_uris,
       concat(actor, ' let account ', grantee, ' use function ', fn) AS summary
FROM outside
WHERE regexp_like(grantee, '^[0-9]{12}$') AND grantee <> account
GROUP BY account, region, actor, actor_arn, fn, grantee
