-- Applied by infra/services-up.sh as the cluster's superuser once the gateway has migrated (idempotent). Variables:
-- prefix. The audit table and its trigger function go to <prefix>_audit, a role nobody logs in as: the gateway keeps
-- INSERT and SELECT, and cannot update, delete, truncate, alter, disable the trigger of, or drop the log.
\set ON_ERROR_STOP on

SELECT format('ALTER TABLE gateway.audit_log OWNER TO %I', :'prefix' || '_audit')
WHERE to_regclass('gateway.audit_log') IS NOT NULL \gexec
SELECT format('ALTER FUNCTION gateway.audit_log_append_only() OWNER TO %I', :'prefix' || '_audit')
WHERE to_regprocedure('gateway.audit_log_append_only()') IS NOT NULL \gexec
SELECT format('REVOKE ALL ON gateway.audit_log FROM %I', :'prefix' || '_gateway')
WHERE to_regclass('gateway.audit_log') IS NOT NULL \gexec
SELECT format('GRANT SELECT, INSERT ON gateway.audit_log TO %I', :'prefix' || '_gateway')
WHERE to_regclass('gateway.audit_log') IS NOT NULL \gexec
SELECT format('GRANT USAGE ON SEQUENCE %s TO %I', pg_get_serial_sequence('gateway.audit_log', 'Id'),
              :'prefix' || '_gateway')
WHERE to_regclass('gateway.audit_log') IS NOT NULL
  AND pg_get_serial_sequence('gateway.audit_log', 'Id') IS NOT NULL \gexec
