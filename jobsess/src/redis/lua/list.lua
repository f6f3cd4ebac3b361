-- list: the owner's job keys that have not expired, each followed by its
-- expiry (the index's entries, WITHSCORES), in order of expiry.
-- KEYS[1] the owner's index.
-- The first entry expires first: when it has expired, every expired entry
-- is dropped from the index before the index is read again; when it has
-- not, the index is read once (and the server's clock not at all if it
-- never expires, `inf`: no job has a TTL).
local listed = zcall('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
if #listed == 0 or listed[2] == 'inf' or tonumber(listed[2]) >= now() then
  return listed
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. now())
return redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
