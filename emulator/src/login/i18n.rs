//! Translations of the hosted login pages (English and German).

/// A supported page language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lang {
    En,
    De,
}

impl Lang {
    pub(crate) fn code(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::De => "de",
        }
    }

    fn from_tag(tag: &str) -> Option<Self> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "en" => Some(Self::En),
            "de" => Some(Self::De),
            _ => None,
        }
    }

    /// Picks the language: the first supported `ui_locales` entry, then the
    /// first supported `Accept-Language` entry (by q-value), then English.
    pub(crate) fn choose(ui_locales: &[String], accept_language: Option<&str>) -> Self {
        if let Some(l) = ui_locales.iter().find_map(|t| Self::from_tag(t)) {
            return l;
        }
        if let Some(header) = accept_language {
            let mut tags: Vec<(f32, &str)> = header
                .split(',')
                .filter_map(|part| {
                    let mut it = part.split(';');
                    let tag = it.next()?.trim();
                    let q = it
                        .find_map(|p| p.trim().strip_prefix("q="))
                        .and_then(|q| q.parse::<f32>().ok())
                        .unwrap_or(1.0);
                    Some((q, tag))
                })
                .collect();
            tags.sort_by(|a, b| b.0.total_cmp(&a.0));
            if let Some(l) = tags.iter().find_map(|(_, t)| Self::from_tag(t)) {
                return l;
            }
        }
        Self::En
    }
}

