//! "Request settings": what requests carry, to get past hot-link protection. Edited as
//! text (remembered between runs) and turned into [`Profiles`] for the engines.

use pixgrab_engine::{Cookie, Profiles, RefererPolicy};
use pixgrab_engine::{parse_header, split_scope};

use super::settings::Settings;

/// Turns the settings' text into profiles. Lines of `site_headers` read
/// `host = Name: value` (`Referer` becomes the host's Referer); blank lines and `#`
/// comments are skipped. Returns the profiles and one message per line not understood.
pub(crate) fn profiles(settings: &Settings, cookies: &[Cookie]) -> (Profiles, Vec<String>) {
    let mut profiles = Profiles {
        cookies: cookies.to_vec(),
        referer_policy: settings.referer_policy.parse().unwrap_or_default(),
        ..Profiles::default()
    };
    let ua = settings.user_agent.trim();
    if !ua.is_empty() {
        profiles.default.user_agent = Some(ua.to_string());
    }
    let mut problems = Vec::new();
    for (n, line) in settings.site_headers.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (Some(host), header) = split_scope(line) else {
            problems.push(format!("line {}: want \"host = Name: value\"", n + 1));
            continue;
        };
        match parse_header(header) {
            Ok(parsed) => profiles.hosts.entry(host).or_default().set_header(parsed),
            Err(e) => problems.push(format!("line {}: {e}", n + 1)),
        }
    }
    (profiles, problems)
}

/// The request settings as the engines have them: the cookies read from the cookies
/// file, the per-site header lines that could not be read, and what was last given to
/// the engines (so they are told only of changes).
#[derive(Default)]
pub(crate) struct Requests {
    /// Cookies loaded from the settings' cookies file.
    pub(crate) cookies: Vec<Cookie>,
    /// Cookies the browser extension sent with its pages (kept apart, so loading a
    /// cookies file does not drop them).
    browser: Vec<Cookie>,
    /// Lines of the per-site headers that could not be read.
    pub(crate) problems: Vec<String>,
    /// Changes to `cookies` so far (the engines are told of each).
    cookie_revision: u64,
    /// The settings last turned into profiles.
    applied: Option<(String, String, u64, String, bool)>,
}

impl Requests {
    /// Replaces the cookies (a cookies file was read).
    pub(crate) fn set_cookies(&mut self, cookies: Vec<Cookie>) {
        self.cookies = cookies;
        self.cookie_revision += 1;
    }

    /// Adds `cookies` (the browser's), each replacing one of the same domain, path and
    /// name.
    pub(crate) fn merge_cookies(&mut self, cookies: Vec<Cookie>) {
        for cookie in cookies {
            self.browser.retain(|c| !same_cookie(c, &cookie));
            self.browser.push(cookie);
        }
        self.cookie_revision += 1;
    }

    /// The cookies file's and the browser's, the browser's winning where both have one.
    pub(crate) fn all_cookies(&self) -> Vec<Cookie> {
        let mut all: Vec<Cookie> = self
            .cookies
            .iter()
            .filter(|c| !self.browser.iter().any(|b| same_cookie(b, c)))
            .cloned()
            .collect();
        all.extend(self.browser.iter().cloned());
        all
    }

    /// The request profiles of `settings`, when they changed since the last call.
    pub(crate) fn changed(&mut self, settings: &Settings) -> Option<Profiles> {
        let signature = (
            settings.user_agent.clone(),
            settings.site_headers.clone(),
            self.cookie_revision,
            settings.referer_policy.clone(),
            settings.allow_private,
        );
        if self.applied.as_ref() == Some(&signature) {
            return None;
        }
        let (profiles, problems) = profiles(settings, &self.all_cookies());
        self.problems = problems;
        self.applied = Some(signature);
        Some(profiles)
    }
}

/// One cookie replaces another of the same domain, path and name.
fn same_cookie(a: &Cookie, b: &Cookie) -> bool {
    a.domain == b.domain && a.path == b.path && a.name == b.name
}

/// What the request settings ask of the app.
pub(crate) enum RequestAction {
    /// Read the cookies file named in the settings.
    LoadCookies,
    /// Write (or, with `true`, remove) the browser host manifests.
    BrowserHost(bool),
}

/// Draws the request settings (collapsed by default).
pub(crate) fn requests_ui(
    ui: &mut egui::Ui,
    settings: &mut Settings,
    cookies: &[Cookie],
    problems: &[String],
) -> Option<RequestAction> {
    let mut action = None;
    egui::CollapsingHeader::new("Request settings (Referer, cookies, proxy)")
        .id_salt("request settings")
        .show(ui, |ui| {
            ui.horizontal(|ui| {
                let label = ui.label("User-Agent:");
                ui.add(
                    egui::TextEdit::singleline(&mut settings.user_agent)
                        .hint_text("Pixgrab's own")
                        .desired_width(ui.available_width()),
                )
                .labelled_by(label.id);
            });
            let label = ui.label("Per-site headers (host = Name: value):");
            ui.add(
                egui::TextEdit::multiline(&mut settings.site_headers)
                    .hint_text("example.com = Referer: https://example.com/gallery\nexample.com = X-Token: abc")
                    .desired_rows(3)
                    .desired_width(ui.available_width())
                    .code_editor(),
            )
            .labelled_by(label.id);
            for problem in problems {
                ui.colored_label(ui.visuals().error_fg_color, problem);
            }
            action = cookies_ui(ui, settings, cookies);
            connection_ui(ui, settings);
            if let Some(a) = browser_ui(ui) {
                action = Some(a);
            }
            ui.weak("Headers and cookies apply at once; a proxy applies to folders opened after.");
        });
    action
}

