-- id: dynamodb-table-export
-- title: DynamoDB table exported to S3
-- severity: medium
-- mitre: T1530, T1537
-- description: ExportTableToPointInTime: a full copy of a table written to an S3 bucket, which
--   may be in another account (s3BucketOwner). One call moves the whole table.
-- false_positives: analytics exports on a schedule (same bucket every time)
WITH ev AS (
  SELECT eventtime, eventid, source_uri, account, region,
         actor(useridentity) AS actor, useridentity.arn AS actor_arn,
         json_get_str(requestparameters, 'tableArn') AS tbl,
         json_get_str(requestparameters, 's3Bucket') AS bucket,
         json_get_str(requestparameters, 's3BucketOwner') AS owner
  FROM cloudtrail
  WHERE eventsource = 'dynamodb.amazonaws.com' AND eventname = 'ExportTableToPointInTime' AND errorcode IS NULL
)
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, region, actor, actor_arn,
       count(*) AS event_count, array_agg(eventid ORDER BY eventtime, eventid) AS eventids,
       array_sort(array_distinct(array_agg(source_uri))) AS source_uris,
       concat(actor, ' exported table ', tbl, ' to bucket ', coalesce(bucket, '?'),
              CASE WHEN owner IS NOT NULL AND owner <> account THEN concat(' owned by another account, ', owner) ELSE '' END) AS summary
FROM ev
GROUP BY account, region, actor, actor_arn, tbl, bucket, owner
