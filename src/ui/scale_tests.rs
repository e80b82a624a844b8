//! The window at 100,000 items: what one item costs the model, where a fresh
//! thumbnail's tile is (a look-up, answering as the old search did), and the demo's
//! list of 100,000 accepted by the URL box's intake.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use pixgrab_engine::{DoneInfo, Event, ImageFormat, ItemId};
use url::Url;

use super::model::{ItemView, Model};
use super::view::{GalleryView, ShowState, SortBy};

#[test]
fn an_item_of_the_model_is_at_most_176_bytes_besides_its_strings() {
    // 240 bytes before (a `String` name, a `PathBuf`, an inline failure and speed
    // samples in every item): 100,000 items, 24 MB of it.
    let size = std::mem::size_of::<ItemView>();
    assert!(size <= 176, "ItemView is {size} bytes");
}

#[test]
fn an_add_of_10000_urls_is_held_in_vectors_of_their_final_size() {
    // Grown one item at a time, the items' vector was doubled to 16,384 places (and at
    // 100,000 items held its old and new copies at once while it moved).
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut harness = super::tests::harness(tmp.path(), 1);
    super::tests::type_urls(&mut harness, "http://127.0.0.1:9/img[00001-10000].jpg");
    super::tests::press_download(&mut harness);
    super::tests::step_until(&mut harness, "all 10,000 queued", |app| {
        app.model.items.len() == 10_000
    });
    let model = &harness.state().model;
    assert_eq!(model.items.capacity(), 10_000);
    assert_eq!(model.order.capacity(), 10_000);
}

#[test]
fn the_window_takes_the_list_of_a_demo_of_100000_whole() {
    let site = pixgrab_testsite::demo::DemoSite::start(100_000).expect("demo site");
    let intake = pixgrab_engine::read_urls(&site.url_list());
    assert_eq!(intake.check_limit(), Ok(()));
    assert_eq!(intake.urls.len(), 100_000);
}

/// `n` items queued in engine 0, named `p-{n}.jpg` in reverse of their number.
fn model_of(n: u64) -> Model {
    let mut model = Model::default();
    let now = Instant::now();
    for i in 0..n {
        let url = Url::parse(&format!("http://h{}.example/p-{}.jpg", i % 3, n - i)).expect("url");
        model.apply(
            0,
            Event::Queued {
                id: ItemId(i),
                url: Arc::new(url),
            },
            now,
        );
    }
    model
}

/// Item `i` of `model_of` finishes (its file named after its URL).
fn finish(model: &mut Model, i: u64) {
    let url = model.items[i as usize].url.as_ref().clone();
    let name = url.path().trim_start_matches('/').to_string();
    let info = DoneInfo {
        path: PathBuf::from("/out").join(name),
        bytes: 1000 + i,
        format: ImageFormat::Jpeg,
        content_type: None,
        dimensions: Some((100, 100)),
        sha256: String::new(),
        final_url: url,
        duplicate_of: None,
        restored: false,
    };
    model.apply(
        0,
        Event::Done {
            id: ItemId(i),
            info: Box::new(info),
        },
        Instant::now(),
    );
}

/// Each gallery item's position by the plain search the view did before.
fn searched(view: &GalleryView, model: &Model, idx: usize) -> Option<usize> {
    view.shown().iter().position(|&i| i == idx).or_else(|| {
        view.is_identity()
            .then(|| model.gallery.iter().position(|&i| i == idx))
            .flatten()
    })
}

fn assert_positions(view: &GalleryView, model: &Model, what: &str) {
    for idx in 0..model.items.len() {
        assert_eq!(
            view.position_of(idx, model),
            searched(view, model, idx),
            "{what}: item {idx}"
        );
    }
}

#[test]
fn a_fresh_item_s_position_is_where_the_shown_list_has_it_through_sorts_and_removals() {
    let mut model = model_of(40);
    let mut view = GalleryView::default();
    for i in (0..40).step_by(2) {
        finish(&mut model, i);
    }
    let now = Instant::now();
    view.refresh(&model, now);
    assert_positions(&view, &model, "finish order");
    // Finished since the list was built: in finish order, where the gallery has them.
    for i in (1..20).step_by(2) {
        finish(&mut model, i);
    }
    assert_positions(&view, &model, "finished since");
    assert_eq!(view.position_of(19, &model), Some(29));
    // The list grows by what is new and is the gallery, in its order.
    view.refresh(&model, now);
    assert_eq!(view.shown(), model.gallery.as_slice());
    assert_positions(&view, &model, "grown");
    // Sorted by name (`p-40` … `p-1`, so reversed), and filtered.
    view.settings.sort = SortBy::Name;
    view.refresh(&model, now);
    assert_eq!(view.shown().first(), Some(&38), "p-2 first");
    assert_positions(&view, &model, "by name");
    finish(&mut model, 21);
    assert_eq!(
        view.position_of(21, &model),
        None,
        "not in the sorted list yet"
    );
    view.settings.state = ShowState::Failed;
    view.refresh(&model, now);
    assert!(view.shown().is_empty());
    assert_positions(&view, &model, "filtered out");
    // Back to finish order; one leaves the gallery: the rest move up.
    view.settings = Default::default();
    view.refresh(&model, now);
    model.apply(
        0,
        Event::Removed {
            id: ItemId(0),
            kept_file: false,
        },
        now,
    );
    finish(&mut model, 23);
    view.refresh(&model, std::time::Instant::now());
    assert_eq!(view.shown(), model.gallery.as_slice());
    assert_eq!(view.position_of(2, &model), Some(0));
    assert_positions(&view, &model, "after a removal");
}
