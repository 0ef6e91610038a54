-- The "Facho Deluxe v2" (Django + Celery) database schema, as its Django models and
-- migrations leave it on PostgreSQL: only the tables Facho's importer reads (issue 16).
-- Written by hand from the public models and migrations (see README.md next to this file):
-- our own DDL, not their code. Column names, nullability and unique constraints follow the
-- last migration of each app; indexes that do not change behaviour are left out.

CREATE TABLE django_migrations (
    id bigserial PRIMARY KEY,
    app varchar(255) NOT NULL,
    name varchar(255) NOT NULL,
    applied timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE marcas (                          -- brands/models.py
    id bigserial PRIMARY KEY,
    nombre varchar(255) NOT NULL UNIQUE,
    descripcion text NOT NULL
);

CREATE TABLE olt_models (                      -- olt_models/models.py
    id bigserial PRIMARY KEY,
    nombre varchar(100) NOT NULL UNIQUE,
    marca_id bigint NOT NULL REFERENCES marcas (id) ON DELETE CASCADE,
    descripcion text NOT NULL,
    activo boolean NOT NULL DEFAULT true,
    tipo_olt varchar(50),
    capacidad_puertos integer,
    capacidad_onus integer,
    slots_disponibles integer,
    version_firmware_minima varchar(50),
    comunidad_snmp_default varchar(50),
    puerto_snmp_default integer DEFAULT 161,
    url_documentacion varchar(200),
    url_manual_usuario varchar(200),
    notas_tecnicas text,
    soporte_tecnico_contacto varchar(255),
    fecha_lanzamiento date,
    fecha_fin_soporte date,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE olt (                             -- hosts/models.py (0003: modelo nullable)
    id bigserial PRIMARY KEY,
    abreviatura varchar(255) NOT NULL,         -- not unique
    marca_id bigint NOT NULL REFERENCES marcas (id) ON DELETE CASCADE,
    modelo_id bigint REFERENCES olt_models (id) ON DELETE SET NULL,
    ip_address varchar(255) NOT NULL,          -- not validated
    descripcion text NOT NULL,
    habilitar_olt boolean NOT NULL DEFAULT true,
    comunidad varchar(255) NOT NULL
);

CREATE TABLE oids (                            -- oids/models.py (0007: marca nullable)
    id bigserial PRIMARY KEY,
    nombre varchar(255) NOT NULL,
    oid varchar(255) NOT NULL,
    marca_id bigint REFERENCES marcas (id) ON DELETE CASCADE,
    modelo_id bigint REFERENCES olt_models (id) ON DELETE CASCADE,
    espacio varchar(20) NOT NULL DEFAULT 'descubrimiento',
    target_field varchar(50),
    keep_previous_value boolean NOT NULL DEFAULT false,
    format_mac boolean NOT NULL DEFAULT false
);

CREATE TABLE index_formulas (                  -- snmp_formulas/models.py (0004)
    id bigserial PRIMARY KEY,
    marca_id bigint REFERENCES marcas (id) ON DELETE CASCADE,
    modelo_id bigint REFERENCES olt_models (id) ON DELETE CASCADE,
    nombre varchar(255) NOT NULL,
    activo boolean NOT NULL DEFAULT true,
    calculation_mode varchar(20) NOT NULL DEFAULT 'linear',
    base_index bigint NOT NULL DEFAULT 0,
    step_slot integer NOT NULL DEFAULT 0,
    step_port integer NOT NULL DEFAULT 0,
    shift_slot_bits integer NOT NULL DEFAULT 0,
    shift_port_bits integer NOT NULL DEFAULT 0,
    mask_slot varchar(20),
    mask_port varchar(20),
    onu_offset integer NOT NULL DEFAULT 0,
    has_dot_notation boolean NOT NULL DEFAULT false,
    dot_is_onu_number boolean NOT NULL DEFAULT true,
    slot_max integer NOT NULL DEFAULT 64,
    port_max integer NOT NULL DEFAULT 64,
    onu_max integer NOT NULL DEFAULT 128,
    normalized_format varchar(50) NOT NULL DEFAULT '{slot}/{port}',
    descripcion text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    -- PostgreSQL treats NULLs as distinct: two (NULL, NULL) rows pass this constraint
    CONSTRAINT index_formulas_marca_id_modelo_id_uniq UNIQUE (marca_id, modelo_id),
    CONSTRAINT formula_generica_sin_marca_sin_modelo
        CHECK (marca_id IS NOT NULL OR (marca_id IS NULL AND modelo_id IS NULL))
);

CREATE TABLE snmp_executions (                 -- executions/models.py (0004: INTERRUPTED)
    id bigserial PRIMARY KEY,
    snmp_job_id bigint,                        -- FK added below (the tables refer to each other)
    job_host_id bigint,
    olt_id bigint REFERENCES olt (id) ON DELETE SET NULL,
    requested_by_id integer,
    celery_task_id varchar(255),
    worker_name varchar(255),
    attempt smallint NOT NULL DEFAULT 0 CHECK (attempt >= 0),
    status varchar(16) NOT NULL DEFAULT 'PENDING',
    started_at timestamptz,
    finished_at timestamptz,
    duration_ms integer CHECK (duration_ms >= 0),
    result_summary jsonb,
    raw_output jsonb,
    error_message text,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE snmp_jobs (                       -- snmp_jobs/models.py (0003)
    id bigserial PRIMARY KEY,
    nombre varchar(150) NOT NULL,              -- not unique
    descripcion text NOT NULL DEFAULT '',
    marca_id bigint NOT NULL REFERENCES marcas (id) ON DELETE RESTRICT,
    job_type varchar(20) NOT NULL DEFAULT 'descubrimiento',
    interval_raw varchar(16) NOT NULL DEFAULT '',
    interval_seconds integer CHECK (interval_seconds >= 0),
    cron_expr varchar(120),                    -- evaluated in UTC by the old dispatcher
    enabled boolean NOT NULL DEFAULT true,
    max_retries smallint NOT NULL DEFAULT 2 CHECK (max_retries >= 0),
    retry_delay_seconds integer NOT NULL DEFAULT 30 CHECK (retry_delay_seconds >= 0),
    next_run_at timestamptz,
    last_run_at timestamptz,
    run_options jsonb NOT NULL DEFAULT '{}',
    oid_id bigint NOT NULL REFERENCES oids (id) ON DELETE RESTRICT,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE snmp_job_hosts (
    id bigserial PRIMARY KEY,
    snmp_job_id bigint NOT NULL REFERENCES snmp_jobs (id) ON DELETE CASCADE,
    olt_id bigint NOT NULL REFERENCES olt (id) ON DELETE CASCADE,
    enabled boolean NOT NULL DEFAULT true,
    last_success_at timestamptz,
    last_failure_at timestamptz,
    consecutive_failures integer NOT NULL DEFAULT 0 CHECK (consecutive_failures >= 0),
    queue_name varchar(64),
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT snmp_job_hosts_snmp_job_id_olt_id_uniq UNIQUE (snmp_job_id, olt_id)
);

ALTER TABLE snmp_executions
    ADD FOREIGN KEY (snmp_job_id) REFERENCES snmp_jobs (id) ON DELETE SET NULL,
    ADD FOREIGN KEY (job_host_id) REFERENCES snmp_job_hosts (id) ON DELETE SET NULL;

CREATE TABLE onu_index_map (                   -- discovery/models.py
    id bigserial PRIMARY KEY,
    olt_id bigint NOT NULL REFERENCES olt (id) ON DELETE CASCADE,
    raw_index_key varchar(255) NOT NULL,
    slot integer,
    port integer,
    logical integer,
    normalized_id varchar(255) NOT NULL,
    marca_formula text,
    odf_hilo_id bigint,                        -- odf_management (not imported)
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT onu_index_map_olt_id_raw_index_key_uniq UNIQUE (olt_id, raw_index_key)
);

CREATE TABLE onu_state_lookup (                -- discovery 0004: unique (value, marca)
    id bigserial PRIMARY KEY,
    value smallint NOT NULL,
    label varchar(100) NOT NULL,
    description text,
    marca_id bigint REFERENCES marcas (id) ON DELETE CASCADE,
    CONSTRAINT onu_state_lookup_value_marca_id_uniq UNIQUE (value, marca_id)
);

CREATE TABLE onu_status (
    id bigserial PRIMARY KEY,
    onu_index_id bigint NOT NULL UNIQUE REFERENCES onu_index_map (id) ON DELETE CASCADE,
    olt_id bigint NOT NULL REFERENCES olt (id) ON DELETE CASCADE,
    last_seen_at timestamptz,
    last_state_value smallint,
    last_state_label varchar(50),
    presence varchar(20) NOT NULL DEFAULT 'ENABLED',
    consecutive_misses integer NOT NULL DEFAULT 0,
    last_change_execution_id bigint REFERENCES snmp_executions (id) ON DELETE SET NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE onu_inventory (                   -- discovery 0001 + 0003
    id bigserial PRIMARY KEY,
    onu_index_id bigint NOT NULL UNIQUE REFERENCES onu_index_map (id) ON DELETE CASCADE,
    olt_id bigint NOT NULL REFERENCES olt (id) ON DELETE CASCADE,
    serial_number varchar(255),
    mac_address varchar(64),
    subscriber_id varchar(255),
    snmp_description text,
    snmp_metadata jsonb NOT NULL DEFAULT '{}',
    plan_onu varchar(100),
    distancia_onu varchar(50),
    modelo_onu varchar(100),
    snmp_last_collected_at timestamptz,
    snmp_last_execution_id bigint REFERENCES snmp_executions (id) ON DELETE SET NULL,
    active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE configuracion_sistema (           -- configuracion_avanzada/models.py
    id bigserial PRIMARY KEY,
    nombre varchar(100) NOT NULL UNIQUE,
    descripcion text NOT NULL DEFAULT '',
    valor text NOT NULL DEFAULT '',
    tipo varchar(20) NOT NULL DEFAULT 'string',
    categoria varchar(50) NOT NULL DEFAULT 'general',
    activo boolean NOT NULL DEFAULT true,
    solo_lectura boolean NOT NULL DEFAULT false,
    fecha_creacion timestamptz NOT NULL DEFAULT now(),
    fecha_modificacion timestamptz NOT NULL DEFAULT now(),
    modificado_por_id integer
);

CREATE TABLE configuracion_snmp (
    id bigserial PRIMARY KEY,
    nombre varchar(100) NOT NULL UNIQUE,
    tipo_operacion varchar(20) NOT NULL DEFAULT 'general',
    timeout integer NOT NULL DEFAULT 5,
    reintentos smallint NOT NULL DEFAULT 0,
    comunidad varchar(50) NOT NULL DEFAULT 'public',
    version varchar(10) NOT NULL DEFAULT '2c',
    max_pollers_por_olt smallint NOT NULL DEFAULT 10,
    tamano_lote_inicial integer NOT NULL DEFAULT 200,
    tamano_subdivision smallint NOT NULL DEFAULT 50,
    max_reintentos_individuales smallint NOT NULL DEFAULT 3,
    delay_entre_reintentos smallint NOT NULL DEFAULT 1,
    max_consultas_snmp_simultaneas smallint NOT NULL DEFAULT 10,
    activo boolean NOT NULL DEFAULT true,
    fecha_creacion timestamptz NOT NULL DEFAULT now(),
    fecha_modificacion timestamptz NOT NULL DEFAULT now()
);

INSERT INTO django_migrations (app, name) VALUES
    ('brands', '0001_initial'), ('olt_models', '0002_add_sample_models'),
    ('hosts', '0003_alter_olt_modelo'), ('oids', '0007_marca_nullable_for_universal'),
    ('snmp_formulas', '0004_alter_indexformula_marca_and_more'),
    ('snmp_jobs', '0003_change_retry_delay_to_30s'),
    ('executions', '0004_add_interrupted_status'),
    ('discovery', '0004_fix_onu_state_lookup_unique'),
    ('configuracion_avanzada', '0002_alter_configuracionsnmp_options_and_more');
