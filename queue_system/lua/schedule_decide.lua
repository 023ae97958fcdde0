-- Decide the slots of a schedule up to one slot, if no other scheduler did first.
-- KEYS: [1] the schedule's hash, [2] its runs list
-- ARGV: [1] the cursor this scheduler read ('' when none), [2] the new cursor (ms of the newest slot
--       decided), [3] the counter field to add to, [4] how much, [5] runs kept, [6] the cursor field,
--       [7] the fired counter's field, [8] the last-fired field, [9] the last-fired-at field,
--       [10] now (ms), then run records to push (JSON, oldest first).
-- The cursor is compared first: a scheduler that read an older cursor than the one stored lost the
-- race for these slots (another replica decided them) and changes nothing. A fired slot is noted
-- as the last fired, with when: its jobs are owed until `sent` reaches it (schedule_sent.lua).
-- Returns 1 when decided, 0 when another scheduler had moved the cursor meanwhile.
local cursor = redis.call('HGET', KEYS[1], ARGV[6]) or ''
if cursor ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], ARGV[6], ARGV[2])
if tonumber(ARGV[4]) > 0 then redis.call('HINCRBY', KEYS[1], ARGV[3], tonumber(ARGV[4])) end
if ARGV[3] == ARGV[7] then redis.call('HSET', KEYS[1], ARGV[8], ARGV[2], ARGV[9], ARGV[10]) end
if #ARGV > 10 then
  for i = 11, #ARGV do redis.call('LPUSH', KEYS[2], ARGV[i]) end
  redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[5]) - 1)
end
return 1
