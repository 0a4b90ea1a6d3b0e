-- 谁用了我的数据 reads the audit entries of each of the applicant's cases. The object of such an
-- entry is `case:<number>` or a part of it (`case:<number>:…`); a prefix match on `object` can
-- use no index, so the case the entry is about gets a column of its own (derived from the
-- object, nothing to keep in step) and an index with the sequence number for paging.
ALTER TABLE audit_log ADD COLUMN case_ref TEXT GENERATED ALWAYS AS (
    CASE WHEN substr(object, 1, 5) = 'case:'
         THEN 'case:' || split_part(substr(object, 6), ':', 1)
    END
) STORED;
CREATE INDEX audit_log_case_ref ON audit_log (case_ref, seq);

-- Per-account upload quotas sum the files of an application not yet frozen by a submission.
CREATE INDEX uploads_unfrozen ON uploads (application_id, frozen_at);
