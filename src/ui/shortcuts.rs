//! Keyboard shortcuts (Ctrl+Enter downloads, Ctrl+O opens a list) and what is pasted
//! or dropped anywhere in the window.

use std::path::PathBuf;

use super::PixgrabApp;
use super::input::InputAction;

impl PixgrabApp {
    /// Keyboard shortcuts and paste/drop anywhere in the window.
    pub(super) fn global_input(&mut self, ctx: &egui::Context) -> Option<InputAction> {
        let mut action = None;
        let nothing_focused = ctx.memory(|m| m.focused().is_none());
        let (pasted, dropped) = ctx.input(|i| {
            let pasted: Vec<String> = i
                .events
                .iter()
                .filter_map(|e| match e {
                    egui::Event::Paste(text) => Some(text.clone()),
                    _ => None,
                })
                .collect();
            let dropped: Vec<PathBuf> = i
                .raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .filter(|p| !p.as_os_str().is_empty())
                .collect();
            (pasted, dropped)
        });
        // Shortcuts by the modifiers their own key event carries: a quick press can
        // arrive in one frame whose modifiers already say Ctrl was released (X11 did
        // this, and Ctrl+Enter did nothing). Consumed, so the URL box does not also
        // take the Enter as a new line.
        let (download, open) = ctx.input_mut(|i| {
            (
                i.consume_shortcut(&egui::KeyboardShortcut::new(
                    egui::Modifiers::COMMAND,
                    egui::Key::Enter,
                )),
                i.consume_shortcut(&egui::KeyboardShortcut::new(
                    egui::Modifiers::COMMAND,
                    egui::Key::O,
                )),
            )
        });
        if nothing_focused {
            for text in pasted {
                self.input.append(&text);
            }
        }
        for path in dropped {
            self.tasks.read_list(path);
        }
        if download {
            action = Some(InputAction::Download);
        }
        if open {
            action = Some(InputAction::PickList);
        }
        action
    }
}
