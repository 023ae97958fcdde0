-- Take over jobs whose holder has not renewed its lease for ARGV[8] ms (it
-- died): at most ARGV[9] of them. XCLAIM's min-idle check makes this
-- race-free against a holder renewing at the same moment. Each takeover is
-- recorded on the job (r:<delivery> = holder|idle ms|time ms) for the
-- dead-letter history.
--
-- A job about to get its last allowed delivery (ARGV[10]) may be the one
-- that keeps killing workers, so it is only taken when the caller runs
-- nothing (ARGV[11] = '1'), and then alone: it can only take itself down,
-- never an innocent job beside it.
-- Returns jobs in fetch.lua's format (without the leading status).
ensure_groups()
local min_idle, want, max_dlv, idle_caller = tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10]), ARGV[11] == '1'
local out = {}

local function take(lane, sid, holder, idle)
  local got = redis.call('XCLAIM', LANE_KEYS[lane], GROUP, ME, min_idle, sid)
  if not (got[1] and got[1][2]) then return false end
  local id = got[1][2][2]
  local jk = JP .. id
  local h = redis.call('HMGET', jk, 'env', 'att', 'dlv')
  if not h[1] then
    retire(lane, sid)
    return false
  end
  local dlv = (tonumber(h[3]) or 0) + 1
  redis.call('HSET', jk, 'pon', NOW, 'dlv', dlv, 'r:' .. dlv, holder .. '|' .. idle .. '|' .. NOW)
  local n = #out
  out[n + 1], out[n + 2], out[n + 3], out[n + 4], out[n + 5], out[n + 6] =
    lane, sid, id, h[1], tonumber(h[2]) or 0, dlv
  lifecycle('job_active', id, 'JOB_STATE_ACTIVE', (tonumber(h[2]) or 0) + 1, {reclaimedFrom = holder})
  return true
end

local last_chance = nil
for lane = 1, 4 do
  if want <= 0 then break end
  local stale = redis.call('XPENDING', LANE_KEYS[lane], GROUP, 'IDLE', min_idle, '-', '+', want + 10)
  for _, p in ipairs(stale) do
    if want <= 0 then break end
    local sid, holder, idle = p[1], p[2], p[3]
    local entry = redis.call('XRANGE', LANE_KEYS[lane], sid, sid)
    local id = entry[1] and entry[1][2][2]
    local next_dlv = id and ((tonumber(redis.call('HGET', JP .. id, 'dlv')) or 0) + 1) or 0
    if next_dlv == max_dlv and max_dlv > 1 then
      if last_chance == nil then last_chance = {lane, sid, holder, idle} end
    elseif take(lane, sid, holder, idle) then
      want = want - 1
    end
  end
end
if #out == 0 and last_chance and idle_caller then
  take(last_chance[1], last_chance[2], last_chance[3], last_chance[4])
end
return out
