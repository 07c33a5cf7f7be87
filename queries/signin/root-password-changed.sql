-- id: root-password-changed
-- title: Root password changed or recovered
-- severity: high
-- mitre: T1098, T1531
-- description: PasswordUpdated for the root user, or a root password recovery
--   (PasswordRecoveryRequested, PasswordRecoveryCompleted). Whoever changes the root password
--   owns the account and can lock everyone else out; it happens a few times in an account's life.
-- false_positives: the planned rotation of the root password
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region, actor(useridentity) AS actor,
         useridentity.arn AS actor_arn, eventname, sourceipaddress
  FROM cloudtrail
  WHERE eventsource = 'signin.amazonaws.com' AND errorcode IS NULL
    AND useridentity.type = 'Root'
    AND eventname IN ('PasswordUpdated', 'PasswordRecoveryRequested', 'PasswordRecoveryCompleted')
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, region, actor, min(actor_arn) AS actor_arn,
       count(*) AS event_count, array_agg(eventid ORDER BY eventtime, eventid) AS eventids,
       array_sort(array_distinct(array_agg(source_uri))) AS source_uris,
       concat('root: ', array_to_string(array_sort(array_distinct(array_agg(eventname))), ', '), ' from ',
              array_to_string(array_sort(array_distinct(array_agg(sourceipaddress))), ', ')) AS summary
FROM ev
GROUP BY account, region, actor
