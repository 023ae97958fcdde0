-- Take over jobs whose holder has not renewed its lease for ARG[1] ms (it
-- died): at most ARG[2] of them. XCLAIM's min-idle check makes this
-- race-free against a holder renewing at the same moment. Each takeover is
-- recorded on the job (redelivery:<delivery> = holder|idle ms|time ms) for
-- the dead-letter history, and emitted as job_stalled (as BullMQ does), then
-- job_active.
--
-- A job about to get its last allowed delivery of its attempt (ARG[3]) may
-- be the one that keeps killing workers, so it is only taken when the caller
-- runs nothing (ARG[4] = '1'), and then alone: it can only take itself down,
-- never an innocent job beside it.
-- Returns jobs in fetch.lua's format (without the leading status).
ensure_groups()
local min_idle, want, max_deliveries, idle_caller = tonumber(ARG[1]), tonumber(ARG[2]), tonumber(ARG[3]), ARG[4] == '1'
local out = {}

local function take(lane, entry_id, holder, idle)
  local got = redis.call('XCLAIM', LANE_KEYS[lane], WORKER_GROUP, CONSUMER, min_idle, entry_id)
  if not (got[1] and got[1][2]) then return false end
  local id = got[1][2][2]
  local jk = JOB_PREFIX .. id
  local h = redis.call('HMGET', jk, F.envelope, F.attempts_made, F.series_start, F.deliveries,
    F.attempt_deliveries)
  if not h[1] then
    retire(lane, entry_id)
    return false
  end
  local attempts = tonumber(h[2]) or 0
  local deliveries, attempt_deliveries = (tonumber(h[4]) or 0) + 1, (tonumber(h[5]) or 0) + 1
  redis.call('HSET', jk, F.started_at, NOW, F.deliveries, deliveries, F.attempt_deliveries, attempt_deliveries,
    F.worker, CONSUMER, F.redelivery_prefix .. deliveries, holder .. '|' .. idle .. '|' .. NOW)
  local n = #out
  out[n + 1], out[n + 2], out[n + 3], out[n + 4] = lane, entry_id, id, h[1]
  out[n + 5], out[n + 6], out[n + 7], out[n + 8] = attempts, tonumber(h[3]) or 0, deliveries, attempt_deliveries
  lifecycle('job_stalled', id, 'JOB_STATE_ACTIVE', attempts + 1, {reclaimedFrom = holder})
  lifecycle('job_active', id, 'JOB_STATE_ACTIVE', attempts + 1)
  return true
end

local last_chance = nil
for lane = 1, LANES do
  if want <= 0 then break end
  local stale = redis.call('XPENDING', LANE_KEYS[lane], WORKER_GROUP, 'IDLE', min_idle, '-', '+', want + 10)
  for _, p in ipairs(stale) do
    if want <= 0 then break end
    local entry_id, holder, idle = p[1], p[2], p[3]
    local entry = redis.call('XRANGE', LANE_KEYS[lane], entry_id, entry_id)
    local id = entry[1] and entry[1][2][2]
    local next_delivery = id and (count(JOB_PREFIX .. id, F.attempt_deliveries) + 1) or 0
    if next_delivery == max_deliveries and max_deliveries > 1 then
      if last_chance == nil then last_chance = {lane, entry_id, holder, idle} end
    elseif take(lane, entry_id, holder, idle) then
      want = want - 1
    end
  end
end
if #out == 0 and last_chance and idle_caller then
  take(last_chance[1], last_chance[2], last_chance[3], last_chance[4])
end
return out
