-- id: signin-root-console-login
-- title: Root user signed in to the console
-- severity: high
-- mitre: T1078.004
-- description: ConsoleLogin by the account's root user, successful or not. Root should be locked
--   away; a sign-in is either a break-glass event someone can explain or a stolen password.
-- false_positives: the few tasks only root can do (closing the account, some billing changes)
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region,
         actor(useridentity) AS actor, useridentity.arn AS actor_arn, sourceipaddress,
         coalesce(json_get_str(responseelements, 'ConsoleLogin'), errormessage) AS outcome
  FROM cloudtrail
  WHERE eventname = 'ConsoleLogin' AND useridentity.type = 'Root'
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, region, actor, actor_arn,
       count(*) AS event_count, array_agg(eventid ORDER BY eventtime, eventid) AS eventids,
       array_sort(array_distinct(array_agg(source_uri))) AS source_uris,
       concat('root of ', account, ' signed in to the console (', array_to_string(array_sort(array_distinct(array_agg(outcome))), ', '),
              ') from ', array_to_string(array_sort(array_distinct(array_agg(sourceipaddress))), ', ')) AS summary
FROM ev
GROUP BY account, region, actor, actor_arn