/// Translates a message key.
pub(crate) fn t(lang: Lang, key: &str) -> &'static str {
    let (en, de) = match key {
        "login.title" => ("Welcome back!", "Willkommen zurück!"),
        "login.description" => ("Enter your login data.", "Gib deine Benutzerdaten ein."),
        "loginname.label" => ("Login name", "Loginname"),
        "next" => ("Next", "Weiter"),
        "back" => ("Back", "Zurück"),
        "password.title" => ("Password", "Passwort"),
        "password.description" => ("Enter your password.", "Gib dein Passwort ein."),
        "password.label" => ("Password", "Passwort"),
        "error.user_not_found" => (
            "User could not be found",
            "Benutzer konnte nicht gefunden werden",
        ),
        "error.password_invalid" => ("Password is invalid", "Passwort ist ungültig"),
        "error.user_inactive" => ("User is not active", "Benutzer ist nicht aktiv"),
        "error.user_locked" => ("User is locked", "Benutzer ist gesperrt"),
        "error.title" => ("Something went wrong", "Etwas ist schiefgelaufen"),
        "error.register_disabled" => (
            "Registration is not allowed.",
            "Registrierung ist nicht erlaubt.",
        ),
        "error.request_invalid" => (
            "The login request is invalid or has expired.",
            "Die Login-Anfrage ist ungültig oder abgelaufen.",
        ),
        "error.session" => (
            "The session is invalid. Please log in again.",
            "Die Session ist ungültig. Bitte melde dich erneut an.",
        ),
        "error.csrf" => (
            "The form has expired. Please reload the page and try again.",
            "Das Formular ist abgelaufen. Bitte lade die Seite neu und versuche es erneut.",
        ),
        "accounts.title" => ("Select account", "Konto auswählen"),
        "accounts.other" => ("Other user", "Anderer Benutzer"),
        "device.title" => ("Device code", "Gerätecode"),
        "device.description" => (
            "Enter the code shown on your device.",
            "Gib den Code ein, der auf deinem Gerät angezeigt wird.",
        ),
        "device.label" => ("Code", "Code"),
        "device.invalid" => (
            "The code is invalid or has expired.",
            "Der Code ist ungültig oder abgelaufen.",
        ),
        "device.consent" => (
            "wants to access your account. Do you allow it?",
            "möchte auf dein Konto zugreifen. Erlaubst du das?",
        ),
        "device.allow" => ("Allow", "Erlauben"),
        "device.deny" => ("Deny", "Ablehnen"),
        "device.approved" => (
            "The device has been signed in. You can close this window.",
            "Das Gerät wurde angemeldet. Du kannst dieses Fenster schliessen.",
        ),
        "device.denied" => (
            "The request has been denied.",
            "Die Anfrage wurde abgelehnt.",
        ),
        "logout.title" => ("Log out", "Abmelden"),
        "logout.description" => (
            "Choose the session to end.",
            "Wähle die Session, die beendet werden soll.",
        ),
        "logout.all" => ("Log out of all sessions", "Von allen Sessions abmelden"),
        "logout.none" => (
            "There are no active sessions.",
            "Es gibt keine aktiven Sessions.",
        ),
        "logout.done" => ("You have been logged out.", "Du wurdest abgemeldet."),
        "signedin" => ("You are signed in.", "Du bist angemeldet."),
        "register.link" => ("Register new user", "Neuen Benutzer registrieren"),
        "register.title" => ("Register", "Registrieren"),
        "register.description" => ("Create your account.", "Erstelle dein Konto."),
        "register.given_name" => ("Given name", "Vorname"),
        "register.family_name" => ("Family name", "Nachname"),
        "register.email" => ("Email", "E-Mail"),
        "register.password_confirm" => ("Confirm password", "Passwort bestätigen"),
        "register.accept" => ("I accept the", "Ich akzeptiere die"),
        "register.tos" => ("terms of service", "Nutzungsbedingungen"),
        "register.and" => ("and the", "und die"),
        "register.privacy" => ("privacy policy", "Datenschutzerklärung"),
        "register.rules" => ("The password must have:", "Das Passwort muss enthalten:"),
        "rule.length" => ("at least {n} characters", "mindestens {n} Zeichen"),
        "rule.upper" => ("an upper case letter", "einen Grossbuchstaben"),
        "rule.lower" => ("a lower case letter", "einen Kleinbuchstaben"),
        "rule.number" => ("a number", "eine Zahl"),
        "rule.symbol" => ("a symbol", "ein Sonderzeichen"),
        "error.required" => ("Please fill in all fields.", "Bitte fülle alle Felder aus."),
        "error.password_mismatch" => (
            "The passwords do not match.",
            "Die Passwörter stimmen nicht überein.",
        ),
        "error.terms" => (
            "Please accept the terms of service and the privacy policy.",
            "Bitte akzeptiere die Nutzungsbedingungen und die Datenschutzerklärung.",
        ),
        "error.email_invalid" => ("Email is invalid", "E-Mail ist ungültig"),
        "error.user_exists" => ("User already exists", "Benutzer existiert bereits"),
        "password.too_short" => ("Password is too short", "Passwort ist zu kurz"),
        "password.no_upper" => (
            "Password must contain an upper case letter",
            "Passwort muss einen Grossbuchstaben enthalten",
        ),
        "password.no_lower" => (
            "Password must contain a lower case letter",
            "Passwort muss einen Kleinbuchstaben enthalten",
        ),
        "password.no_number" => (
            "Password must contain a number",
            "Passwort muss eine Zahl enthalten",
        ),
        "password.no_symbol" => (
            "Password must contain a symbol",
            "Passwort muss ein Sonderzeichen enthalten",
        ),
        "verify.title" => ("Verify email", "E-Mail verifizieren"),
        "verify.description" => (
            "Enter the code we sent to your email address.",
            "Gib den Code ein, den wir an deine E-Mail-Adresse gesendet haben.",
        ),
        "verify.label" => ("Code", "Code"),
        "verify.resend" => ("Resend code", "Code erneut senden"),
        "verify.sent" => (
            "A new code has been sent.",
            "Ein neuer Code wurde gesendet.",
        ),
        "error.code_invalid" => ("Code is invalid", "Code ist ungültig"),
        "totp.title" => ("Verify 2-factor", "2-Faktor verifizieren"),
        "reset.link" => ("Reset password", "Passwort zurücksetzen"),
        "mfa.title" => (
            "Set up 2-factor authentication",
            "2-Faktor-Authentifizierung einrichten",
        ),
        "mfa.description" => (
            "Your organization requires a second factor. Add this key to your authenticator app, then enter the code it shows.",
            "Deine Organisation verlangt einen zweiten Faktor. Füge diesen Schlüssel deiner Authenticator-App hinzu und gib den angezeigten Code ein.",
        ),
        "mfa.description_optional" => (
            "Protect your account with a second factor. Add this key to your authenticator app, then enter the code it shows.",
            "Schütze dein Konto mit einem zweiten Faktor. Füge diesen Schlüssel deiner Authenticator-App hinzu und gib den angezeigten Code ein.",
        ),
        "mfa.skip" => ("Skip", "Überspringen"),
        "mfa.email" => (
            "Use codes by email instead",
            "Stattdessen Codes per E-Mail verwenden",
        ),
        "u2f.title" => ("Security key", "Sicherheitsschlüssel"),
        "u2f.description" => (
            "Verify your identity with your security key.",
            "Bestätige deine Identität mit deinem Sicherheitsschlüssel.",
        ),
        "u2f.start" => ("Use security key", "Sicherheitsschlüssel verwenden"),
        "u2f.set_description" => (
            "Register a security key: press the button, then touch your key.",
            "Registriere einen Sicherheitsschlüssel: Drücke die Schaltfläche und berühre dann deinen Schlüssel.",
        ),
        "u2f.create" => ("Register security key", "Sicherheitsschlüssel registrieren"),
        "passkey.title" => ("Passkey", "Passkey"),
        "passkey.description" => (
            "Sign in with a passkey on this device or on your security key.",
            "Melde dich mit einem Passkey auf diesem Gerät oder deinem Sicherheitsschlüssel an.",
        ),
        "passkey.start" => ("Sign in with a passkey", "Mit Passkey anmelden"),
        "passkey.set_description" => (
            "Create a passkey: you can then sign in without a password.",
            "Erstelle einen Passkey: Dann kannst du dich ohne Passwort anmelden.",
        ),
        "passkey.create" => ("Create passkey", "Passkey erstellen"),
        "mfa.u2f" => (
            "Use a security key instead",
            "Stattdessen einen Sicherheitsschlüssel verwenden",
        ),
        "mfa.passkey" => (
            "Use a passkey instead",
            "Stattdessen einen Passkey verwenden",
        ),
        "webauthn.failed" => (
            "The security key or passkey could not be verified. Try again.",
            "Der Sicherheitsschlüssel oder Passkey konnte nicht überprüft werden. Versuche es erneut.",
        ),
        "idp.choice_title" => ("Complete your sign-in", "Anmeldung abschließen"),
        "idp.choice_description" => (
            "No account is linked to this identity yet. Create a new account or link an existing one.",
            "Mit dieser Identität ist noch kein Konto verknüpft. Erstelle ein neues Konto oder verknüpfe ein bestehendes.",
        ),
        "idp.register_title" => ("Create a new account", "Neues Konto erstellen"),
        "idp.link_title" => ("Link an existing account", "Bestehendes Konto verknüpfen"),
        "idp.link_description" => (
            "Sign in with your existing account to link it to this identity.",
            "Melde dich mit deinem bestehenden Konto an, um es mit dieser Identität zu verknüpfen.",
        ),
        "idp.link_button" => ("Link account", "Konto verknüpfen"),
        "idp.link_failed" => (
            "Login name or password is invalid",
            "Loginname oder Passwort ist ungültig",
        ),
        "idp.already_linked" => (
            "This identity is already linked to an account.",
            "Diese Identität ist bereits mit einem Konto verknüpft.",
        ),
        "register.username" => ("Username", "Benutzername"),
        "idp.sign_in_with" => ("Sign in with", "Anmelden mit"),
        "idp.failed" => (
            "The login at the identity provider failed or was cancelled.",
            "Die Anmeldung beim Identity Provider ist fehlgeschlagen oder wurde abgebrochen.",
        ),
        "idp.not_linked" => (
            "No account is linked to this identity and registration is not allowed.",
            "Mit dieser Identität ist kein Konto verknüpft, und Registrierung ist nicht erlaubt.",
        ),
        "reset.title" => ("Set new password", "Neues Passwort setzen"),
        "reset.description" => (
            "Enter the code we sent to your email address and choose a new password.",
            "Gib den Code ein, den wir an deine E-Mail-Adresse gesendet haben, und wähle ein neues Passwort.",
        ),
        "otp_sms.description" => (
            "Enter the code we sent to your phone.",
            "Gib den Code ein, den wir an dein Telefon gesendet haben.",
        ),
        "otp_email.description" => (
            "Enter the code we sent to your email address.",
            "Gib den Code ein, den wir an deine E-Mail-Adresse gesendet haben.",
        ),
        "passkey_link.invalid" => (
            "The passkey registration link is invalid, used or expired.",
            "Der Link zur Passkey-Registrierung ist ungültig, bereits verwendet oder abgelaufen.",
        ),
        "passkey_link.done_title" => ("Passkey registered", "Passkey registriert"),
        "passkey_link.done" => (
            "Your passkey has been registered. You can now sign in with it.",
            "Dein Passkey wurde registriert. Du kannst dich jetzt damit anmelden.",
        ),
        "recovery.link" => (
            "Use a recovery code",
            "Einen Wiederherstellungscode verwenden",
        ),
        "recovery.title" => ("Recovery code", "Wiederherstellungscode"),
        "recovery.description" => (
            "Enter one of your recovery codes. Each code can be used only once.",
            "Gib einen deiner Wiederherstellungscodes ein. Jeder Code kann nur einmal verwendet werden.",
        ),
        "recovery.label" => ("Recovery code", "Wiederherstellungscode"),
        "totp.description" => (
            "Enter the code from your authenticator app.",
            "Gib den Code aus deiner Authenticator-App ein.",
        ),
        _ => ("", ""),
    };
    match lang {
        Lang::En => en,
        Lang::De => de,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ui_locales_win_over_accept_language() {
        assert_eq!(
            Lang::choose(&["de-CH".into(), "en".into()], Some("en")),
            Lang::De
        );
        assert_eq!(
            Lang::choose(&["fr".into()], Some("fr, de;q=0.8, en;q=0.5")),
            Lang::De
        );
        assert_eq!(Lang::choose(&[], Some("en;q=0.2, de;q=0.9")), Lang::De);
        assert_eq!(Lang::choose(&[], None), Lang::En);
    }

    #[test]
    fn every_key_is_translated() {
        for key in [
            "login.title",
            "password.label",
            "device.allow",
            "logout.done",
            "error.csrf",
            "u2f.description",
            "u2f.start",
            "u2f.set_description",
            "u2f.create",
            "passkey.description",
            "passkey.start",
            "passkey.set_description",
            "passkey.create",
            "mfa.u2f",
            "mfa.passkey",
            "webauthn.failed",
            "error.title",
            "back",
        ] {
            assert!(!t(Lang::En, key).is_empty());
            assert!(!t(Lang::De, key).is_empty());
            assert_ne!(t(Lang::En, key), t(Lang::De, key));
        }
    }
}
