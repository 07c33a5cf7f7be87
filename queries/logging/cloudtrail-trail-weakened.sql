-- id: cloudtrail-trail-weakened
-- title: CloudTrail trail weakened
-- severity: high
-- mitre: T1562.008
-- description: UpdateTrail that turns off multi-region logging, global service events or log file
--   validation, or points the trail at another bucket: events go missing, or land where the
--   attacker can edit them, or can no longer be proven untouched.
-- false_positives: a planned move of the log bucket
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region,
         actor(useridentity) AS actor, useridentity.arn AS actor_arn,
         json_get_str(requestparameters, 'name') AS trail,
         concat_ws(', ',
           CASE WHEN json_get_bool(requestparameters, 'isMultiRegionTrail') = false THEN 'multi-region logging off' END,
           CASE WHEN json_get_bool(requestparameters, 'includeGlobalServiceEvents') = false THEN 'global service events off' END,
           CASE WHEN json_get_bool(requestparameters, 'enableLogFileValidation') = false THEN 'log file validation off' END,
           CASE WHEN json_get_str(requestparameters, 's3BucketName') IS NOT NULL
                THEN concat('logs now go to bucket ', json_get_str(requestparameters, 's3BucketName')) END) AS changes
  FROM cloudtrail
  WHERE eventsource = 'cloudtrail.amazonaws.com' AND eventname = 'UpdateTrail' AND errorcode IS NULL
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, region, actor, actor_arn,
       count(*) AS event_count, array_agg(eventid ORDER BY eventtime, eventid) AS eventids,
       array_sort(array_distinct(array_agg(source_uri))) AS source_uris,
       concat(actor, ' weakened trail ', trail, ': ', changes) AS summary
FROM ev
WHERE changes <> ''
GROUP BY account, region, actor, actor_arn, trail, changes
