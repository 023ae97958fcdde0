-- Count one state-changing call of a caller against its rate, shared by every process of the mesh
-- (queue_system/caller_rate.py): GCRA, the token bucket kept as one number, the bucket's
-- "theoretical arrival time" (TAT, µs on Redis's clock): `count` calls at once, refilled at
-- `count` per `period`. Redis's own clock, so the processes' clocks never disagree.
-- KEYS: [1] the caller's key. ARGV: [1] period (ms), [2] count.
-- Returns 0 when the call is admitted (and counted), else the µs until one would be.
local period = tonumber(ARGV[1]) * 1000
local interval = period / tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local wait = tat + interval - period - now
if wait > 0 then return math.ceil(wait) end
-- The key lives while the bucket is not full again: an idle caller leaves nothing behind
-- (at least 1 ms: at absurd rates the interval is below a double's precision at this magnitude).
local full_in = math.max(1, math.ceil((tat + interval - now) / 1000))
redis.call('SET', KEYS[1], string.format('%.3f', tat + interval), 'PX', full_in)
return 0
