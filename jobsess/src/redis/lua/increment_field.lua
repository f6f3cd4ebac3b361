-- increment_field: adds to a whole-number field of an existing job, in one
-- atomic step.
-- KEYS[1] the job's hash, KEYS[2] its owner's index, given with a TTL only
-- (without one, a field write leaves the index as it is).
-- ARGV[1] the deadline, ARGV[2] the TTL in seconds (0: none), ARGV[3] the
-- field, ARGV[4] what to add, ARGV[5] and ARGV[6] the least and the
-- greatest sum the field's type holds, ARGV[7] what an absent field counts
-- as (empty: nothing), ARGV[8..] the field's alias keys.
-- Returns 0 (and writes nothing) if there is no such job; 2 (and writes
-- nothing) where the caller reads, adds and writes the field instead: a job
-- an earlier release wrote, a field stored under an alias, an absent field
-- that counts as nothing, a value that is no whole number of at most 15
-- digits or out of the type's range, a sum out of that range; else the new value's JSON text.
-- A watched job publishes ["f", rev, field, "1", json], as set_field does.
local held = redis.call('HMGET', KEYS[1], MARKER, WATCHED)
if not held[1] then
  -- no marker: no job, or one an earlier release wrote with none
  if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
  return 2
end
for i = 8, #ARGV do
  if redis.call('HEXISTS', KEYS[1], ARGV[i]) == 1 then return 2 end
end
local current = redis.call('HGET', KEYS[1], ARGV[3])
if not current then
  if ARGV[7] == '' then return 2 end
  current = ARGV[7]
end
-- Lua's numbers are exact up to 2^53: both terms have at most 15 digits
local whole = '^%-?%d+$'
if not string.match(current, whole) or #current > 16 then return 2 end
if not string.match(ARGV[4], whole) or #ARGV[4] > 16 then return 2 end
-- a stored value the type can't hold is the caller's to name, as is a sum
local low, high = tonumber(ARGV[5]), tonumber(ARGV[6])
local sum = tonumber(current) + tonumber(ARGV[4])
if tonumber(current) < low or tonumber(current) > high then return 2 end
if sum < low or sum > high then return 2 end
local value = string.format('%d', sum)
-- the revision goes up with the field, in the same HSET
local rev = tostring(tonumber(held[1]) + 1)
redis.call('HSET', KEYS[1], ARGV[3], value, MARKER, rev)
local ttl = tonumber(ARGV[2])
if ttl > 0 then
  renew(KEYS[1], KEYS[2], ttl, true)
end
if watched(tonumber(held[2])) then
  redis.call('PUBLISH', KEYS[1], cjson.encode({'f', rev, ARGV[3], '1', value}))
end
return value
