-- id: logs-lambda-log-group-tampered
-- title: Lambda log group deleted or its retention cut
-- severity: high
-- mitre: T1070, T1562.008
-- description: DeleteLogGroup or DeleteLogStream on a /aws/lambda/ log group, or PutRetentionPolicy
--   keeping its logs at most max_retention_days days. A function's own logs are the best record of
--   what planted code did; removing them is covering tracks.
-- false_positives: clean-up of deleted functions' log groups; cost-driven retention changes
-- param: max_retention_days = 7 | a retention of this many days or fewer counts as cut
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region,
         actor(useridentity) AS actor, useridentity.arn AS actor_arn, eventname,
         json_get_str(requestparameters, 'logGroupName') AS grp,
         json_get_int(requestparameters, 'retentionInDays') AS days
  FROM cloudtrail
  WHERE eventsource = 'logs.amazonaws.com' AND errorcode IS NULL
    AND eventname IN ('DeleteLogGroup', 'DeleteLogStream', 'PutRetentionPolicy')
    AND json_get_str(requestparameters, 'logGroupName') LIKE '/aws/lambda/%'
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, region, actor, actor_arn,
       count(*) AS event_count, array_agg(eventid ORDER BY eventtime, eventid) AS eventids,
       array_sort(array_distinct(array_agg(source_uri))) AS source_uris,
       concat(actor, CASE WHEN eventname = 'PutRetentionPolicy' THEN concat(' cut the retention of ', grp, ' to ', min(days), ' days')
                          WHEN eventname = 'DeleteLogStream' THEN concat(' deleted ', count(*), ' log stream(s) of ', grp)
                          ELSE concat(' deleted log group ', grp) END) AS summary
FROM ev
WHERE eventname <> 'PutRetentionPolicy' OR days <= 7 /* max_retention_days */
GROUP BY account, region, actor, actor_arn, eventname, grp
