-- Keeps a job in its owner's index, scored by its expiry. With a TTL the
-- expiry moves. Without one, a job whose hash keeps its expiry (a field
-- write: `listed`) needs nothing, as its index entry already has that
-- score: the write that made the job put it there, and only a script that
-- deletes the hash takes it out. A whole write (DEL, HSET) drops the
-- hash's expiry, so it sets the score again. Needs: now, zcall, member.
local function renew(hash, set, ttl, listed)
  if ttl > 0 then
    local at = now() + ttl * 1000
    redis.call('PEXPIREAT', hash, at)
    zcall('ZADD', set, at, member(hash, set))
    redis.call('PEXPIRE', set, ttl * 1000)
  elseif not listed then
    zcall('ZADD', set, '+inf', member(hash, set))
  end
end
