-- The server's time in ms, read once per run, when first needed.
local now_ms
local function now()
  if not now_ms then
    local t = redis.call('TIME')
    now_ms = t[1] * 1000 + math.floor(t[2] / 1000)
  end
  return now_ms
end
