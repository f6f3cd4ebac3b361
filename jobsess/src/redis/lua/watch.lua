-- watch: marks a job as watched, if it exists.
-- KEYS[1] the job's hash.
-- ARGV[1] for how long, in milliseconds from now.
-- Returns whether the job exists.
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], WATCHED, tostring(now() + tonumber(ARGV[1])))
return 1
