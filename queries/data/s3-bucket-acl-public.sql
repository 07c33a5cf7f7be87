-- id: s3-bucket-acl-public
-- title: S3 bucket or object ACL grants everyone
-- severity: high
-- mitre: T1530
-- description: PutBucketAcl or PutObjectAcl granting the AllUsers or AuthenticatedUsers groups, or
--   a public-read / public-read-write / authenticated-read canned ACL: anyone (or any AWS account)
--   can read or write.
-- false_positives: legacy public website buckets
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region,
         actor(useridentity) AS actor, useridentity.arn AS actor_arn, eventname,
         json_get_str(requestparameters, 'bucketName') AS bucket,
         requestparameters AS req
  FROM cloudtrail
  WHERE eventsource = 's3.amazonaws.com' AND eventname IN ('PutBucketAcl', 'PutObjectAcl') AND errorcode IS NULL
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, region, actor, actor_arn,
       count(*) AS event_count, array_agg(eventid ORDER BY eventtime, eventid) AS eventids,
       array_sort(array_distinct(array_agg(source_uri))) AS source_uris,
       concat(actor, ' granted everyone access to bucket ', bucket, ' by ACL (', eventname, ')') AS summary
FROM ev
WHERE regexp_like(req, 'acs\.amazonaws\.com/groups/global/(AllUsers|AuthenticatedUsers)')
   OR regexp_like(req, '"x-amz-acl"\s*:\s*(\[\s*)?"(public-read|public-read-write|authenticated-read)"')
GROUP BY account, region, actor, actor_arn, eventname, bucket
