-- The official working calendar (issue #4): holidays (法定节假日) and adjusted working days
-- (调休上班), one row per day that differs from "Monday–Friday work, weekend rest".
-- day: 'YYYY-MM-DD' (sorts as text); kind: holiday | adjusted_workday; name: the festival;
-- source: where the row came from (file name of the import), for the record.
CREATE TABLE calendar_days (
    day TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('holiday', 'adjusted_workday')),
    name TEXT NOT NULL,
    source TEXT NOT NULL
);
