-- Finish jobs that succeeded. ARG[1] is one blob of records, each:
--   >B lane, B entry id length, H id length, B retention mode, I4 keep count,
--   I4 keep age ms, I4 run ms, I4 result length; then entry id, id, result
-- Only the consumer that holds a job may finish it; a job of a group passes
-- the group's slot on. Returns per job 1 (done) or 0 (not held by this
-- consumer any more: another worker took it over).
--
-- The per-job commands that need no answer in between run once per batch:
-- one XPENDING per lane tells which entries this consumer holds, one XACK per
-- lane retires them and one DEL drops the records kept for no one (each
-- command a script calls costs more than the work it does).
local blob = ARG[1]
local recs = {}
local by_lane = {}
local pos = 1
while pos <= #blob do
  local lane, sid_len, id_len, mode, keep, age, run_ms, res_len, p = struct.unpack('>BBHBI4I4I4I4', blob, pos)
  local r = {lane = lane, entry_id = string.sub(blob, p, p + sid_len - 1),
    id = string.sub(blob, p + sid_len, p + sid_len + id_len - 1),
    mode = mode, keep = keep, age = age, run_ms = run_ms, res_len = res_len}
  p = p + sid_len + id_len
  r.res_pos = p
  recs[#recs + 1] = r
  local ids = by_lane[lane]
  if not ids then ids = {} by_lane[lane] = ids end
  ids[#ids + 1] = r.entry_id
  pos = p + res_len
end

-- Entry ids of each lane this consumer holds among the batch's (one XPENDING
-- over the batch's id range, this consumer's entries only).
local function id_parts(s)
  local ms, seq = string.match(s, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end
local held = {}
for lane, ids in pairs(by_lane) do
  local lo_ms, lo_seq = id_parts(ids[1])
  local hi_ms, hi_seq = lo_ms, lo_seq
  local lo, hi = ids[1], ids[1]
  for i = 2, #ids do
    local ms, seq = id_parts(ids[i])
    if ms < lo_ms or (ms == lo_ms and seq < lo_seq) then lo, lo_ms, lo_seq = ids[i], ms, seq end
    if ms > hi_ms or (ms == hi_ms and seq > hi_seq) then hi, hi_ms, hi_seq = ids[i], ms, seq end
  end
  local mine = {}
  local start = lo
  while true do
    local page = redis.call('XPENDING', LANE_KEYS[lane], WORKER_GROUP, start, hi, 1000, CONSUMER)
    for _, e in ipairs(page) do mine[e[1]] = true end
    if #page < 1000 then break end
    start = '(' .. page[#page][1]
  end
  held[lane] = mine
end

local out = {}
local ack = {}
local drop = {}
for i, r in ipairs(recs) do
  local lane, entry_id, id = r.lane, r.entry_id, r.id
  if held[lane][entry_id] then
    held[lane][entry_id] = nil  -- (the same entry twice in a batch finishes once)
    local jk = JOB_PREFIX .. id
    local g = redis.call('HGET', jk, F.group)
    local acks = ack[lane]
    if not acks then acks = {} ack[lane] = acks end
    acks[#acks + 1] = entry_id
    if r.mode == 1 then
      drop[#drop + 1] = jk
    else
      redis.call('HSET', jk, F.finished_at, NOW, F.attempts_made, count(jk, F.attempts_made) + 1)
      redis.call('HDEL', jk, F.entry_id)
      if r.res_len > 0 then redis.call('HSET', jk, F.result, string.sub(blob, r.res_pos, r.res_pos + r.res_len - 1)) end
      retain(KEY.completed, id, r.mode, r.keep, r.age)
    end
    lifecycle('job_completed', id, 'JOB_STATE_COMPLETED', 0, ',"duration":"' .. duration_json(r.run_ms) .. '"')
    if g then group_leave(id, g) end
    out[i] = 1
  else
    out[i] = 0
  end
end
for i = 1, #drop, 1000 do
  redis.call('DEL', unpack(drop, i, math.min(#drop, i + 999)))
end
for lane, acks in pairs(ack) do
  for i = 1, #acks, 1000 do
    redis.call('XACK', LANE_KEYS[lane], WORKER_GROUP, unpack(acks, i, math.min(#acks, i + 999)))
  end
  trim(lane)
end
return out
