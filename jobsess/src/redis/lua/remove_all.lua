-- remove_all: removes jobs of one owner.
-- KEYS[1] the owner's index, KEYS[2..] the jobs' hashes.
-- ARGV[1] the deadline, ARGV[2..] the jobs' keys (their index members).
-- Returns how many still existed. Every key it touches is in KEYS, and all
-- of one owner's keys share a hash slot. Each watched job publishes ["d"].
local removed = 0
for i = 2, #KEYS do
  local watched_at = tonumber(redis.call('HGET', KEYS[i], WATCHED))
  if redis.call('DEL', KEYS[i]) == 1 then
    removed = removed + 1
    if watched(watched_at) then redis.call('PUBLISH', KEYS[i], cjson.encode({'d'})) end
  end
end
-- in steps: Lua's unpack takes at most a few thousand values at once
for i = 2, #ARGV, 1000 do
  zcall('ZREM', KEYS[1], unpack(ARGV, i, math.min(i + 999, #ARGV)))
end
return removed
