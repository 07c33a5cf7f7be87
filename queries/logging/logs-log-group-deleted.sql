-- id: logs-log-group-deleted
-- title: CloudWatch log group deleted (other than a Lambda function's)
-- severity: high
-- mitre: T1070, T1562.008
-- description: DeleteLogGroup on a log group that is not a Lambda function's (those are
--   logs-lambda-log-group-tampered's). High when its name says it holds the account's record of
--   itself (CloudTrail, VPC flow logs, DNS query logs, audit, security, GuardDuty, WAF); low for
--   other groups; info for a principal (a role whatever its session names) that deletes log
--   groups on more than one day (stack teardown).
-- false_positives: stacks torn down by pipelines (info once seen on two days); clean-up of old
--   groups
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region, actor(useridentity) AS actor,
         useridentity.arn AS actor_arn, principal(useridentity) AS who,
         json_get_str(requestparameters, 'logGroupName') AS grp
  FROM cloudtrail
  WHERE eventsource = 'logs.amazonaws.com' AND eventname = 'DeleteLogGroup' AND errorcode IS NULL
    AND coalesce(json_get_str(requestparameters, 'logGroupName'), '') NOT LIKE '/aws/lambda/%'
),
habits AS (
  SELECT account, who, count(DISTINCT date_trunc('day', eventtime)) AS n_days FROM ev GROUP BY account, who
)
SELECT min(e.eventtime) AS first_seen, max(e.eventtime) AS last_seen, e.account, e.region, e.actor,
       min(e.actor_arn) AS actor_arn, count(*) AS event_count, array_agg(e.eventid ORDER BY e.eventtime, e.eventid) AS eventids,
       array_sort(array_distinct(array_agg(e.source_uri))) AS source_uris,
       CASE WHEN bool_or(regexp_like(lower(coalesce(e.grp, '')), 'cloudtrail|trail|flow|vpc|dns|resolver|audit|security|guardduty|waf'))
            THEN 'high'
            WHEN min(h.n_days) > 1 THEN 'info'
            ELSE 'low' END AS severity,
       concat(e.actor, ' deleted log group(s) ', array_to_string(array_sort(array_distinct(array_agg(e.grp))), ', ')) AS summary
FROM ev e JOIN habits h ON e.account = h.account AND e.who = h.who
GROUP BY e.account, e.region, e.actor
