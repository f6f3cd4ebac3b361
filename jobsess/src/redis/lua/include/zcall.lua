-- A sorted-set command on an owner's index. The index is a sorted set of
-- job keys scored by expiry (ms, `+inf` without a TTL); earlier releases
-- kept a plain set, which is turned into the sorted set the first time a
-- script touches it.
local function zcall(command, set, ...)
  local reply = redis.pcall(command, set, ...)
  if type(reply) == 'table' and reply.err then
    if redis.call('TYPE', set).ok ~= 'set' then error(reply.err) end
    local members = redis.call('SMEMBERS', set)
    redis.call('DEL', set)
    for _, m in ipairs(members) do redis.call('ZADD', set, '+inf', m) end
    reply = redis.call(command, set, ...)
  end
  return reply
end
