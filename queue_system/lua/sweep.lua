-- Remove ready (never delivered) jobs from one lane, a chunk at a time:
-- ARG[1] lane, [2] cursor (exclusive start id, '-' first), [3] chunk size,
-- [4] only entries added before this ms (0 = all), [5] removal cap (0 = none).
-- Only entries after the group's last delivered one are ready; delivered
-- entries (running, or acknowledged and not yet trimmed) are never touched.
-- A removed job that held its group's slot passes it on (its line's first job
-- joins the lane's end: a drain's next chunk removes it too, a clean's keeps it).
-- Returns {removed, next cursor or ''}, and the removed ids after them.
local lane, cursor, chunk = tonumber(ARG[1]), ARG[2], tonumber(ARG[3])
local before, cap = tonumber(ARG[4]), tonumber(ARG[5])
local key = LANE_KEYS[lane]
if redis.call('EXISTS', key) == 0 then return {0, ''} end
local delivered = last_delivered(key)
local function newer(a, b)  -- stream id a > b
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)-(%d+)$')
  am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)
  return am > bm or (am == bm and as > bs)
end
if cursor == '-' or not newer(cursor, delivered) then cursor = delivered end
local entries = redis.call('XRANGE', key, '(' .. cursor, '+', 'COUNT', chunk)
local removed, ids, last = 0, {}, ''
local leaving = {}  -- {id, group} of removed jobs of a group
for _, e in ipairs(entries) do
  local entry_id = e[1]
  last = entry_id
  local ms = tonumber(string.match(entry_id, '^(%d+)'))
  if before > 0 and ms >= before then last = ''; break end
  if cap > 0 and removed >= cap then last = ''; break end
  local id = e[2][2]
  local g = redis.call('HGET', JOB_PREFIX .. id, F.group)
  redis.call('XDEL', key, entry_id)
  redis.call('DEL', JOB_PREFIX .. id)
  if g then leaving[#leaving + 1] = {id, g} end
  removed = removed + 1
  ids[#ids + 1] = id
end
if removed > 0 then redis.call('HINCRBY', KEY.ready, lane, -removed) end
for _, left in ipairs(leaving) do group_leave(left[1], left[2]) end
if #entries < chunk then last = '' end
local out = {removed, last}
for _, id in ipairs(ids) do out[#out + 1] = id end
return out
