//! The viewer: one image fitted to the window, zoom, pan, previous/next.

use egui::{Key, Rect, Sense, TextureHandle, Vec2};
use pixgrab_engine::PhotoInfo;

use super::model::{ItemView, Model};
use super::tasks::Tasks;

/// Viewer state for the image at a gallery position.
pub(crate) struct Viewer {
    /// Position in the gallery's shown list (its sort and filter).
    pub(crate) pos: usize,
    generation: u64,
    texture: Option<TextureHandle>,
    error: Option<String>,
    zoom: f32,
    pan: Vec2,
    /// The photo's EXIF facts (taken, camera), once loaded.
    photo: Option<PhotoInfo>,
}

impl Viewer {
    /// The zoom factor (1 = fit).
    #[cfg(test)]
    pub(crate) fn zoom(&self) -> f32 {
        self.zoom
    }
}

/// What the user asked the viewer for.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ViewerAction {
    Close,
    Go(usize),
}

impl Viewer {
    /// Opens the viewer at position `pos` of `shown` (the gallery's items in its sort
    /// and filter) and starts loading the image.
    pub(crate) fn open(
        pos: usize,
        generation: u64,
        model: &Model,
        shown: &[usize],
        tasks: &Tasks,
        max_side: u32,
    ) -> Self {
        let mut viewer = Self {
            pos,
            generation,
            texture: None,
            error: None,
            zoom: 1.0,
            pan: Vec2::ZERO,
            photo: None,
        };
        let item = shown.get(pos).and_then(|&idx| model.items.get(idx));
        match item {
            Some(item) => match (&item.path, item.format) {
                (Some(path), Some(format)) => {
                    tasks.load_full(generation, path.to_path_buf(), format, max_side)
                }
                _ => {
                    viewer.error = Some(match &item.failure {
                        Some(failure) => failure.reason.clone(),
                        None => "not downloaded".to_string(),
                    });
                }
            },
            None => viewer.error = Some("no such image".into()),
        }
        viewer
    }

    /// Takes the decoded image if it is for this viewer.
    pub(crate) fn loaded(
        &mut self,
        ctx: &egui::Context,
        generation: u64,
        result: Result<pixgrab_engine::Thumbnail, String>,
        photo: Option<PhotoInfo>,
    ) {
        if generation != self.generation {
            return;
        }
        self.photo = photo;
        match result {
            Ok(image) => {
                self.texture = Some(ctx.load_texture(
                    format!("viewer-{generation}"),
                    super::gallery::color_image(&image),
                    egui::TextureOptions::LINEAR,
                ));
            }
            Err(e) => self.error = Some(e),
        }
    }

    /// True once the image is shown (for tests).
    #[cfg(test)]
    pub(crate) fn is_loaded(&self) -> bool {
        self.texture.is_some()
    }
}

/// Draws the viewer over the central area.
pub(crate) fn viewer_ui(
    ui: &mut egui::Ui,
    viewer: &mut Viewer,
    model: &Model,
    shown: &[usize],
) -> Option<ViewerAction> {
    let count = shown.len();
    let item = shown.get(viewer.pos).and_then(|&idx| model.items.get(idx));
    let mut action = toolbar_ui(ui, viewer, item, count);
    if let Some(item) = item {
        ui.label(format!("{} ({} of {count})", item.name(), viewer.pos + 1));
        let mut facts: Vec<String> = Vec::new();
        if let Some((w, h)) = item.dimensions {
            facts.push(format!("{w}×{h}"));
        }
        facts.push(pixgrab_engine::Bytes(item.total.unwrap_or(item.bytes)).to_string());
        if let Some(host) = item.url.host_str() {
            facts.push(host.to_string());
        }
        if let Some(photo) = &viewer.photo {
            facts.extend(photo.taken.as_ref().map(|t| format!("taken {t}")));
            facts.extend(photo.camera.clone());
        }
        facts.push(format!("zoom {:.0}%", viewer.zoom * 100.0));
        ui.weak(facts.join(" · "));
    }
    canvas_ui(ui, viewer);
    action = keys(ui, viewer, count).or(action);
    action
}

