-- A whole write's whole work as the benches configure the store (the
-- floor of jobsess's insert.lua, less the version check and the watch
-- mark): after deadline.lua, the revision, the hash, the index entry.
-- KEYS[1] the job's hash, KEYS[2] the owner's index.
-- ARGV[1] the deadline, ARGV[2] the index member, ARGV[3..] the fields.
local rev = (tonumber(redis.call('HGET', KEYS[1], 'rev')) or 0) + 1
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'rev', rev, unpack(ARGV, 3))
redis.call('ZADD', KEYS[2], '+inf', ARGV[2])
return 1
