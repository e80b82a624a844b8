//! The output folder against a hostile or awkward disk: a library whose names lead
//! through a symlinked folder, and names the file system refuses.

mod support;

use std::fs;
use std::path::Path;
use std::time::Duration;

use pixgrab_engine::{Command, DATA_DIR, Engine, Event, Folder, ItemId, NameTemplate};
use support::{config, failure, site, until_idle, url};

const LIMIT: Duration = Duration::from_secs(60);

/// The library row of `id`: (file, phash).
fn row(out: &Path, id: ItemId) -> (String, Option<String>) {
    let db = rusqlite::Connection::open(out.join(DATA_DIR).join("library.db")).expect("db");
    db.query_row(
        "SELECT file, phash FROM items WHERE id = ?1",
        [id.0 as i64],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .expect("row")
}

/// Downloads `paths` into `out/sub/` (a template subfolder), then plants the attack:
/// `out/sub` becomes a symlink to `outside`, a folder outside the output folder
/// holding the very same files. Returns the items' ids.
#[cfg(unix)]
fn plant_symlinked_subfolder(out: &Path, outside: &Path, paths: &[&str]) -> Vec<ItemId> {
    let server = site();
    let (engine, rx) = Engine::start(config(out)).expect("start");
    engine.set_name_template(NameTemplate::parse("sub/{name}.{ext}").expect("template"));
    let ids = engine
        .run(Command::add(paths.iter().map(|p| url(&server, p))))
        .expect("add");
    let events = until_idle(&rx, LIMIT);
    engine.shutdown();
    for &id in &ids {
        assert_eq!(failure(&events, id), None);
    }
    fs::rename(out.join("sub"), outside).expect("move the folder out");
    std::os::unix::fs::symlink(outside, out.join("sub")).expect("symlink");
    ids
}

/// `pixgrab similar` and the Similar view: a library row `sub/0.png` where `sub` is a
/// symlink to a folder outside is neither hashed (read) nor listed.
#[cfg(unix)]
#[test]
fn similar_never_reads_nor_lists_a_file_behind_a_symlinked_folder() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("out");
    let outside = tmp.path().join("outside");
    let ids = plant_symlinked_subfolder(&out, &outside, &["/img/0.png", "/img/1.png"]);
    let (file_a, phash_a) = row(&out, ids[0]);
    assert_eq!(file_a, "sub/0.png");
    let phash_a = phash_a.expect("hashed on download");
    // Item 0 must be hashed again (a read of the file); item 1 claims item 0's hash,
    // so the two would be listed as one picture.
    let db = rusqlite::Connection::open(out.join(DATA_DIR).join("library.db")).expect("db");
    db.execute(
        "UPDATE items SET phash = NULL WHERE id = ?1",
        [ids[0].0 as i64],
    )
    .expect("forget");
    db.execute(
        "UPDATE items SET phash = ?1 WHERE id = ?2",
        rusqlite::params![phash_a, ids[1].0 as i64],
    )
    .expect("claim");
    drop(db);

    let folder = Folder::open(&out).expect("library");
    let found = folder.similar_groups().expect("similar");
    drop(folder);
    assert!(found.groups.is_empty(), "{:?}", found.groups);
    assert_eq!(found.compared, 0, "nothing of the folder is compared");
    assert_eq!(row(&out, ids[0]).1, None, "the outside file was hashed");
    assert!(outside.join("0.png").is_file() && outside.join("1.png").is_file());
}

/// Delete in the gallery: a done item whose file is `sub/0.png`, `sub` a symlink to
/// a folder outside, is refused; the outside file stays where it is.
#[cfg(unix)]
#[test]
fn trash_never_moves_a_file_behind_a_symlinked_folder() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("out");
    let outside = tmp.path().join("outside");
    let trash = tmp.path().join("trash");
    let ids = plant_symlinked_subfolder(&out, &outside, &["/img/0.png"]);
    let mut cfg = config(&out);
    cfg.trash_dir = Some(trash.clone());
    let (engine, rx) = Engine::start(cfg).expect("start again");
    let refused = engine.run(Command::Trash(ids.clone()));
    engine.shutdown();
    // Restoring sends its events before `start` returns (no Idle: nothing to do).
    let restored: Vec<Event> = rx.try_iter().collect();
    let refused = refused.expect_err("the trash refuses it").to_string();
    assert!(refused.contains("not a plain folder"), "{refused}");
    assert!(outside.join("0.png").is_file(), "the outside file stays");
    assert!(!trash.join("0.png").exists(), "nothing went to the trash");
    // Restoring said why the item's file is not shown (and made no thumbnail of it).
    assert!(
        failure(&restored, ids[0]).is_some_and(|r| r.contains("outside the folder")),
        "{restored:#?}"
    );
    assert!(
        !restored
            .iter()
            .any(|e| matches!(e, Event::Done { id, .. } if *id == ids[0])),
        "{restored:#?}"
    );
}

/// A file name the file system refuses (here a path over the 4096-byte limit, made by
/// a template that repeats a long `{name}`) fails that one item, saying so; the other
/// items of the run are done, and nothing pauses.
#[cfg(unix)]
#[test]
fn a_name_too_long_for_the_file_system_fails_its_item_and_the_run_goes_on() {
    let long = format!("/a/{}.png", "n".repeat(180));
    let body = support::png(16, 16, 9);
    let server = pixgrab_testsite::loopback::Server::start(move |req| {
        let path = req.path.as_str();
        match path.strip_prefix("/img/") {
            Some(n) => {
                let n: u8 = n.trim_end_matches(".png").parse().unwrap_or(0);
                pixgrab_testsite::loopback::Response::ok("image/png", support::png(16, 16, n))
            }
            None => pixgrab_testsite::loopback::Response::ok("image/png", body.clone()),
        }
    })
    .expect("server");
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut cfg = config(tmp.path());
    // One at a time, the long name first: on a pause nothing after it would start.
    cfg.jobs = 1;
    // 25 folders of the name: ~4.5 KB for the long name, ~50 bytes for the others.
    let deep = vec!["{name}"; 25].join("/");
    cfg.name_template = NameTemplate::parse(&format!("{deep}.{{ext}}")).expect("template");
    let (engine, rx) = Engine::start(cfg).expect("start");
    let mut list = vec![url(&server, &long)];
    list.extend((1..=4).map(|n| url(&server, &format!("/img/{n}.png"))));
    let ids = engine.run(Command::add(list)).expect("add");
    let events = until_idle(&rx, LIMIT);
    engine.shutdown();
    let reason = failure(&events, ids[0]).unwrap_or_default();
    assert!(
        reason.starts_with("cannot save as ") && reason.ends_with(": file name too long"),
        "{reason:?} in {events:#?}"
    );
    assert!(
        !events.iter().any(|e| matches!(e, Event::Paused { .. })),
        "nothing pauses: {events:#?}"
    );
    for &id in &ids[1..] {
        assert!(
            events
                .iter()
                .any(|e| matches!(e, Event::Done { id: i, .. } if *i == id)),
            "item {id:?} is done: {events:#?}"
        );
    }
}