/// The cookies file field, its Load button, and what was loaded.
fn cookies_ui(
    ui: &mut egui::Ui,
    settings: &mut Settings,
    cookies: &[Cookie],
) -> Option<RequestAction> {
    let mut action = None;
    ui.horizontal(|ui| {
        let label = ui.label("Cookies file:");
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui
                .add_enabled(
                    !settings.cookies_path.trim().is_empty(),
                    egui::Button::new("Load cookies"),
                )
                .clicked()
            {
                action = Some(RequestAction::LoadCookies);
            }
            ui.add(
                egui::TextEdit::singleline(&mut settings.cookies_path)
                    .hint_text("cookies.txt (Netscape format)")
                    .desired_width(ui.available_width()),
            )
            .labelled_by(label.id);
        });
    });
    if !cookies.is_empty() {
        let domains: std::collections::BTreeSet<&str> =
            cookies.iter().map(|c| c.domain.as_str()).collect();
        ui.weak(format!(
            "{} cookies for {} sites; each goes only to its own site",
            cookies.len(),
            domains.len()
        ));
    }
    action
}

/// The browser extension's host: what `pixgrab install-browser-host` does, as buttons.
fn browser_ui(ui: &mut egui::Ui) -> Option<RequestAction> {
    let mut action = None;
    ui.horizontal(|ui| {
        ui.label("Browser extension:");
        if ui
            .button("Install browser host")
            .on_hover_text("Lets the Pixgrab extension in Chromium, Chrome, Brave, Edge and Firefox hand pages to this window")
            .clicked()
        {
            action = Some(RequestAction::BrowserHost(false));
        }
        if ui.button("Remove").clicked() {
            action = Some(RequestAction::BrowserHost(true));
        }
    });
    action
}

/// Proxy, Referer policy, the private-address rule and gallery-dl.
fn connection_ui(ui: &mut egui::Ui, settings: &mut Settings) {
    ui.horizontal(|ui| {
        let label = ui.label("Proxy:");
        ui.add(
            egui::TextEdit::singleline(&mut settings.proxy)
                .hint_text("http://host:port or socks5://host:port")
                .desired_width(ui.available_width()),
        )
        .labelled_by(label.id);
    });
    ui.horizontal(|ui| {
        let current: RefererPolicy = settings.referer_policy.parse().unwrap_or_default();
        egui::ComboBox::from_label("Referer policy")
            .selected_text(current.name())
            .show_ui(ui, |ui| {
                for policy in RefererPolicy::ALL {
                    if ui
                        .selectable_label(policy == current, policy.name())
                        .clicked()
                    {
                        settings.referer_policy = policy.name().to_string();
                    }
                }
            });
    });
    ui.checkbox(
        &mut settings.allow_private,
        "Let pages reach private addresses (LAN, localhost) when the page is not on one",
    );
    ui.horizontal(|ui| {
        ui.checkbox(&mut settings.use_gallery_dl, "Ask gallery-dl first")
            .on_hover_text(
                "gallery-dl (pip install gallery-dl) knows how 300+ sites list their images; \
                 \"Find images\" asks it first and reads the page itself when gallery-dl does not know the site. \
                 Applies to folders opened from now on.",
            );
        let label = ui.label("Program:");
        ui.add_enabled(
            settings.use_gallery_dl,
            egui::TextEdit::singleline(&mut settings.gallery_dl)
                .hint_text("gallery-dl on PATH")
                .desired_width(ui.available_width()),
        )
        .labelled_by(label.id);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn site_header_lines_become_host_profiles() {
        let settings = Settings {
            user_agent: "Mozilla/5.0".into(),
            site_headers: "# comment\nexample.com = Referer: https://example.com/g\nexample.com = X-Token: 1\nbad line\ncdn.net = Bad Name: x\n".into(),
            ..Settings::default()
        };
        let (profiles, problems) = profiles(&settings, &[]);
        assert_eq!(profiles.default.user_agent.as_deref(), Some("Mozilla/5.0"));
        let site = &profiles.hosts["example.com"];
        assert_eq!(site.referer.as_deref(), Some("https://example.com/g"));
        assert_eq!(site.headers, [("X-Token".to_string(), "1".to_string())]);
        assert_eq!(problems.len(), 2, "{problems:?}");
    }
}
