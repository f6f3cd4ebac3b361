-- Publishes a whole job on its hash's channel, its fields from ARGV[first]
-- on (messages: see redis/messages.rs), or only its revision when that
-- would pass 64 KB.
local function publish_job(hash, rev, first)
  local size = 0
  for i = first, #ARGV do size = size + #ARGV[i] end
  if size > 65536 then
    redis.call('PUBLISH', hash, cjson.encode({'r', rev}))
  else
    local msg = {'w', rev}
    for i = first, #ARGV do msg[#msg + 1] = ARGV[i] end
    redis.call('PUBLISH', hash, cjson.encode(msg))
  end
end
