-- id: s3-bucket-protection-removed
-- title: A bucket's versioning, MFA delete, replication, logging, encryption or lifecycle weakened
-- severity: high
-- mitre: T1485, T1490, T1562.008
-- description: The steps before destroying or holding data to ransom: PutBucketVersioning
--   suspending versioning or disabling MFA delete (old versions stop protecting the data);
--   DeleteBucketReplication (no copy elsewhere); PutBucketLogging without a target (access logs
--   stop); DeleteBucketEncryption; PutBucketLifecycle(Configuration) with a rule that expires
--   objects after a day or less (AWS deletes everything for the attacker, and no delete call is
--   ever logged).
-- false_positives: buckets being retired; test buckets with short lifecycles (allow them)
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region, actor(useridentity) AS actor,
         useridentity.arn AS actor_arn, eventname, json_get_str(requestparameters, 'bucketName') AS bucket,
         CASE
           WHEN eventname = 'PutBucketVersioning'
                AND regexp_like(requestparameters, '"Status"\s*:\s*"Suspended"') THEN 'versioning suspended'
           WHEN eventname = 'PutBucketVersioning'
                AND regexp_like(requestparameters, '"MfaDelete"\s*:\s*"Disabled"') THEN 'MFA delete disabled'
           WHEN eventname = 'DeleteBucketReplication' THEN 'replication removed'
           WHEN eventname = 'DeleteBucketEncryption' THEN 'default encryption removed'
           WHEN eventname = 'PutBucketLogging'
                AND NOT regexp_like(requestparameters, '(?i)"LoggingEnabled"') THEN 'access logging turned off'
           WHEN eventname IN ('PutBucketLifecycle', 'PutBucketLifecycleConfiguration')
                AND regexp_like(requestparameters, '"(Expiration|NoncurrentVersionExpiration)"\s*:\s*\{[^}]*"(Days|NoncurrentDays)"\s*:\s*"?[01]"?\s*[,}]')
             THEN 'lifecycle expires objects within a day'
         END AS change
  FROM cloudtrail
  WHERE eventsource = 's3.amazonaws.com' AND errorcode IS NULL
    AND eventname IN ('PutBucketVersioning', 'DeleteBucketReplication', 'DeleteBucketEncryption', 'PutBucketLogging',
                      'PutBucketLifecycle', 'PutBucketLifecycleConfiguration')
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, region, actor, min(actor_arn) AS actor_arn,
       count(*) AS event_count, array_agg(eventid ORDER BY eventtime, eventid) AS eventids,
       array_sort(array_distinct(array_agg(source_uri))) AS source_uris,
       concat(actor, ' weakened bucket ', bucket, ': ', array_to_string(array_sort(array_distinct(array_agg(change))), ', ')) AS summary
FROM ev
WHERE change IS NOT NULL
GROUP BY account, region, actor, bucket
