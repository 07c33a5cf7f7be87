-- id: iam-admin-policy-attached
-- title: AdministratorAccess attached to a user, role or group
-- severity: high
-- mitre: T1098.003
-- description: AttachUserPolicy, AttachRolePolicy or AttachGroupPolicy with the AWS managed
--   AdministratorAccess policy: full control of the account for that identity.
-- false_positives: break-glass roles created by the platform team
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region,
         actor(useridentity) AS actor, useridentity.arn AS actor_arn,
         eventname,
         coalesce(json_get_str(requestparameters, 'userName'), json_get_str(requestparameters, 'roleName'),
                  json_get_str(requestparameters, 'groupName')) AS target
  FROM cloudtrail
  WHERE eventsource = 'iam.amazonaws.com'
    AND eventname IN ('AttachUserPolicy', 'AttachRolePolicy', 'AttachGroupPolicy')
    AND errorcode IS NULL
    AND json_get_str(requestparameters, 'policyArn') LIKE 'arn:aws%:iam::aws:policy/AdministratorAccess'
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, region, actor, actor_arn,
       count(*) AS event_count, array_agg(eventid ORDER BY eventtime, eventid) AS eventids,
       array_sort(array_distinct(array_agg(source_uri))) AS source_uris,
       concat(actor, ' gave ', lower(replace(replace(eventname, 'Attach', ''), 'Policy', '')), ' ', target,
              ' full administrator rights (AdministratorAccess)') AS summary
FROM ev
GROUP BY account, region, actor, actor_arn, eventname, target
