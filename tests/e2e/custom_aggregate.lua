-- The custom_aggregate script on the seed data, end to end.
dofile("scripts/custom_aggregate.lua")
