-- Least privilege in the platform's database, applied by infra/services-up.sh as the cluster's superuser before the
-- services start (idempotent). Variables: prefix (role names, "platform"), db, and pw_<service> for each service.
--
-- Each service logs in as a role of its own that owns its schemas (Training: training and registry) and has no right
-- on any other: no service can read another's tables, insert a key, or touch the audit log. The gateway's schema is
-- owned by <prefix>_audit (no login), in which the gateway may create what it migrates; infra/db/audit-lock.sql then
-- hands the audit table to <prefix>_audit once the gateway has migrated, leaving the gateway INSERT and SELECT only.
\set ON_ERROR_STOP on

CREATE TEMP TABLE service_schemas (schema_name text, service text);
INSERT INTO service_schemas VALUES ('gateway', 'gateway'), ('ingestion', 'ingestion'), ('tokenization', 'tokenization'),
  ('training', 'training'), ('registry', 'training'), ('evaluation', 'evaluation'), ('generation', 'generation');

SELECT format('CREATE ROLE %I LOGIN', :'prefix' || '_' || s)
FROM unnest(ARRAY['gateway', 'ingestion', 'tokenization', 'training', 'evaluation', 'generation']) s
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'prefix' || '_' || s) \gexec
SELECT format('CREATE ROLE %I NOLOGIN', :'prefix' || '_audit')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'prefix' || '_audit') \gexec

SELECT format('ALTER ROLE %I LOGIN PASSWORD %L', :'prefix' || '_gateway', :'pw_gateway') \gexec
SELECT format('ALTER ROLE %I LOGIN PASSWORD %L', :'prefix' || '_ingestion', :'pw_ingestion') \gexec
SELECT format('ALTER ROLE %I LOGIN PASSWORD %L', :'prefix' || '_tokenization', :'pw_tokenization') \gexec
SELECT format('ALTER ROLE %I LOGIN PASSWORD %L', :'prefix' || '_training', :'pw_training') \gexec
SELECT format('ALTER ROLE %I LOGIN PASSWORD %L', :'prefix' || '_evaluation', :'pw_evaluation') \gexec
SELECT format('ALTER ROLE %I LOGIN PASSWORD %L', :'prefix' || '_generation', :'pw_generation') \gexec

-- Only the services' roles (and the superuser) connect; nobody else creates anything in public.
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', :'db') \gexec
SELECT format('GRANT CONNECT ON DATABASE %I TO %I', :'db', :'prefix' || '_' || s)
FROM unnest(ARRAY['gateway', 'ingestion', 'tokenization', 'training', 'evaluation', 'generation']) s \gexec
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

-- The schemas, and whatever is already in them (an installation from before these roles): the service's own.
SELECT format('CREATE SCHEMA IF NOT EXISTS %I', schema_name) FROM service_schemas \gexec
SELECT format('ALTER SCHEMA %I OWNER TO %I', schema_name,
              :'prefix' || CASE WHEN schema_name = 'gateway' THEN '_audit' ELSE '_' || service END)
FROM service_schemas \gexec
SELECT format('GRANT USAGE, CREATE ON SCHEMA gateway TO %I', :'prefix' || '_gateway') \gexec
SELECT format('ALTER %s %I.%I OWNER TO %I', CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW'
                                                            WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END,
              n.nspname, c.relname, :'prefix' || '_' || m.service)
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN service_schemas m ON m.schema_name = n.nspname
WHERE c.relkind IN ('r', 'p', 'S', 'v', 'm')
  AND pg_get_userbyid(c.relowner) <> :'prefix' || '_' || m.service
  -- A table's own sequences (serial, identity) follow it.
  AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                                       AND d.objid = c.oid AND d.deptype IN ('a', 'i'))) \gexec
SELECT format('ALTER FUNCTION %s OWNER TO %I', p.oid::regprocedure, :'prefix' || '_' || m.service)
FROM pg_proc p
JOIN pg_namespace n ON n.oid = p.pronamespace
JOIN service_schemas m ON m.schema_name = n.nspname
WHERE pg_get_userbyid(p.proowner) <> :'prefix' || '_' || m.service \gexec
