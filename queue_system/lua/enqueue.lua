-- Add jobs. ARG[1] is one blob of records, each:
--   >H id length, B lane (1..4), I4 delay ms, I4 envelope length, H group key length,
--   B flags (1: supersede the group's waiting jobs); then id, group key, envelope
-- (one argument for the whole batch: packing thousands of small arguments
-- costs the client more than the add itself). ARG[2] is the add's receipt
-- token and ARG[3] how long to keep its receipt (ms).
-- A job id that exists already is not added again (de-duplication; event
-- job_duplicated). An add sent again with the same receipt token (its reply
-- was lost) changes nothing and answers what the first one did.
-- A job with a group key goes to its lane only when its group's slot is free,
-- else to the group's line (common.lua, "Groups"); with the supersede flag it
-- first supersedes the group's jobs that have not started.
-- Returns per job 1 (added) or 0 (duplicate: the first job stands).
local receipt = RECEIPTS .. ARG[2]
local seen = redis.call('GET', receipt)
if seen then
  local out = {}
  for i = 1, #seen do out[i] = tonumber(string.sub(seen, i, i)) end
  return out
end
ensure_groups()
-- job_added exactly as lifecycle() writes it, with less work per job: the end of its JSON
-- (state, worker) made once per state, and the event stream trimmed once per add (below)
local ADDED_TAIL = {}
for lane = 1, LANES do ADDED_TAIL[lane] = ',"state":"' .. READY_STATE[lane] .. '"' .. WORKER_TAIL end
local DELAYED_TAIL = ',"state":"' .. waiting_state(NORMAL_LANE, true) .. '"' .. WORKER_TAIL
local blob = ARG[1]
local out = {}
local readied = {}
for lane = 1, LANES do readied[lane] = 0 end
local pos = 1
while pos <= #blob do
  local id_len, lane, delay, env_len, group_len, flags, p = struct.unpack('>HBI4I4HB', blob, pos)
  local id = string.sub(blob, p, p + id_len - 1)
  p = p + id_len
  local g = group_len > 0 and string.sub(blob, p, p + group_len - 1)
  p = p + group_len
  local jk = JOB_PREFIX .. id
  if redis.call('EXISTS', jk) == 1 then
    out[#out + 1] = 0
    lifecycle('job_duplicated', id, 'JOB_STATE_UNSPECIFIED', 0)
  else
    if not g and delay == 0 then
      -- the common case, make_ready's work in fewer calls: the record written at once with
      -- its entry id, and the lanes' ready counts raised once per add (below)
      local entry_id = redis.call('XADD', LANE_KEYS[lane], '*', E.lane_job, id)
      redis.call('HSET', jk, F.envelope, string.sub(blob, p, p + env_len - 1), F.lane, lane, F.added_at, NOW,
        F.entry_id, entry_id)
      readied[lane] = readied[lane] + 1
    else
      if g and flags % 2 == 1 then supersede(g, id) end
      redis.call('HSET', jk, F.envelope, string.sub(blob, p, p + env_len - 1), F.lane, lane, F.added_at, NOW)
      if g then join_group(jk, g) end
      if delay > 0 then
        make_delayed(id, NOW + delay)
        if g then group_delay(id, g) end
      elseif g then
        group_admit(id, g, lane)
      else
        make_ready(id, lane)
      end
    end
    emit_json('job_added', LIFECYCLE_HEAD .. json_string(id) .. (delay > 0 and DELAYED_TAIL or ADDED_TAIL[lane]),
      LIFECYCLE_TYPE, true)
    out[#out + 1] = 1
  end
  pos = p + env_len
end
for lane = 1, LANES do
  if readied[lane] > 0 then redis.call('HINCRBY', KEY.ready, lane, readied[lane]) end
end
trim_events()
redis.call('SET', receipt, table.concat(out), 'PX', tonumber(ARG[3]))
return out
