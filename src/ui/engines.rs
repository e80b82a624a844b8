//! The window's engines: one per output folder opened in this session, each with its
//! event channel. Knows which folder is being opened (and what waits for it), which
//! engine owns which item, and passes changed settings on. Sends commands only: the
//! engines' command threads do the blocking work.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crossbeam_channel::Receiver;
use pixgrab_engine::Command;
use pixgrab_engine::NameTemplate;
use pixgrab_engine::PrivateRule;
use pixgrab_engine::Profiles;
use pixgrab_engine::{Config, EngineHandle, Event, ItemId};
use url::Url;

use super::settings::Settings;

/// The limits a folder's engine runs with: (jobs, per host or `None` for adaptive,
/// interval ms, bytes/s).
pub(super) type Limits = (usize, Option<usize>, u64, u64);

/// One engine (one output folder, one library) and its event channel. Choosing another
/// folder starts another engine; the old one finishes its own items.
struct EngineSlot {
    handle: EngineHandle,
    events: Receiver<Event>,
    /// The folder as typed or picked.
    folder: String,
    /// The limits last applied.
    limits: Limits,
}

/// An engine being started on a worker thread, and URLs to queue once it runs.
struct Opening {
    folder: String,
    pending: Vec<Url>,
}

/// Every engine of this window, and the one being started.
#[derive(Default)]
pub(super) struct Engines {
    slots: Vec<EngineSlot>,
    opening: Option<Opening>,
    /// A page to read ("Find images") once the folder's engine runs.
    pub(super) find_after_open: Option<Url>,
}

impl Engines {
    /// The running engine of this folder, if any.
    pub(super) fn of_folder(&self, folder: &str) -> Option<usize> {
        let folder = folder.trim();
        self.slots.iter().position(|e| e.folder == folder)
    }

    /// The handle of engine number `slot`.
    pub(super) fn handle(&self, slot: usize) -> Option<&EngineHandle> {
        self.slots.get(slot).map(|s| &s.handle)
    }

    /// How many engines run.
    pub(super) fn len(&self) -> usize {
        self.slots.len()
    }

    /// True before the first engine runs.
    pub(super) fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Notes that `folder`'s engine is being started, with `urls` to queue once it
    /// runs. False (and the URLs wait with the start under way) when it is already
    /// being started.
    pub(super) fn begin_opening(&mut self, folder: &str, urls: Vec<Url>) -> bool {
        if let Some(opening) = &mut self.opening
            && opening.folder == folder
        {
            opening.pending.extend(urls);
            return false;
        }
        self.opening = Some(Opening {
            folder: folder.to_string(),
            pending: urls,
        });
        true
    }

    /// The URLs that waited for `folder`'s engine; ends its opening.
    pub(super) fn end_opening(&mut self, folder: &str) -> Vec<Url> {
        match self.opening.take() {
            Some(o) if o.folder == folder => o.pending,
            other => {
                self.opening = other;
                Vec::new()
            }
        }
    }

    /// Adds a started engine; returns its number.
    pub(super) fn push(
        &mut self,
        handle: EngineHandle,
        events: Receiver<Event>,
        folder: String,
        limits: Limits,
    ) -> usize {
        self.slots.push(EngineSlot {
            handle,
            events,
            folder,
            limits,
        });
        self.slots.len() - 1
    }

    /// A second handle on engine `slot`'s event channel (an `Arc`, no copy of events).
    pub(super) fn events(&self, slot: usize) -> Option<Receiver<Event>> {
        self.slots.get(slot).map(|e| e.events.clone())
    }

    /// Gives every engine the file-name template for files finished from now on.
    pub(super) fn set_name_template(&self, template: &NameTemplate) {
        for slot in &self.slots {
            slot.handle.set_name_template(template.clone());
        }
    }

    /// Applies changed limits to every engine (they take effect at once).
    pub(super) fn apply_limits(&mut self, limits: Limits) -> Result<(), String> {
        let mut result = Ok(());
        for slot in self.slots.iter_mut().filter(|s| s.limits != limits) {
            let (jobs, per_host, interval, bandwidth) = limits;
            if let Err(e) = slot.handle.set_limits(jobs, per_host) {
                result = Err(e.to_string());
            }
            slot.handle
                .set_host_interval(Duration::from_millis(interval));
            slot.handle.set_bandwidth(bandwidth);
            slot.limits = limits;
        }
        result
    }

    /// Gives new request settings to every engine.
    pub(super) fn set_requests(&self, profiles: &Profiles, private: PrivateRule) {
        for slot in &self.slots {
            slot.handle.set_profiles(profiles.clone());
            slot.handle.set_private_rule(private);
        }
    }

    /// Sends the same command to every engine.
    pub(super) fn send_all(&self, command: impl Fn() -> Command) {
        self.slots.iter().for_each(|e| e.handle.send(command()));
    }

    /// Groups items by the engine that owns them and calls `each` once per engine.
    pub(super) fn by_owner(
        &self,
        keys: &[(usize, ItemId)],
        mut each: impl FnMut(&EngineHandle, Vec<ItemId>),
    ) {
        for (n, slot) in self.slots.iter().enumerate() {
            let ids: Vec<ItemId> = keys.iter().filter(|k| k.0 == n).map(|k| k.1).collect();
            if !ids.is_empty() {
                each(&slot.handle, ids);
            }
        }
    }
}

/// The engine configuration for `folder` from the window's settings; `wake` repaints
/// the window when an event arrives.
pub(super) fn config_for(
    folder: &str,
    settings: &Settings,
    profiles: Profiles,
    wake: egui::Context,
) -> Config {
    let mut config = Config::new(PathBuf::from(folder));
    let (jobs, per_host, interval, bandwidth) = settings.limits();
    config.jobs = jobs;
    config.per_host = per_host;
    config.host_interval = Duration::from_millis(interval);
    config.bandwidth = bandwidth;
    config.profiles = profiles;
    config.private = settings.private_rule();
    let proxy = settings.proxy.trim();
    config.proxy = (!proxy.is_empty()).then(|| proxy.to_string());
    config.gallery_dl = settings.gallery_dl();
    // The folder's watched pages are read again while the window is open.
    config.run_watches = true;
    config.waker = Some(Arc::new(move || wake.request_repaint()));
    config.name_template = settings.template().unwrap_or_default();
    // The window's frames come before downloads and thumbnails on shared cores.
    config.background_priority = true;
    config
}
