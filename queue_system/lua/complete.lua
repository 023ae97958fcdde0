-- Finish jobs that succeeded. ARG[1] is one blob of records, each:
--   >B lane, B entry id length, H id length, B retention mode, I4 keep count,
--   I4 keep age ms, I4 run ms, I4 result length; then entry id, id, result
-- Only the consumer that holds a job may finish it; a job of a group passes
-- the group's slot on. Returns per job 1 (done) or 0 (not held by this
-- consumer any more: another worker took it over).
local blob = ARG[1]
local out = {}
local touched = {}
local pos = 1
while pos <= #blob do
  local lane, sid_len, id_len, mode, keep, age, run_ms, res_len, p = struct.unpack('>BBHBI4I4I4I4', blob, pos)
  local entry_id = string.sub(blob, p, p + sid_len - 1)
  local id = string.sub(blob, p + sid_len, p + sid_len + id_len - 1)
  p = p + sid_len + id_len
  if owned(lane, entry_id) then
    local jk = JOB_PREFIX .. id
    local g = redis.call('HGET', jk, F.group)
    retire(lane, entry_id)
    touched[lane] = true
    if mode ~= 1 then
      redis.call('HSET', jk, F.finished_at, NOW, F.attempts_made, count(jk, F.attempts_made) + 1)
      redis.call('HDEL', jk, F.entry_id)
      if res_len > 0 then redis.call('HSET', jk, F.result, string.sub(blob, p, p + res_len - 1)) end
    end
    retain(KEY.completed, id, mode, keep, age)
    lifecycle('job_completed', id, 'JOB_STATE_COMPLETED', 0, ',"duration":"' .. duration_json(run_ms) .. '"')
    if g then group_leave(id, g) end
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
  pos = p + res_len
end
for lane in pairs(touched) do trim(lane) end
return out
