//! zitadel-emulator (work in progress).
