-- IAM and STS events: identities, policies, keys, and the credentials issued to sessions.
SELECT * FROM cloudtrail WHERE eventsource IN ('iam.amazonaws.com', 'sts.amazonaws.com')
