-- 0002 dropped the default of tasks.origin_type along with its not-null constraint. The
-- projector writes every column explicitly (null only for a rejected submission), but a
-- row written by hand (tests, operators) should still default to "reported nowhere".
alter table tasks alter column origin_type set default 'none';
