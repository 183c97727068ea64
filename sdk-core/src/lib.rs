//! ZITADEL self-service SDK core.
