"""The API plumbing every app's API runs through, free of any app: the error handler and its registry
(`errors`), pagination, strict serializers, and the OpenAPI shared answers, schema class and hooks (`schema`).

`settings.REST_FRAMEWORK` names the handler and the pagination here; an app's own service error that the
contract answers in its own way (dossiers' 409 `RulesFailed`) is registered from that app's `AppConfig.ready`.
"""
