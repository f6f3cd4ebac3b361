-- remove: removes a job.
-- KEYS[1] the job's hash, KEYS[2] its owner's index.
-- ARGV[1] the deadline.
-- Returns 1 if the job existed. A watched job publishes ["d"].
zcall('ZREM', KEYS[2], member(KEYS[1], KEYS[2]))
local watched_at = tonumber(redis.call('HGET', KEYS[1], WATCHED))
local removed = redis.call('DEL', KEYS[1])
if removed == 1 and watched(watched_at) then redis.call('PUBLISH', KEYS[1], cjson.encode({'d'})) end
return removed
