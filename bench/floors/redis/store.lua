-- The least script of a whole write (the floor of jobsess's insert.lua):
-- replaces the job's hash and lists it, nothing else.
-- KEYS[1] the job's hash, KEYS[2] the owner's index.
-- ARGV[1] the index member, ARGV[2..] each field and its JSON.
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('ZADD', KEYS[2], '+inf', ARGV[1])
return 1
