-- The STS action that issued a session ('sts:GetSessionToken', 'sts:Login',
-- 'sts:AssumeRole', ...). Credentials from GetSessionToken may call IAM only
-- when MFA was given (AWS-IAM-NOTES §7.5), and a login session (latchkey's
-- sign-in) is otherwise the same row. NULL for sessions issued before.
ALTER TABLE role_sessions ADD COLUMN issued_by TEXT COLLATE "C";
