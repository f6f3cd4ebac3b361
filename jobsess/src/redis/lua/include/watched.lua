-- Whether a job whose WATCHED field holds `watched_at` is being watched.
-- Needs: now.
local function watched(watched_at)
  return watched_at ~= nil and watched_at > now()
end
