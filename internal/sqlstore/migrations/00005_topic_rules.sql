-- Topic rules (CreateTopicRule and the rest). The actions are kept as the
-- client sent them: a JSON array of Action objects, and the error action as
-- one Action object ('' when the rule has none). topic_pattern is the FROM
-- clause's topic filter as the parser read it, indexed for ListTopicRules'
-- topic filter. Portable SQL, like 00001.

-- +goose Up
CREATE TABLE topic_rules (
    name          TEXT    NOT NULL PRIMARY KEY,
    sql_text      TEXT    NOT NULL,
    description   TEXT    NOT NULL DEFAULT '',
    actions       TEXT    NOT NULL DEFAULT '[]', -- JSON array of Action objects, verbatim
    error_action  TEXT    NOT NULL DEFAULT '',   -- JSON Action object, verbatim; '' for none
    rule_disabled BOOLEAN NOT NULL DEFAULT FALSE,
    sql_version   TEXT    NOT NULL,
    topic_pattern TEXT    NOT NULL,
    created_at    BIGINT  NOT NULL
);
CREATE INDEX topic_rules_by_topic ON topic_rules (topic_pattern, name);

-- +goose Down
DROP TABLE topic_rules;
