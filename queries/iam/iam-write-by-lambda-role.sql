-- id: iam-write-by-lambda-role
-- title: IAM changed by a Lambda function's execution role
-- severity: high
-- mitre: T1098, T1078.004
-- description: An IAM write (readonly false) made with a Lambda function's credentials: the
--   session's key was issued to lambda.amazonaws.com by AssumeRole, or the call came from a
--   Lambda runtime (user agent with exec-env/AWS_Lambda). Functions rarely manage IAM; an
--   attacker running code in a function, or holding its stolen credentials, often does.
-- false_positives: functions that manage IAM by design (account vending, key rotation)
WITH lambda_keys AS (
  SELECT DISTINCT json_get_str(responseelements, 'credentials', 'accessKeyId') AS key
  FROM cloudtrail
  WHERE eventsource = 'sts.amazonaws.com' AND eventname = 'AssumeRole'
    AND useridentity.invokedby = 'lambda.amazonaws.com'
),
ev AS (
  SELECT eventtime, eventid, source_uri, account, region,
         actor(useridentity) AS actor, useridentity.arn AS actor_arn, eventname,
         useridentity.accesskeyid AS key, useragent
  FROM cloudtrail
  WHERE eventsource = 'iam.amazonaws.com' AND readonly = false
    AND useridentity.type = 'AssumedRole'
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, region, actor, actor_arn,
       count(*) AS event_count, array_agg(eventid ORDER BY eventtime, eventid) AS eventids,
       array_sort(array_distinct(array_agg(source_uri))) AS source_uris,
       concat(actor, ', a Lambda execution role session, made ', count(*), ' IAM changes: ',
              array_to_string(array_sort(array_distinct(array_agg(eventname))), ', ')) AS summary
FROM ev
WHERE useragent LIKE '%exec-env/AWS_Lambda%' OR key IN (SELECT key FROM lambda_keys)
GROUP BY account, region, actor, actor_arn