/// Previous, Next, Open file, Show in folder, Copy URL, Close.
fn toolbar_ui(
    ui: &mut egui::Ui,
    viewer: &Viewer,
    item: Option<&ItemView>,
    count: usize,
) -> Option<ViewerAction> {
    let mut action = None;
    ui.horizontal(|ui| {
        if ui
            .add_enabled(viewer.pos > 0, egui::Button::new("Previous"))
            .clicked()
        {
            action = Some(ViewerAction::Go(viewer.pos - 1));
        }
        if ui
            .add_enabled(viewer.pos + 1 < count, egui::Button::new("Next"))
            .clicked()
        {
            action = Some(ViewerAction::Go(viewer.pos + 1));
        }
        if let Some(item) = item {
            if let Some(path) = &item.path {
                if ui.button("Open file").clicked() {
                    open_external(path);
                }
                if ui.button("Show in folder").clicked()
                    && let Some(dir) = path.parent()
                {
                    open_external(dir);
                }
            }
            if ui.button("Copy URL").clicked() {
                ui.ctx().copy_text(item.url.to_string());
            }
        }
        if ui.button("Close").on_hover_text("Esc").clicked() {
            action = Some(ViewerAction::Close);
        }
    });
    action
}

/// The image itself: fitted, zoomed with the wheel or a pinch, panned by dragging,
/// reset by a double click.
fn canvas_ui(ui: &mut egui::Ui, viewer: &mut Viewer) {
    let (rect, response) = ui.allocate_exact_size(ui.available_size(), Sense::click_and_drag());
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Image, true, "Full image"));
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 0.0, egui::Color32::from_gray(20));
    if let Some(texture) = &viewer.texture {
        if response.hovered() {
            let zoom = ui.input(|i| i.zoom_delta() * (1.0 + i.smooth_scroll_delta.y * 0.002));
            viewer.zoom = (viewer.zoom * zoom).clamp(0.05, 40.0);
        }
        if response.dragged() {
            viewer.pan += response.drag_delta();
        }
        if response.double_clicked() {
            viewer.zoom = 1.0;
            viewer.pan = Vec2::ZERO;
        }
        let size = texture.size_vec2();
        let fit = (rect.width() / size.x).min(rect.height() / size.y).min(1.0);
        let shown = Rect::from_center_size(rect.center() + viewer.pan, size * fit * viewer.zoom);
        painter.image(
            texture.id(),
            shown,
            Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(1.0, 1.0)),
            egui::Color32::WHITE,
        );
    } else {
        let text = viewer.error.as_deref().unwrap_or("Loading…");
        painter.text(
            rect.center(),
            egui::Align2::CENTER_CENTER,
            text,
            egui::FontId::proportional(18.0),
            egui::Color32::LIGHT_GRAY,
        );
    }
}

/// Esc closes, the arrows go to the previous and next image, + and - zoom.
fn keys(ui: &egui::Ui, viewer: &mut Viewer, count: usize) -> Option<ViewerAction> {
    let mut action = None;
    ui.input(|i| {
        if i.key_pressed(Key::Escape) {
            action = Some(ViewerAction::Close);
        }
        if i.key_pressed(Key::ArrowRight) && viewer.pos + 1 < count {
            action = Some(ViewerAction::Go(viewer.pos + 1));
        }
        if i.key_pressed(Key::ArrowLeft) && viewer.pos > 0 {
            action = Some(ViewerAction::Go(viewer.pos - 1));
        }
        if i.key_pressed(Key::Plus) || i.key_pressed(Key::Equals) {
            viewer.zoom = (viewer.zoom * 1.25).min(40.0);
        }
        if i.key_pressed(Key::Minus) {
            viewer.zoom = (viewer.zoom / 1.25).max(0.05);
        }
    });
    action
}

/// Opens a file or folder with the desktop's default application, without waiting.
pub(crate) fn open_external(path: &std::path::Path) {
    let program = if cfg!(target_os = "macos") {
        "open"
    } else if cfg!(target_os = "windows") {
        "explorer"
    } else {
        "xdg-open"
    };
    match std::process::Command::new(program).arg(path).spawn() {
        // Reap the child off the UI thread so it does not linger as a zombie.
        Ok(mut child) => {
            let _ = std::thread::Builder::new()
                .name("pixgrab-open".into())
                .spawn(move || child.wait());
        }
        Err(e) => eprintln!("pixgrab: cannot run {program}: {e}"),
    }
}
