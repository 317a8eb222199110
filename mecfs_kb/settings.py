"""Settings, all read from the environment (see README "Configuration").

Development defaults apply only when DEBUG is on; with DEBUG off the app refuses
to start without a real SECRET_KEY and ALLOWED_HOSTS.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from mecfs_kb.env import envbool, envemail, envfloat, envint, envlist, envnetworks, envurl

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = envbool("DEBUG", "0")

_DEV_SECRET_KEY = "dev-only-insecure-secret-key-never-use-in-production"
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. With DEBUG off the app needs a real secret key: "
            "set SECRET_KEY to a long random string (for example the output of "
            "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`), "
            "or set DEBUG=1 for local development."
        )
    SECRET_KEY = _DEV_SECRET_KEY
elif not DEBUG and (SECRET_KEY == _DEV_SECRET_KEY or len(SECRET_KEY) < 32):
    raise ImproperlyConfigured(
        "SECRET_KEY is too weak for DEBUG off: use at least 32 random characters, "
        "not the development key."
    )

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]" if DEBUG else "")
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "ALLOWED_HOSTS is not set. With DEBUG off, list the host names the site is "
        "served under, comma-separated (for example ALLOWED_HOSTS=kb.example.org)."
    )

INSTALLED_APPS = [
    # Django's admin, with the review queue and its counts (curation/admin_site.py).
    "mecfs_kb.apps.AdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "corsheaders",
    "django_filters",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "csp",
    "axes",
    # Background work (issue 14: the caches warmed after a publish, mecfs_kb/warm.py):
    # Django's task framework, backported (django-tasks), run by RQ workers with Redis.
    "django_tasks",
    *(["django_rq", "django_tasks_rq"] if os.environ.get("REDIS_URL") else []),
    # Ground floor first: curation ← findings ← treatments (each extends the one below).
    "curation",
    "findings",
    "treatments",
]

MIDDLEWARE = [
    # First of all: forwarded headers from anyone but our proxies are dropped before
    # anything reads the scheme or the client's address (mecfs_kb/forwarded.py).
    "mecfs_kb.forwarded.ForwardedHeadersMiddleware",
    # Every write of the request (sessions too) pins it to the primary.
    "mecfs_kb.db_router.PrimaryPinMiddleware",
    # Compresses what readers get (never a page with a CSRF token or for a session:
    # BREACH, mecfs_kb/compression.py); outside the response cache, which keeps bodies
    # as they are and serves every Accept-Encoding from one copy.
    "mecfs_kb.compression.PublicGZipMiddleware",
    # Then readers' repeated questions are answered before anything else runs.
    "mecfs_kb.response_cache.PublicResponseCacheMiddleware",
    # X-Data-Version on public pages, feeds, exports and the API; inside the response
    # cache, so that a cached response keeps its header (mecfs_kb/data_version.py).
    "mecfs_kb.data_version.DataVersionMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Refuses logins while locked out (after AXES_FAILURE_LIMIT failures); keep it last.
    "axes.middleware.AxesMiddleware",
    # Innermost: turns "database unreachable" raised by a view into a 503 (mecfs_kb/faults.py).
    "mecfs_kb.faults.DatabaseUnavailableMiddleware",
]

AUTHENTICATION_BACKENDS = [
    # Counts failed logins and refuses them during the cool-off (django-axes).
    "mecfs_kb.auth.LockoutBackend",
    # Django's ModelBackend, with the permissions read in one query (mecfs_kb/auth.py).
    "mecfs_kb.auth.PermissionsBackend",
]

# bench/ only: an X-DB-Queries header on every response (mecfs_kb/querycount.py).
if envbool("BENCH_QUERY_COUNT", "0"):
    MIDDLEWARE.insert(0, "mecfs_kb.querycount.QueryCountMiddleware")

ROOT_URLCONF = "mecfs_kb.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                # {{ data_version }} in every page's footer, read only if shown.
                "curation.context_processors.data_version",
                # {{ text|gloss:glossary_terms }}: the glossary, read only if used.
                "findings.context_processors.glossary",
            ],
        },
    },
]

WSGI_APPLICATION = "mecfs_kb.wsgi.application"

# SQLite in a git-ignored file is the embedded default; production sets
# DATABASE_URL=postgres://... (psycopg 3).
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=envint("CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}

# Django's PostgreSQL backend with its health check ("SELECT 1" before a request's first
# query) made only after the connection sat idle (mecfs_kb/postgresql/base.py).
POSTGRESQL_ENGINE = "mecfs_kb.postgresql"
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["ENGINE"] = POSTGRESQL_ENGINE

# Read replicas (docs/deploy.md): REPLICA_DATABASE_URLS is a comma-separated list of
# database URLs. Reads go to a replica, writes and reads-after-write to the primary
# (mecfs_kb/db_router.py). Tests run every alias against the primary (MIRROR).
# PostgreSQL's JIT compiler costs more than it saves on short OLTP queries (it spent
# ~280 ms compiling a 20 ms query at 500k evidence items): off unless PG_JIT=1.
if DATABASES["default"]["ENGINE"].endswith("postgresql") and not envbool("PG_JIT", "0"):
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
# Prepared statements on PostgreSQL (docs/performance.md, "Prepared statements"): planning
# took 0.5-0.8 ms of each short read's 0.6-0.9 ms on the seed, every time. With the
# parameters sent apart from the query (server-side binding), the reads by key run
# ``with prepared():`` (curation/prepared.py) are prepared on their connection and planned
# once there; other statements are planned each time. PG_PREPARED_STATEMENTS=0 turns both
# off: for a pooler that cannot keep them (PgBouncer in transaction mode before 1.21, or
# without max_prepared_statements: docs/deploy.md).
PG_PREPARED_STATEMENTS = envbool("PG_PREPARED_STATEMENTS", "1")
if DATABASES["default"]["ENGINE"].endswith("postgresql") and PG_PREPARED_STATEMENTS:
    # prepare_threshold 0: what is asked to be prepared is prepared at its first run;
    # mecfs_kb/postgresql/base.py asks for nothing else.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        server_side_binding=True, prepare_threshold=0
    )
DATABASE_REPLICAS = []
for _number, _url in enumerate(envlist("REPLICA_DATABASE_URLS")):
    _alias = f"replica_{_number}"
    DATABASES[_alias] = dj_database_url.parse(
        _url, conn_max_age=envint("CONN_MAX_AGE", 60), conn_health_checks=True
    )
    if DATABASES[_alias]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES[_alias]["ENGINE"] = POSTGRESQL_ENGINE
    DATABASES[_alias]["TEST"] = {"MIRROR": "default"}
    DATABASES[_alias]["OPTIONS"] = dict(DATABASES["default"].get("OPTIONS", {}))
    DATABASE_REPLICAS.append(_alias)
DATABASE_ROUTERS = ["mecfs_kb.db_router.PrimaryReplicaRouter"] if DATABASE_REPLICAS else []
# How long a client that wrote keeps reading from the primary (replication lag).
REPLICA_PIN_SECONDS = envint("REPLICA_PIN_SECONDS", 5)

# Shared cache (docs/deploy.md): Redis when REDIS_URL is set, so that every app server
# sees one cache and one invalidation on publish (curation/cache.py). Without it, a
# per-process memory cache: fine for one process, stale across several.
REDIS_URL = os.environ.get("REDIS_URL", "")
CACHES = {
    "default": (
        {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "mecfs_kb"),
            # Fail open: with Redis unreachable every read is a miss and every write a
            # no-op (logged), so pages are computed, not refused.
            "OPTIONS": {
                "IGNORE_EXCEPTIONS": True,
                "SOCKET_CONNECT_TIMEOUT": 1,
                "SOCKET_TIMEOUT": 1,
            },
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True

# Public data changes only on publish: cached values and whole anonymous responses
# last until then (curation/cache.py, mecfs_kb/response_cache.py), at most this long.
# Off by default under DEBUG (tests and development always see fresh data) and without
# Redis (a publish would reach only one process's memory cache, not its siblings').
PUBLIC_CACHE_SECONDS = envint("PUBLIC_CACHE_SECONDS", 600 if REDIS_URL and not DEBUG else 0)
# After a publish the public caches are filled again in the background (issue 14,
# mecfs_kb/warm.py) rather than by the first readers: the home page, the list pages,
# the therapy exports and the CSV of each most-connected abnormality. Off with the
# cache (nothing to fill). The pages are asked for under SITE_URL, the address readers
# use (the response cache keeps a page per scheme and host): by default the first of
# ALLOWED_HOSTS; set it when that is a wildcard or not the public name.
_SITE_URL_DEFAULT = (
    ""
    if not ALLOWED_HOSTS or ALLOWED_HOSTS[0].startswith((".", "*"))
    else f"{'https' if envbool('HTTPS', '0' if DEBUG else '1') else 'http'}://{ALLOWED_HOSTS[0]}"
)
# Empty: no address to ask under; the warm then fills only the per-publish data caches.
SITE_URL = (
    envurl("SITE_URL", _SITE_URL_DEFAULT) if os.environ.get("SITE_URL") or _SITE_URL_DEFAULT else ""
)
PUBLIC_CACHE_WARM_TASK = os.environ.get("PUBLIC_CACHE_WARM_TASK", "mecfs_kb.warm.public_cache_warm")

# Background tasks (Django's task framework, the django-tasks backport). With Redis, RQ:
# a publish puts a job on Redis and returns; `manage.py rqworker --job-class
# django_tasks_rq.Job default` runs it (docs/deploy.md). Without Redis (`make run`) the
# cache is off and nothing is queued; TASKS_BACKEND=immediate runs tasks in the calling
# process (after the commit), TASKS_BACKEND=dummy only records them (tests).
_TASK_BACKENDS = {
    "rq": "django_tasks_rq.RQBackend",
    "immediate": "django_tasks.backends.immediate.ImmediateBackend",
    "dummy": "django_tasks.backends.dummy.DummyBackend",
}
_task_backend = os.environ.get("TASKS_BACKEND", "rq" if REDIS_URL else "immediate")
if _task_backend not in _TASK_BACKENDS or (_task_backend == "rq" and not REDIS_URL):
    raise ImproperlyConfigured(
        f"TASKS_BACKEND must be one of {', '.join(_TASK_BACKENDS)} (rq needs REDIS_URL); "
        f"got {_task_backend!r}"
    )
TASKS = {"default": {"BACKEND": _TASK_BACKENDS[_task_backend], "QUEUES": ["default"]}}
if REDIS_URL:
    # django-rq's queues (the RQ backend's queue names must be listed here too). A warm
    # took about a minute at 500,000 evidence items on a loaded machine; RQ ends a job
    # running longer than DEFAULT_TIMEOUT.
    RQ_QUEUES = {"default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 600}}

# Whole anonymous responses too (mecfs_kb/response_cache.py); bench/ turns this off to
# measure what a request costs when its URL was not asked for since the last publish.
PUBLIC_RESPONSE_CACHE = envbool("PUBLIC_RESPONSE_CACHE", "1")
# How long readers' browsers may keep a public page before revalidating it.
PUBLIC_HTTP_MAX_AGE = envint("PUBLIC_HTTP_MAX_AGE", 60)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# treatments.PairCertainty's covering index names INCLUDE columns, which PostgreSQL (the
# production database) stores and SQLite ignores: on SQLite the index keeps its key
# columns and still serves the same queries. Django warns of that on every command
# (models.W040), which a new user of `make run` would read as something gone wrong.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

# The one login on this site is the admin's: the "Log in" link after a new curator sets
# their password (PasswordResetCompleteView) points here, not at /accounts/login/ (404).
LOGIN_URL = "admin:login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

# --- REST API (/api/v1/) ------------------------------------------------------

API_DESCRIPTION = """
Sourced claims linking immune abnormalities reported in ME/CFS to the therapies proposed
for them. **Not medical advice.**

