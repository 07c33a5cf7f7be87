-- id: root-api-activity
-- title: Root user made API calls
-- severity: high
-- mitre: T1078.004
-- description: Any call made as the root user other than the sign-in itself (signin-root-console-login
--   covers that), including calls AWS services make on root's behalf from the console. Root has
--   no limits and no policies; its use should be rare and explained.
-- false_positives: account-level tasks only root can do, done by a known person
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region,
         actor(useridentity) AS actor, useridentity.arn AS actor_arn, eventname, sourceipaddress
  FROM cloudtrail
  WHERE useridentity.type = 'Root'
    AND eventtype <> 'AwsConsoleSignIn'
    AND eventname <> 'ConsoleLogin'
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, region, actor, actor_arn,
       count(*) AS event_count, array_agg(eventid ORDER BY eventtime, eventid) AS eventids,
       array_sort(array_distinct(array_agg(source_uri))) AS source_uris,
       concat('root of ', account, ' made ', count(*), ' call(s) from ', array_to_string(array_sort(array_distinct(array_agg(sourceipaddress))), ', '),
              ': ', array_to_string(array_sort(array_distinct(array_agg(eventname))), ', ')) AS summary
FROM ev
GROUP BY account, region, actor, actor_arn
