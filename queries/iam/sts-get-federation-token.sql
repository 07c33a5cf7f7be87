-- id: sts-get-federation-token
-- title: Federation token minted by an IAM user
-- severity: medium
-- mitre: T1550.001, T1078.004
-- description: GetFederationToken by an IAM user. The temporary credentials outlive the user's
--   key being disabled (up to 36 hours) and show up as a FederatedUser, a favourite way to keep
--   access with a leaked key.
-- false_positives: old federation proxies that still use GetFederationToken
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region,
         actor(useridentity) AS actor, useridentity.arn AS actor_arn,
         json_get_str(requestparameters, 'name') AS fed_name
  FROM cloudtrail
  WHERE eventsource = 'sts.amazonaws.com' AND eventname = 'GetFederationToken'
    AND errorcode IS NULL AND useridentity.type = 'IAMUser'
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, region, actor, actor_arn,
       count(*) AS event_count, array_agg(eventid ORDER BY eventtime, eventid) AS eventids,
       array_sort(array_distinct(array_agg(source_uri))) AS source_uris,
       concat(actor, ' minted ', count(*), ' federation token(s) named ', array_to_string(array_sort(array_distinct(array_agg(fed_name))), ', ')) AS summary
FROM ev
GROUP BY account, region, actor, actor_arn
