-- id: iam-login-profile-for-other-user
-- title: Console password set for another user
-- severity: high
-- mitre: T1098
-- description: CreateLoginProfile or UpdateLoginProfile naming a user other than the caller:
--   someone can now sign in to the console as that user with a password the caller chose.
-- false_positives: administrators onboarding users or resetting passwords
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region,
         actor(useridentity) AS actor, useridentity.arn AS actor_arn, eventname,
         json_get_str(requestparameters, 'userName') AS target
  FROM cloudtrail
  WHERE eventsource = 'iam.amazonaws.com'
    AND eventname IN ('CreateLoginProfile', 'UpdateLoginProfile')
    AND errorcode IS NULL
    AND json_get_str(requestparameters, 'userName') IS NOT NULL
    AND json_get_str(requestparameters, 'userName') <> coalesce(useridentity.username, '')
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, region, actor, actor_arn,
       count(*) AS event_count, array_agg(eventid ORDER BY eventtime, eventid) AS eventids,
       array_sort(array_distinct(array_agg(source_uri))) AS source_uris,
       concat(actor, ' set a console password for user ', target, ' (', eventname, ')') AS summary
FROM ev
GROUP BY account, region, actor, actor_arn, eventname, target
