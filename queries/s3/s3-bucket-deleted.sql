-- id: s3-bucket-deleted
-- title: S3 bucket deleted
-- severity: medium
-- mitre: T1485
-- description: DeleteBucket. Medium when anyone deletes at least min_buckets within a day; low
--   when a person's key (IAM user, root, console or SSO session) deletes fewer; info for fewer
--   deletions by a role (stacks being torn down). Refused attempts are not listed here.
-- false_positives: test stacks torn down by pipelines (graded info)
-- param: min_buckets = 3 | buckets deleted by one identity within a day
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region, actor(useridentity) AS actor,
         useridentity.arn AS actor_arn, json_get_str(requestparameters, 'bucketName') AS bucket,
         useridentity.type IN ('IAMUser', 'Root') OR sessioncredentialfromconsole = 'true'
           OR coalesce(useridentity.sessioncontext.sessionissuer.username, '') LIKE 'AWSReservedSSO%' AS person,
         date_trunc('day', eventtime) AS day
  FROM cloudtrail
  WHERE eventsource = 's3.amazonaws.com' AND eventname = 'DeleteBucket' AND errorcode IS NULL
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, region, actor, min(actor_arn) AS actor_arn,
       count(*) AS event_count, array_agg(eventid ORDER BY eventtime, eventid) AS eventids,
       array_sort(array_distinct(array_agg(source_uri))) AS source_uris,
       CASE WHEN count(DISTINCT bucket) >= 3 /* min_buckets */ THEN 'medium' WHEN bool_or(person) THEN 'low' ELSE 'info' END AS severity,
       concat(actor, ' deleted ', count(DISTINCT bucket), ' bucket(s): ', array_to_string(array_sort(array_distinct(array_agg(bucket))), ', ')) AS summary
FROM ev
GROUP BY account, region, actor, day
