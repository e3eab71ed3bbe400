-- wrk -s bench/wrk/random-id.lua URL -- PREFIX FIRST COUNT [SUFFIX]
-- Requests PREFIX..id..SUFFIX for ids drawn uniformly from FIRST .. FIRST+COUNT-1 (a hot set of studies).
local prefix, first, count, suffix

function init(args)
  prefix, first, count, suffix = args[1], tonumber(args[2]), tonumber(args[3]), args[4] or ""
  math.randomseed(os.time() + math.floor(os.clock() * 1000000))
end

function request()
  return wrk.format("GET", prefix .. (first + math.random(0, count - 1)) .. suffix)
end
