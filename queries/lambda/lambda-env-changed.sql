-- id: lambda-env-changed
-- title: Lambda environment variables changed
-- severity: high
-- mitre: T1574, T1525
-- description: UpdateFunctionConfiguration (any API version) that sets the environment. Attackers
--   change variables to redirect a function (endpoints, AWS_LAMBDA_EXEC_WRAPPER, NODE_OPTIONS,
--   PYTHONPATH) without touching its code, or to read secrets kept there. Graded by who: high
--   from a person (an IAM user, root, a console or SSO session) or from an identity of an
--   account outside the lake; info from the function's usual deployer (a principal, that is a
--   role whatever its session names, that changed the function at least an hour earlier, or
--   during the account's learning period); low from a principal that deploys other functions
--   of the account that way (a pipeline's first deploy of a new function); medium from any
--   other identity. When an account's data covers more than the learning period, its first
--   learning period is the baseline.
-- false_positives: a new deploy pipeline's first run (medium once, then info)
-- param: learning = '24 hours' | the start of each account's data that is baseline only

-- Each identity's first change of each function, and of any function, beside every change: one
-- read of the changes (windows, not self-joins, which would read them three times).
WITH changes AS (
  SELECT *, min(eventtime) OVER (PARTITION BY account, region, fn, who) AS first_change,
         min(eventtime) OVER (PARTITION BY account, who) AS first_any
  FROM (
    SELECT eventtime, eventid, source_uri, account, region,
           actor(useridentity) AS actor, useridentity.arn AS actor_arn, principal(useridentity) AS who,
           useridentity.type IN ('IAMUser', 'Root') OR sessioncredentialfromconsole = 'true'
             OR coalesce(useridentity.sessioncontext.sessionissuer.username, '') LIKE 'AWSReservedSSO%' AS person,
           useridentity.accountid AS caller_account,
           lambda_function(json_get_str(requestparameters, 'functionName')) AS fn,
           lambda_api(eventname) = 'UpdateFunctionConfiguration' AND json_contains(requestparameters, 'environment') AS env
    FROM cloudtrail
    WHERE eventsource = 'lambda.amazonaws.com' AND errorcode IS NULL
      AND (eventname LIKE 'CreateFunction%' OR eventname LIKE 'UpdateFunctionCode%' OR eventname LIKE 'UpdateFunctionConfiguration%')
      AND lambda_api(eventname) IN ('CreateFunction', 'UpdateFunctionCode', 'UpdateFunctionConfiguration')
  )
),
spans AS (
  SELECT account, t0, t1 FROM account_spans
),
learned AS (
  SELECT account, CASE WHEN t1 > t0 + INTERVAL '24 hours' /* learning */ THEN t0 + INTERVAL '24 hours' /* learning */
                       ELSE t0 END AS since
  FROM spans
),
accounts AS (
  SELECT DISTINCT account AS acct FROM cloudtrail
),
graded AS (
  SELECT c.eventtime, c.eventid, c.source_uri, c.account, c.region, c.actor, c.actor_arn, c.fn,
         CASE WHEN c.person OR (c.caller_account IS NOT NULL AND a.acct IS NULL) THEN 'high'
              WHEN c.first_change < l.since OR c.first_change < c.eventtime - INTERVAL '1 hour' THEN 'info'
              WHEN c.first_any < l.since OR c.first_any < c.eventtime - INTERVAL '1 hour' THEN 'low'
              ELSE 'medium' END AS severity
  FROM changes c
  JOIN learned l ON c.account = l.account
  LEFT JOIN accounts a ON c.caller_account = a.acct
  WHERE c.env
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, region, actor, actor_arn,
       count(*) AS event_count, array_agg(eventid ORDER BY eventtime, eventid) AS eventids,
       array_sort(array_distinct(array_agg(source_uri))) AS source_uris, severity,
       concat(actor, ' changed the environment variables of function ', fn,
              CASE severity WHEN 'info' THEN ' (its usual deployer)'
                            WHEN 'low' THEN ' (a deployer of other functions, new to this one)'
                            WHEN 'high' THEN ' (a person, or an identity from outside the lake''s accounts)'
                            ELSE ' (an identity that had not changed it before)' END) AS summary
FROM graded
GROUP BY account, region, actor, actor_arn, fn, severity
