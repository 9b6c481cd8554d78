-- The areas a staff account looks after: ONS local authority district codes (E08000009 for
-- Trafford), space-separated, sorted. A moderator sees a resident's name and email only on
-- submissions whose place lies in one of them. Existing accounts start with none.
ALTER TABLE users ADD COLUMN areas TEXT NOT NULL DEFAULT '';
