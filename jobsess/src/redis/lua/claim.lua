-- claim: the owner token claimed for a session.
-- KEYS[1] the claim.
-- ARGV[1] a fresh token, ARGV[2] how long the claim is kept, in seconds.
-- Returns the token already claimed, else ARGV[1], now claimed.
local current = redis.call('GET', KEYS[1])
if current then return current end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return ARGV[1]
