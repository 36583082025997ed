-- The trends script on the seed data, end to end.
dofile("scripts/trends.lua")
