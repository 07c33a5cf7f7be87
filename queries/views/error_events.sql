-- Calls that failed: denied, throttled, invalid, or any other error code.
SELECT * FROM cloudtrail WHERE errorcode IS NOT NULL
