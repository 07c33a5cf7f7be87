-- id: s3-objects-encrypted-by-outsider-key
-- title: Objects rewritten with a customer-provided key or a foreign KMS key (ransomware)
-- severity: critical
-- mitre: T1486
-- description: PutObject, CopyObject or CreateMultipartUpload with server-side encryption by a
--   key the account does not hold: SSE-C (the caller sends the key with each request, and
--   without it nobody can read the object again) or a KMS key of another account. Rewriting
--   objects this way is how S3 ransomware locks data in place. Critical for at least min_objects
--   objects by one identity; high for fewer (SSE-C is rare in most accounts); info for a
--   principal (a role whatever its session names) that writes this way on more than one day: an
--   application built on SSE-C.
-- false_positives: applications that really use SSE-C (graded info once seen on two days)
-- param: min_objects = 10 | objects that make it bulk
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region, actor(useridentity) AS actor,
         useridentity.arn AS actor_arn, principal(useridentity) AS who,
         json_get_str(requestparameters, 'bucketName') AS bucket,
         regexp_like(requestparameters, '"x-amz-server-side-encryption-customer-algorithm"')
           OR regexp_like(coalesce(additionaleventdata, ''), '"SSEApplied"\s*:\s*"SSE_C"') AS ssec,
         arn_account(json_get_str(requestparameters, 'x-amz-server-side-encryption-aws-kms-key-id')) AS key_account
  FROM cloudtrail
  WHERE eventsource = 's3.amazonaws.com' AND errorcode IS NULL
    AND eventname IN ('PutObject', 'CopyObject', 'CreateMultipartUpload', 'UploadPartCopy')
),
flagged AS (
  SELECT *, count(DISTINCT date_trunc('day', eventtime)) OVER (PARTITION BY account, who) AS n_days
  FROM ev WHERE ssec OR (key_account IS NOT NULL AND key_account <> '' AND key_account <> account)
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, region, actor, min(actor_arn) AS actor_arn,
       count(*) AS event_count, array_agg(eventid ORDER BY eventtime, eventid) AS eventids,
       array_sort(array_distinct(array_agg(source_uri))) AS source_uris,
       CASE WHEN max(n_days) > 1 THEN 'info' WHEN count(*) >= 10 /* min_objects */ THEN 'critical' ELSE 'high' END AS severity,
       concat(actor, ' wrote ', count(*), ' object(s) to ', bucket, ' encrypted with ',
              CASE WHEN bool_or(ssec) THEN 'a key of their own (SSE-C)'
                   ELSE concat('a KMS key of account ', min(key_account)) END) AS summary
FROM flagged
GROUP BY account, region, actor, bucket
