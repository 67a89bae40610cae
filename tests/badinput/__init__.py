"""Bad input and hostile use, by class. Each class of the security review (issue #13) has a test
named after it; the test failed on the code before its fix.

| class | where |
| --- | --- |
| cpu_amplification | test_cpu_amplification.py: a hostile 1000-character message costs a few normal questions |
| unlimited_endpoint | test_rate_limit_buckets.py: every public route has a budget (the `limits` library) |
| sync_redis_in_event_loop | test_rate_limit_buckets.py: a hung Redis never stalls other requests |
| unanswered_flood | test_unanswered_flood.py: the unanswered store is deduplicated and bounded |
| default_secret, short_token, login_bruteforce | test_credentials.py |
| action_server_credential, shared_ip_bucket | test_credentials.py, test_rate_limit_buckets.py: the action server's own credential, limited per conversation |
| idempotency_key_reuse, lead_overwrite, enrollment_number_sweep, phone_in_query_string | test_object_access.py |
| wechat_sender_outside_wechat | test_wechat_senders.py |
| wechat_replay | test_wechat_replay.py: a signed (timestamp, nonce) carries one body |
| rasa_api_without_token, not_ready | test_rasa_api.py, test_readiness.py |
| retention, log_masking | test_retention.py (make purge), test_log_masking.py, test_log_masking_actions.py |
| malformed requests of every kind | corpus.py + test_corpus.py, test_limits.py, test_schema_fuzz.py (schemathesis) |
"""
