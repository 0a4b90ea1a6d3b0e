-- Answers to a correction notice (补正): which line of which round the applicant has answered,
-- a material or new document slot by a new file (`upload_id`, the file that replaced the old
-- ones, which are marked `replaced`), a form field by a new value (written into the
-- application's encrypted answers). Resubmission needs every line of the open round here.
CREATE TABLE correction_answers (
    case_id INTEGER NOT NULL,
    round INTEGER NOT NULL,
    target TEXT NOT NULL,
    answered_at INTEGER NOT NULL,
    upload_id INTEGER REFERENCES uploads (id),
    PRIMARY KEY (case_id, round, target),
    FOREIGN KEY (case_id, round) REFERENCES corrections (case_id, round)
);
