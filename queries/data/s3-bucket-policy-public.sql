-- id: s3-bucket-policy-public
-- title: S3 bucket policy made public
-- severity: high
-- mitre: T1530, T1537
-- description: PutBucketPolicy whose policy allows Principal "*" (or AWS "*"): the bucket's
--   objects can be read (or written) by anyone, unless a condition narrows it.
-- false_positives: static website buckets and public datasets; policies with aws:SourceVpce or
--   aws:PrincipalOrgID conditions
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region,
         actor(useridentity) AS actor, useridentity.arn AS actor_arn,
         json_get_str(requestparameters, 'bucketName') AS bucket,
         coalesce(json_get_json(requestparameters, 'bucketPolicy'), json_get_str(requestparameters, 'policy')) AS doc
  FROM cloudtrail
  WHERE eventsource = 's3.amazonaws.com' AND eventname = 'PutBucketPolicy' AND errorcode IS NULL
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, region, actor, actor_arn,
       count(*) AS event_count, array_agg(eventid ORDER BY eventtime, eventid) AS eventids,
       array_sort(array_distinct(array_agg(source_uri))) AS source_uris,
       concat(actor, ' made bucket ', bucket, ' public through its bucket policy',
              CASE WHEN regexp_like(min(doc), '"Condition"') THEN ' (with a condition: read it)' ELSE '' END) AS summary
FROM ev
WHERE regexp_like(doc, '"Effect"\s*:\s*"Allow"')
  AND (regexp_like(doc, '"Principal"\s*:\s*"\*"') OR regexp_like(doc, '"AWS"\s*:\s*(\[[^\]]*)?"\*"'))
GROUP BY account, region, actor, actor_arn, bucket
