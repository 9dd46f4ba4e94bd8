-- GET /tasks/live (the web console) asks every half second for the tasks changed since
-- a moment ago: without this index each look reads the whole table. It costs the
-- projector an index entry per task update (updated_at moves with each event).
create index tasks_updated on tasks (updated_at);
