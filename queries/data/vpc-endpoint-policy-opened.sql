-- id: vpc-endpoint-policy-opened
-- title: VPC endpoint policy opened or endpoint deleted
-- severity: medium
-- mitre: T1562.007, T1537
-- description: ModifyVpcEndpoint that resets the policy to full access or sets one allowing "*"
--   on "*", or DeleteVpcEndpoints. Endpoint policies keep data from leaving through an endpoint
--   to buckets or accounts outside; opening or removing them clears the way.
-- false_positives: network changes by infrastructure code
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region,
         actor(useridentity) AS actor, useridentity.arn AS actor_arn, eventname,
         requestparameters AS req
  FROM cloudtrail
  WHERE eventsource = 'ec2.amazonaws.com' AND errorcode IS NULL
    AND eventname IN ('ModifyVpcEndpoint', 'DeleteVpcEndpoints')
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, region, actor, actor_arn,
       count(*) AS event_count, array_agg(eventid ORDER BY eventtime, eventid) AS eventids,
       array_sort(array_distinct(array_agg(source_uri))) AS source_uris,
       concat(actor, CASE WHEN eventname = 'DeleteVpcEndpoints' THEN ' deleted VPC endpoints' ELSE ' opened the policy of VPC endpoint ' END,
              ' ', coalesce(min(json_get_str(req, 'ModifyVpcEndpointRequest', 'VpcEndpointId')), min(json_get_str(req, 'vpcEndpointId')), '')) AS summary
FROM ev
WHERE eventname = 'DeleteVpcEndpoints'
   OR regexp_like(req, '"(ResetPolicy|resetPolicy)"\s*:\s*true')
   OR (regexp_like(req, '\\?"Action\\?"\s*:\s*(\[[^\]]*)?\\?"\*\\?"') AND regexp_like(req, '\\?"Resource\\?"\s*:\s*(\[[^\]]*)?\\?"\*\\?"'))
GROUP BY account, region, actor, actor_arn, eventname