**Reading** needs no account. Anonymous clients see published records only and are
throttled (429 with `Retry-After`). Lists are paginated (`results`, `next`, `previous`,
`count`, `data_version`; `page`, `page_size` up to 100). Filters are query parameters;
`q` searches and `sort` orders (several keys, comma-separated or repeated; `-` before a
key for most first: `sort=-evidence` is the strongest evidence first). An unknown query
parameter, or a value out of its bounds, is a 400 naming it.

Therapies tied to low NK cell cytotoxicity by evidence of level B or better (A or B):
`GET /api/v1/therapies/?abnormality=low-nk-cell-cytotoxicity&level=B`

**Evidence levels**: A replicated, B controlled, C uncontrolled clinical, D preclinical or
indirect, E opinion. `level=B` means "B or better".

**Writing** needs a token (`Authorization: Token <key>`, or `Bearer <key>`) of a user in
the Curators or Editors group; a bad token, on reads too, is a 401. POST creates a
*draft* evidence item, finding, harm or source; PATCH edits a draft or rejected one (a
rejected one becomes a draft again). Status is never written through
the API: publishing belongs to editors' review. Editing a submitted or retracted record
answers 409. A PATCH of a published record changes nothing readers see: it answers 202
with a *suggestion* (`Location: /api/v1/suggestions/<id>/`), which another editor accepts
or rejects; `POST /api/v1/suggestions/` makes one too. Therapy and abnormality are given
by slug, sources by id. A token user with view permission also reads drafts (see each
record's `status`).

**Data version**: each publish, accepted change or retraction moves the knowledge base to
a new data version. Every response carries it in `X-Data-Version`, every list also as
`data_version`. `GET /api/v1/changes/?since=N` lists what changed after version N (what
was added, revised and retracted, newest first).

**Caching**: every read carries an `ETag`; send it back in `If-None-Match` for a
`304 Not Modified`. Cross-origin GET is allowed (CORS).

**Errors**: every error (4xx and 5xx) has the same JSON body: `status`, `code`, `detail`
and `errors` (for 400, each parameter or field at fault with its messages).
"""

REST_FRAMEWORK = {
    # Apps authenticate with a token (`Authorization: Token <key>`, or `Bearer <key>` as
    # generated clients send it; keys made with `manage.py drf_create_token <username>`);
    # no cookies, so no CSRF to get wrong. Any other scheme or a bad key is a 401.
    "DEFAULT_AUTHENTICATION_CLASSES": ["curation.rest.TokenAuthentication"],
    # DRF's DjangoModelPermissionsOrAnonReadOnly, without building the queryset on reads.
    "DEFAULT_PERMISSION_CLASSES": ["curation.rest.ModelPermissionsOrAnonReadOnly"],
    # django-filter's, keeping the FilterSet for the list's tombstones (curation/sync.py).
    "DEFAULT_FILTER_BACKENDS": ["curation.sync.FilterBackend"],
    # orjson: the same JSON as DRF's renderer, several times faster (mecfs_kb/renderers.py).
    "DEFAULT_RENDERER_CLASSES": ["mecfs_kb.renderers.ORJSONRenderer"],
    # DRF's JSON parser with nesting bounded (deep nesting was a 500).
    "DEFAULT_PARSER_CLASSES": ["curation.rest.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "curation.viewsets.ApiSchema",
    "DEFAULT_PAGINATION_CLASS": "curation.rest.Pagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "curation.rest.api_exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["curation.rest.AnonThrottle", "curation.rest.UserThrottle"],
    # Our throttles ask curation/clientip.py for the address; 0 makes any stock DRF
    # throttle added later use the connecting address too, never a client's X-Forwarded-For.
    "NUM_PROXIES": 0,
    # Per client address (anonymous) or per user (token), counted in the default cache.
    "DEFAULT_THROTTLE_RATES": {
        "anon": os.environ.get("API_THROTTLE_ANON", "120/minute"),
        "user": os.environ.get("API_THROTTLE_USER", "600/minute"),
    },
}

SPECTACULAR_SETTINGS = {
    "TITLE": "ME/CFS Immune Knowledge Base API",
    "DESCRIPTION": API_DESCRIPTION,
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # drf-spectacular's enum components, then filters naming them (curation/openapi.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "curation.openapi.postprocess_shared_enums",
        "curation.openapi.postprocess_security",
    ],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "LevelEnum": "findings.models.Level",
        "TherapyKindEnum": "treatments.models.TherapyKind",
        "SourceKindEnum": "findings.models.SourceKind",
        "ModerationStatusEnum": "curation.models.Status",
        "RegulatoryStatusEnum": "treatments.models.RegulatoryStatusKind",
        "NoticeKindEnum": "findings.models.NoticeKind",
        "LookupIdentifierKindEnum": "findings.lookup.api_views.IDENTIFIER_KINDS",
        "HarmKindEnum": "treatments.models.HarmKind",
        "SeverityEnum": "treatments.models.Severity",
        "ControlComparisonEnum": "treatments.models.ControlComparison",
        # Certainty ratings: shown, computed and overridden use one choice set each.
        "CertaintyEnum": "treatments.models.Certainty",
        "NetDirectionEnum": "treatments.models.NetDirection",
    },
}

# Data releases (treatments/releases.py, ``manage.py publish_release``): one directory per
# release, written once, served at /api/v1/releases/. Keep it on persistent storage.
RELEASES_ROOT = Path(os.environ.get("RELEASES_ROOT") or BASE_DIR / "releases")

# Apps anywhere may use the API from a browser. Writes need a token sent by the app
# (`Authorization`), never cookies (no CORS_ALLOW_CREDENTIALS), so another site cannot
# write on a visitor's behalf. If-None-Match revalidates a copy, If-Match keeps a write
# from overwriting someone else's (docs/api.md "HTTP"). Content-Disposition names a
# CSV download.
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOW_ALL_ORIGINS = True
CORS_ALLOW_METHODS = ["GET", "HEAD", "OPTIONS", "POST", "PATCH"]
CORS_ALLOW_HEADERS = ["accept", "authorization", "content-type", "if-match", "if-none-match"]
CORS_EXPOSE_HEADERS = ["ETag", "Location", "Retry-After", "X-Data-Version", "Content-Disposition"]

# --- Security (docs/security.md) ----------------------------------------------------

# HTTPS=1 (the default with DEBUG off) says the site is served over HTTPS: redirect
# plain HTTP, send HSTS, mark cookies Secure. HTTPS=0 is for a production-like server
# on 127.0.0.1 (make serve, bench/): `check --deploy` then warns, as it should.
HTTPS = envbool("HTTPS", "0" if DEBUG else "1")
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 31_536_000) if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS

# Reverse proxies (docs/deploy.md): the addresses or networks nginx connects from. Only
# requests that come from one of them have their X-Forwarded-For (the client's address,
# for API throttles and the login lockout: curation/clientip.py) and X-Forwarded-Proto
# (HTTPS) read; from anyone else those headers are dropped (mecfs_kb/forwarded.py).
# Addresses, not a count of hops: gunicorn's forwarded_allow_ips needs the same list
# (mecfs_kb/gunicorn_conf.py reads this variable), and a client that reaches an app
# server directly cannot pass itself off as a proxy. Empty: no proxy, headers ignored.
TRUSTED_PROXIES = envnetworks("TRUSTED_PROXIES")
if "TRUST_X_FORWARDED_PROTO" in os.environ:
    raise ImproperlyConfigured(
        "TRUST_X_FORWARDED_PROTO is replaced by TRUSTED_PROXIES: unset it and list the "
        "addresses your proxies connect from (for example TRUSTED_PROXIES=10.0.0.5). "
        "X-Forwarded-Proto and X-Forwarded-For are then read from those proxies only, "
        "which must set X-Forwarded-Proto and append to X-Forwarded-For (docs/deploy.md)."
    )
if TRUSTED_PROXIES:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# A strict Content-Security-Policy on every response, admin and API docs included:
# scripts and styles only from our own origin (static files), nothing inline, no eval,
# no plugins, no framing, forms post only to us. Templates never use inline <script>
# or style="" attributes; tests/test_security.py and tests/test_browser_admin.py check.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

# Admin login brute-force protection (django-axes): after AXES_FAILURE_LIMIT failed
# logins for one username from one address, further attempts are refused (HTTP 429)
# until AXES_COOLOFF_MINUTES have passed; a successful login resets the count.
AXES_FAILURE_LIMIT = envint("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=envint("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# The client's address as the API throttles see it, behind proxies too (curation/clientip.py):
# with every client sharing nginx's address, anyone could lock any username out.
AXES_CLIENT_IP_CALLABLE = "curation.clientip.client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "axes_lockout.html"

# Importing sources from BibTeX / RIS / PubMed / CSL-JSON files (findings/importing.py):
# the largest file accepted, and how long an uploaded file waits for the curator's choice
# between its preview and the drafts being created (then it is deleted).
SOURCE_IMPORT_MAX_MB = envint("SOURCE_IMPORT_MAX_MB", 10)
SOURCE_IMPORT_KEEP_MINUTES = envint("SOURCE_IMPORT_KEEP_MINUTES", 60)
for _name in ("SOURCE_IMPORT_MAX_MB", "SOURCE_IMPORT_KEEP_MINUTES"):
    if globals()[_name] < 1:
        raise ImproperlyConfigured(f"{_name} must be 1 or more; got {globals()[_name]}")

# Every change is kept in history with its reason in full (a reviewer's note, a reason
# for a revert): a text column, not simple-history's default of 100 characters, which
# cut long notes without a word.
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True
# Looking sources up by identifier (findings/lookup/, issue 11). Each service's base URL,
# so that a deployment can point at a mirror; the contact address goes in every request's
# User-Agent (and puts Crossref requests in its "polite pool"): lookups are refused until
# it is set. NCBI_API_KEY raises PubMed's rate limit from 3 to 10 requests a second.
# LOOKUP_TIMEOUT_SECONDS bounds a whole lookup (every service asked), so that a curator
# hears back within 5 seconds whatever the services do.
CROSSREF_API_URL = envurl("CROSSREF_API_URL", "https://api.crossref.org")
NCBI_EUTILS_URL = envurl("NCBI_EUTILS_URL", "https://eutils.ncbi.nlm.nih.gov/entrez/eutils")
EUROPEPMC_API_URL = envurl("EUROPEPMC_API_URL", "https://www.ebi.ac.uk/europepmc/webservices/rest")
CTGOV_API_URL = envurl("CTGOV_API_URL", "https://clinicaltrials.gov/api/v2")
NCBI_API_KEY = os.environ.get("NCBI_API_KEY", "").strip()
LOOKUP_CONTACT_EMAIL = envemail("LOOKUP_CONTACT_EMAIL")
LOOKUP_TIMEOUT_SECONDS = envfloat("LOOKUP_TIMEOUT_SECONDS", 4.5, minimum=0.5, maximum=5.0)
