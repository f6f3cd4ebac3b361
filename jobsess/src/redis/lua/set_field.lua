-- set_field: sets one field of an existing job.
-- KEYS[1] the job's hash, KEYS[2] its owner's index, given with a TTL only
-- (without one, a field write leaves the index as it is).
-- ARGV[1] the deadline, ARGV[2] the TTL in seconds (0: none), ARGV[3] the
-- field, ARGV[4] its JSON (empty: remove the field; a JSON text is never
-- empty), ARGV[5..] the alias keys to remove.
-- An update's write (EXPECTED, see include/expected_revision.lua) writes
-- only over the revision it read.
-- Returns 0 (and writes nothing) if there is no such job, 2 (and writes
-- nothing) if an update's job is at another revision, else 1. A
-- watched job publishes ["f", rev, field, "1" | "0", json, aliases...].
local held = redis.call('HMGET', KEYS[1], MARKER, WATCHED)
-- no marker: no job, or one an earlier release wrote with none
if not held[1] and redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if EXPECTED and held[1] ~= EXPECTED then return 2 end
if #ARGV > 4 then redis.call('HDEL', KEYS[1], unpack(ARGV, 5)) end
-- the revision goes up with the field, in the same HSET
local rev = tostring((tonumber(held[1]) or 0) + 1)
local value = ARGV[4]
if value ~= '' then
  redis.call('HSET', KEYS[1], ARGV[3], value, MARKER, rev)
else
  redis.call('HDEL', KEYS[1], ARGV[3])
  redis.call('HSET', KEYS[1], MARKER, rev)
end
local ttl = tonumber(ARGV[2])
if ttl > 0 then
  renew(KEYS[1], KEYS[2], ttl, true)
end
if watched(tonumber(held[2])) then
  local msg = {'f', rev, ARGV[3], value ~= '' and '1' or '0', value}
  for i = 5, #ARGV do msg[#msg + 1] = ARGV[i] end
  redis.call('PUBLISH', KEYS[1], cjson.encode(msg))
end
return 1
