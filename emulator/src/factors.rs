//! The one check of a user's authentication factors and the lockout, for
//! the session API (`checks` of CreateSession/SetSession) and the hosted
//! login pages alike.
//!
//! - Password: a wrong one counts towards the lockout policy's
//!   `maxPasswordAttempts`; a right one resets that counter.
//! - TOTP, OTP email and OTP SMS codes share one counter that counts
//!   towards `maxOtpAttempts`; a right code resets it. Email and SMS codes
//!   are challenges on the session, single use and valid for
//!   [`OTP_CODE_LIFETIME`] seconds; TOTP codes are RFC 6238 (±1 step).
//! - Recovery codes are single use and not counted towards the lockout.
//!
//! A locked user passes no check; the check that reaches a limit locks the
//! user. What a caller shows for a [`Failure`] (error ids, page messages)
//! is its own business.

use crate::model::{Human, PendingCode, Session, State, User, UserKind, UserState};
use crate::util::{ct_eq, now, random_from, sha256_hex};

/// Lifetime of an OTP email or SMS code, in seconds.
pub(crate) const OTP_CODE_LIFETIME: i64 = 300;

/// A factor to check, with what the user entered.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Check<'a> {
    Password(&'a str),
    Totp(&'a str),
    Otp(OtpChannel, &'a str),
    RecoveryCode(&'a str),
}

/// How a one-time code (other than TOTP) reaches the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OtpChannel {
    Email,
    Sms,
}

impl OtpChannel {
    /// The session's pending code of this channel.
    fn challenge(self, session: &mut Session) -> &mut Option<PendingCode> {
        match self {
            Self::Email => &mut session.otp_email_challenge,
            Self::Sms => &mut session.otp_sms_challenge,
        }
    }

    /// When the session last passed a code of this channel.
    fn verified_at(self, session: &mut Session) -> &mut Option<i64> {
        match self {
            Self::Email => &mut session.otp_email_verified_at,
            Self::Sms => &mut session.otp_sms_verified_at,
        }
    }
}

/// Why a check failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    /// The session has no user, or the user no longer exists.
    UnknownUser,
    /// A machine user: no password, no second factor.
    NotHuman,
    /// The user was locked before the check; nothing was checked.
    /// `failed_attempts` is the counter of the checked factor's kind.
    Locked { failed_attempts: u32 },
    /// A wrong password or code, counted; `locked` when this failure
    /// reached the lockout limit and locked the user.
    Wrong { failed_attempts: u32, locked: bool },
    /// A wrong or spent recovery code (not counted).
    Rejected,
    /// TOTP is not set up, or not verified yet.
    NotReady,
    /// No email or SMS code was sent for this session.
    NoChallenge,
}

impl Failure {
    /// Whether the user is locked after this failure.
    pub(crate) fn locked(self) -> bool {
        matches!(self, Self::Locked { .. } | Self::Wrong { locked: true, .. })
    }
}

/// The two failed-attempt counters of the lockout policy.
#[derive(Debug, Clone, Copy)]
enum Counter {
    Password,
    Otp,
}

impl Counter {
    fn get(self, h: &Human) -> u32 {
        match self {
            Self::Password => h.password_failed_attempts,
            Self::Otp => h.otp_failed_attempts,
        }
    }

    fn of(self, h: &mut Human) -> &mut u32 {
        match self {
            Self::Password => &mut h.password_failed_attempts,
            Self::Otp => &mut h.otp_failed_attempts,
        }
    }
}

/// Creates a new email or SMS code (8 digits) on the session, replacing an
/// older one; returns the plain code for the outbox or the caller.
pub(crate) fn new_otp_challenge(session: &mut Session, channel: OtpChannel) -> String {
    let code = random_from(b"0123456789", 8);
    *channel.challenge(session) = Some(PendingCode {
        hash: sha256_hex(&code),
        expires: now() + OTP_CODE_LIFETIME,
    });
    code
}

impl State {
    /// Checks one factor of the session's user. On success the session
    /// records the factor (its `…_verified_at`; a code challenge is spent)
    /// and the factor's failed-attempt counter is reset; on a wrong
    /// password or code the counter goes up and may lock the user.
    pub(crate) fn verify_factor(
        &mut self,
        session: &mut Session,
        check: Check<'_>,
        t: i64,
    ) -> Result<(), Failure> {
        let uid = session.user_id.clone();
        match check {
            Check::Password(password) => {
                self.check_password(&uid, password)?;
                session.password_verified_at = Some(t);
            }
            Check::Totp(code) => {
                self.counted_check(&uid, Counter::Otp, |user| {
                    let totp = user
                        .human()
                        .and_then(|h| h.totp.as_ref())
                        .filter(|totp| totp.ready)
                        .ok_or(Failure::NotReady)?;
                    Ok(crate::totp::verify(&totp.secret, code, t))
                })?;
                session.totp_verified_at = Some(t);
            }
            Check::Otp(channel, code) => {
                let pending = channel.challenge(session).clone();
                self.counted_check(&uid, Counter::Otp, |_| {
                    let pending = pending.ok_or(Failure::NoChallenge)?;
                    Ok(pending.matches(code))
                })?;
                *channel.challenge(session) = None;
                *channel.verified_at(session) = Some(t);
            }
            Check::RecoveryCode(code) => {
                self.spend_recovery_code(&uid, code)?;
                session.recovery_code_verified_at = Some(t);
            }
        }
        Ok(())
    }

    /// [`State::verify_factor`] on a stored session (the hosted login's);
    /// a success also marks the session changed.
    pub(crate) fn verify_stored_factor(
        &mut self,
        session_id: &str,
        check: Check<'_>,
    ) -> Result<(), Failure> {
        let Some(mut session) = self.sessions.remove(session_id) else {
            return Err(Failure::UnknownUser);
        };
        let t = now();
        let result = self.verify_factor(&mut session, check, t);
        if result.is_ok() {
            session.changed = t;
        }
        self.sessions.insert(session_id.to_owned(), session);
        result
    }

    /// Checks a user's password (counted towards `maxPasswordAttempts`,
    /// reset on success), outside any session.
    pub(crate) fn check_password(&mut self, user_id: &str, password: &str) -> Result<(), Failure> {
        self.counted_check(user_id, Counter::Password, |user| {
            Ok(user.password_matches(password))
        })
    }

    /// Resets both failed-attempt counters (after an unlock).
    pub(crate) fn reset_failed_attempts(&mut self, user_id: &str) {
        if let Some(h) = self.human_mut(user_id) {
            h.password_failed_attempts = 0;
            h.otp_failed_attempts = 0;
        }
    }

    /// A check that counts towards the lockout: refuses a locked user,
    /// then runs `matches` (`Ok(false)`: wrong, counted; `Err`: not
    /// checkable, not counted).
    fn counted_check(
        &mut self,
        user_id: &str,
        counter: Counter,
        matches: impl FnOnce(&User) -> Result<bool, Failure>,
    ) -> Result<(), Failure> {
        let user = self.user(user_id).ok_or(Failure::UnknownUser)?;
        if user.state == UserState::Locked {
            let failed_attempts = user.human().map_or(0, |h| counter.get(h));
            return Err(Failure::Locked { failed_attempts });
        }
        if user.human().is_none() {
            return Err(Failure::NotHuman);
        }
        if matches(user)? {
            if let Some(h) = self.human_mut(user_id) {
                *counter.of(h) = 0;
            }
            return Ok(());
        }
        Err(self.record_failure(user_id, counter))
    }

    /// Counts a failed check; locks the user when the org's lockout policy
    /// limit of the counter is reached (0 = no limit).
    fn record_failure(&mut self, user_id: &str, counter: Counter) -> Failure {
        let org = self
            .user(user_id)
            .map(|u| u.org_id.clone())
            .unwrap_or_default();
        let (policy, _) = self.lockout_policy_of(&org);
        let max = match counter {
            Counter::Password => policy.max_password_attempts,
            Counter::Otp => policy.max_otp_attempts,
        };
        let Some(user) = self.users.iter_mut().find(|u| u.id == user_id) else {
            return Failure::UnknownUser;
        };
        let UserKind::Human(h) = &mut user.kind else {
            return Failure::NotHuman;
        };
        let attempts = counter.of(h);
        *attempts += 1;
        let failed_attempts = *attempts;
        let locked = max > 0 && u64::from(failed_attempts) >= max;
        if locked {
            user.state = UserState::Locked;
            user.changed = now();
        }
        Failure::Wrong {
            failed_attempts,
            locked,
        }
    }

    /// Spends a recovery code (single use, not counted towards the lockout;
    /// a locked user cannot use one).
    fn spend_recovery_code(&mut self, user_id: &str, code: &str) -> Result<(), Failure> {
        let user = self
            .users
            .iter_mut()
            .find(|u| u.id == user_id)
            .ok_or(Failure::UnknownUser)?;
        let locked = user.state == UserState::Locked;
        let UserKind::Human(h) = &mut user.kind else {
            return Err(Failure::NotHuman);
        };
        if locked {
            return Err(Failure::Locked {
                failed_attempts: h.otp_failed_attempts,
            });
        }
        let hash = sha256_hex(code.trim());
        let pos = h
            .recovery_codes
            .iter()
            .position(|c| ct_eq(c, &hash))
            .ok_or(Failure::Rejected)?;
        h.recovery_codes.remove(pos);
        Ok(())
    }

    fn human_mut(&mut self, user_id: &str) -> Option<&mut Human> {
        match self.users.iter_mut().find(|u| u.id == user_id)?.kind {
            UserKind::Human(ref mut h) => Some(h),
            UserKind::Machine(_) => None,
        }
    }
}
