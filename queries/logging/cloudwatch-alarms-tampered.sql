-- id: cloudwatch-alarms-tampered
-- title: CloudWatch alarms deleted or their actions disabled
-- severity: medium
-- mitre: T1562.001
-- description: DeleteAlarms or DisableAlarmActions: the alarms that would page someone (on
--   errors, spend, root sign-ins, trail changes) go quiet.
-- false_positives: alarm clean-up by infrastructure code; maintenance windows
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region,
         actor(useridentity) AS actor, useridentity.arn AS actor_arn, eventname,
         json_get_json(requestparameters, 'alarmNames') AS alarms
  FROM cloudtrail
  WHERE eventsource = 'monitoring.amazonaws.com' AND errorcode IS NULL
    AND eventname IN ('DeleteAlarms', 'DisableAlarmActions')
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, region, actor, actor_arn,
       count(*) AS event_count, array_agg(eventid ORDER BY eventtime, eventid) AS eventids,
       array_sort(array_distinct(array_agg(source_uri))) AS source_uris,
       concat(actor, CASE WHEN eventname = 'DeleteAlarms' THEN ' deleted alarms ' ELSE ' silenced alarms ' END,
              array_to_string(array_sort(array_distinct(array_agg(alarms))), ' ')) AS summary
FROM ev
GROUP BY account, region, actor, actor_arn, eventname
