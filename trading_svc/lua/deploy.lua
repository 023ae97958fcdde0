-- Store a new strategy, already moved IDLE -> ANALYZING, with its first transition.
-- KEYS: [1] its hash, [2] its history, [3] all, [4] by state, [5] by name,
--       [6] by exchange, [7] by symbol, [8] the request id's key, [9] changes
-- ARGV: [1] id, [2] record, [3] version, [4] deploy ms, [5] transition,
--       [6] request id ('' for none), [7] request ttl s, [8] awaiting JSON,
--       [9] record field, [10] version field, [11] awaiting field,
--       [12] channel, [13] events maxlen, then event JSON strings to publish.
-- A request id seen before answers the strategy it made, creating nothing.
-- Returns the strategy id.
if ARGV[6] ~= '' then
  local made = redis.call('GET', KEYS[8])
  if made then return made end
  redis.call('SET', KEYS[8], ARGV[1], 'EX', tonumber(ARGV[7]))
end
if redis.call('EXISTS', KEYS[1]) == 1 then return '' end
redis.call('HSET', KEYS[1], ARGV[9], ARGV[2], ARGV[10], ARGV[3], ARGV[11], ARGV[8])
local score = tonumber(ARGV[4])
for i = 3, 7 do redis.call('ZADD', KEYS[i], score, ARGV[1]) end
redis.call('XADD', KEYS[2], '*', 'transition', ARGV[5])
redis.call('XADD', KEYS[9], 'MAXLEN', '~', tonumber(ARGV[13]), '*', 'strategy', ARGV[1], 'transition', ARGV[5])
for i = 14, #ARGV do redis.call('PUBLISH', ARGV[12], ARGV[i]) end
return ARGV[1]
