-- An operator acted on the whole queue: ARG[1] = 'paused', 'resumed',
-- 'drained' or 'cleaned', [2] request id, [3] jobs affected (drain, clean).
-- Pausing sets the flag every worker checks on every fetch; each action
-- emits queue_<action>.
local action = ARG[1]
if action == 'paused' then
  redis.call('SET', KEY.paused, NOW)
elseif action == 'resumed' then
  redis.call('DEL', KEY.paused)
end
emit('queue_' .. action, {queue = QUEUE, requestId = ARG[2], affected = tonumber(ARG[3])}, CONTROL_TYPE)
return 1
