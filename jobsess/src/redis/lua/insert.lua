-- insert: replaces a job.
-- KEYS[1] the job's hash, KEYS[2] its owner's index.
-- ARGV[1] the deadline (include/deadline.lua), ARGV[2] the TTL in seconds
-- (0: none), ARGV[3] the version of the new job (empty: not versioned),
-- ARGV[4..] its field/value pairs.
-- Returns 1 if the job existed, 0 if not, or minus the version of a newer
-- job, which it leaves as it was. A watched job publishes ["w", rev, ...].
local held = redis.call('HMGET', KEYS[1], MARKER, WATCHED, VERSION_KEY)
if ARGV[3] ~= '' then
  local found = tonumber(held[3])
  if found and found > tonumber(ARGV[3]) then return -found end
end
local rev = tostring((tonumber(held[1]) or 0) + 1)
local watched_at = tonumber(held[2])
local existed = redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], MARKER, rev, unpack(ARGV, 4))
renew(KEYS[1], KEYS[2], tonumber(ARGV[2]), false)
if watched(watched_at) then
  redis.call('HSET', KEYS[1], WATCHED, watched_at)
  publish_job(KEYS[1], rev, 4)
end
return existed
