-- Remove waiting (never started) jobs from one lane, a chunk at a time:
-- ARGV[8] lane, [9] cursor (exclusive start id, '-' first), [10] chunk size,
-- [11] only entries added before this ms (0 = all), [12] removal cap (0 = none).
-- Pending (running) entries are never touched.
-- Returns {removed, next cursor or ''}, and the removed ids after them.
local lane, cursor, chunk = tonumber(ARGV[8]), ARGV[9], tonumber(ARGV[10])
local before, cap = tonumber(ARGV[11]), tonumber(ARGV[12])
local key = LANE_KEYS[lane]
local start = cursor == '-' and '-' or '(' .. cursor
local entries = redis.call('XRANGE', key, start, '+', 'COUNT', chunk)
local removed, ids, last = 0, {}, ''
for _, e in ipairs(entries) do
  local sid = e[1]
  last = sid
  local ms = tonumber(string.match(sid, '^(%d+)'))
  if before > 0 and ms >= before then last = ''; break end
  if cap > 0 and removed >= cap then last = ''; break end
  local p = redis.pcall('XPENDING', key, GROUP, sid, sid, 1)
  if type(p) == 'table' and not p.err and not p[1] then
    redis.call('XDEL', key, sid)
    redis.call('DEL', JP .. e[2][2])
    removed = removed + 1
    ids[#ids + 1] = e[2][2]
  end
end
if #entries < chunk then last = '' end
local out = {removed, last}
for _, id in ipairs(ids) do out[#out + 1] = id end
return out
