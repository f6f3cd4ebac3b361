-- The deadline check every full floor starts with (as jobsess's scripts
-- do): refuse a write past ARGV[1] (ms of the server's clock, or empty).
if ARGV[1] ~= '' then
  local t = redis.call('TIME')
  if t[1] * 1000 + math.floor(t[2] / 1000) > tonumber(ARGV[1]) then
    return redis.error_reply('LATE')
  end
end
