-- id: organizations-leave
-- title: Account left its AWS Organization
-- severity: critical
-- mitre: T1562, T1666
-- description: LeaveOrganization (or RemoveAccountFromOrganization): the account escapes the
--   organisation's service control policies, organisation trail and central security services.
-- false_positives: a planned divestiture or account move
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region,
         actor(useridentity) AS actor, useridentity.arn AS actor_arn, eventname,
         coalesce(json_get_str(requestparameters, 'accountId'), account) AS leaver
  FROM cloudtrail
  WHERE eventsource = 'organizations.amazonaws.com' AND errorcode IS NULL
    AND eventname IN ('LeaveOrganization', 'RemoveAccountFromOrganization')
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, region, actor, actor_arn,
       count(*) AS event_count, array_agg(eventid ORDER BY eventtime, eventid) AS eventids,
       array_sort(array_distinct(array_agg(source_uri))) AS source_uris,
       concat(actor, ' took account ', leaver, ' out of the organisation (', eventname, ')') AS summary
FROM ev
GROUP BY account, region, actor, actor_arn, eventname, leaver
