-- Remove jobs that wait in their group's line (due, not yet in a lane), a
-- chunk at a time, in line order: ARG[1] cursor (jobs kept before it; '0'
-- first), [2] chunk size, [3] only jobs added before this ms (0 = all),
-- [4] removal cap (0 = none). A group's slot holder and its delayed jobs are
-- not touched here (sweep.lua and prune.lua remove those).
-- Returns {removed, next cursor or ''}, and the removed ids after them.
local kept, chunk = tonumber(ARG[1]), tonumber(ARG[2])
local before, cap = tonumber(ARG[3]), tonumber(ARG[4])
local found = redis.call('ZRANGE', KEY.grouped, kept, kept + chunk - 1)
local ids, done = {}, #found < chunk
for _, id in ipairs(found) do
  if cap > 0 and #ids >= cap then done = true; break end
  local jk = JOB_PREFIX .. id
  local h = redis.call('HMGET', jk, F.group, F.added_at)
  if before == 0 or (tonumber(h[2]) or 0) < before then
    redis.call('ZREM', KEY.grouped, id)
    if h[1] then redis.call('ZREM', GROUP_PREFIX .. h[1], id) end
    redis.call('DEL', jk)
    ids[#ids + 1] = id
  else
    kept = kept + 1
  end
end
local out = {#ids, done and '' or tostring(kept)}
for _, id in ipairs(ids) do out[#out + 1] = id end
return out
