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
        "register.unavailable" => (
            "Registration is not available in this version of the emulator. Log in with an existing user.",
            "Die Registrierung ist in dieser Version des Emulators nicht verfügbar. Melde dich mit einem bestehenden Benutzer an.",
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
        ] {
            assert!(!t(Lang::En, key).is_empty());
            assert!(!t(Lang::De, key).is_empty());
            assert_ne!(t(Lang::En, key), t(Lang::De, key));
        }
    }
}
