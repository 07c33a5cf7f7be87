-- id: lambda-layer-public
-- title: Lambda layer version shared with everyone
-- severity: high
-- mitre: T1537
-- description: AddLayerVersionPermission (any API version) with principal "*" and no
--   organisation condition: any AWS account can read the layer's code, and whatever secrets or
--   libraries are baked into it.
-- false_positives: layers published on purpose for customers or the community
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region,
         actor(useridentity) AS actor, useridentity.arn AS actor_arn,
         json_get_str(requestparameters, 'layerName') AS layer,
         json_get(requestparameters, 'versionNumber') AS version
  FROM cloudtrail
  WHERE eventsource = 'lambda.amazonaws.com'
    AND eventname LIKE 'AddLayerVersionPermission%' AND lambda_api(eventname) = 'AddLayerVersionPermission'
    AND errorcode IS NULL
    AND json_get_str(requestparameters, 'principal') = '*'
    AND json_get_str(requestparameters, 'organizationId') IS NULL
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, region, actor, actor_arn,
       count(*) AS event_count, array_agg(eventid ORDER BY eventtime, eventid) AS eventids,
       array_sort(array_distinct(array_agg(source_uri))) AS source_uris,
       concat(actor, ' shared layer ', layer, ' with every AWS account') AS summary
FROM ev
GROUP BY account, region, actor, actor_arn, layer
