-- 一件事 submitted together (一次提交): when the applicant submitted every part at once.
ALTER TABLE bundles ADD COLUMN submitted_at BIGINT;
