-- id: s3-public-access-block-removed
-- title: S3 Block Public Access removed or relaxed
-- severity: high
-- mitre: T1562, T1530
-- description: DeleteBucketPublicAccessBlock or DeletePublicAccessBlock (account level), or a Put
--   of either with any of its four settings false. The guard rail that stops a bucket being made
--   public is gone; a public policy or ACL often follows.
-- false_positives: the rare bucket that must be public, done through change control
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region,
         actor(useridentity) AS actor, useridentity.arn AS actor_arn, eventname,
         coalesce(json_get_str(requestparameters, 'bucketName'), concat('account ', account)) AS target,
         requestparameters AS req
  FROM cloudtrail
  WHERE eventsource IN ('s3.amazonaws.com', 's3control.amazonaws.com') AND errorcode IS NULL
    AND eventname IN ('DeleteBucketPublicAccessBlock', 'DeletePublicAccessBlock', 'PutBucketPublicAccessBlock', 'PutPublicAccessBlock')
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, region, actor, actor_arn,
       count(*) AS event_count, array_agg(eventid ORDER BY eventtime, eventid) AS eventids,
       array_sort(array_distinct(array_agg(source_uri))) AS source_uris,
       concat(actor, CASE WHEN eventname LIKE 'Delete%' THEN ' removed' ELSE ' relaxed' END,
              ' Block Public Access on ', target) AS summary
FROM ev
WHERE eventname LIKE 'Delete%'
   OR regexp_like(req, '"(BlockPublicAcls|IgnorePublicAcls|BlockPublicPolicy|RestrictPublicBuckets)"\s*:\s*false')
GROUP BY account, region, actor, actor_arn, eventname, target
