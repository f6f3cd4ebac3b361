-- update: replaces a job if it is still at the revision an update read.
-- KEYS[1] the job's hash, KEYS[2] its owner's index.
-- ARGV[1] the deadline, ARGV[2] the TTL in seconds (0: none), ARGV[3] the
-- revision read (empty for a job an earlier release wrote with no marker),
-- ARGV[4..] the new job's field/value pairs.
-- Returns 1 if it wrote, 0 (and writes nothing) if the job changed or is
-- gone. A watched job publishes ["w", rev, ...].
local held = redis.call('HMGET', KEYS[1], MARKER, WATCHED)
local rev = held[1]
if rev then
  if rev ~= ARGV[3] then return 0 end
elseif ARGV[3] ~= '' or redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
local watched_at = tonumber(held[2])
redis.call('DEL', KEYS[1])
local next = tostring((tonumber(rev) or 0) + 1)
redis.call('HSET', KEYS[1], MARKER, next, unpack(ARGV, 4))
renew(KEYS[1], KEYS[2], tonumber(ARGV[2]), false)
if watched(watched_at) then
  redis.call('HSET', KEYS[1], WATCHED, watched_at)
  publish_job(KEYS[1], next, 4)
end
return 1
