//! Tests of the library: items, locking, order and export.

use super::*;
use crate::item::ItemId;
use url::Url;

fn url(s: &str) -> Url {
    Url::parse(s).expect("test URL")
}

#[test]
fn a_url_is_one_item_and_states_survive_reopening() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let mut lib = Library::open(dir.path(), false).expect("open");
        let added = lib
            .add(
                &[
                    url("http://a/1.jpg"),
                    url("http://A/1.jpg#frag"),
                    url("http://a/2.jpg"),
                ],
                None,
            )
            .expect("add");
        assert_eq!(added[0].id, added[1].id, "same URL after normalising");
        assert_eq!(added[1].before, Some(ItemState::Queued));
        assert_ne!(added[0].id, added[2].id);
        lib.set_done(
            added[0].id,
            &DoneRecord {
                final_url: "http://a/1.jpg",
                file: "1.jpg",
                bytes: 10,
                sha256: "ab",
                dimensions: Some((3, 4)),
                format: "jpg",
                content_type: Some("image/jpeg"),
                duplicate_of: None,
                phash: None,
            },
        )
        .expect("done");
        lib.set_failed(added[2].id, "HTTP 404 Not Found")
            .expect("failed");
    }
    let lib = Library::open(dir.path(), false).expect("reopen");
    let all = lib.all().expect("all");
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].state, ItemState::Done);
    assert_eq!(all[0].dimensions, Some((3, 4)));
    assert_eq!(all[1].error.as_deref(), Some("HTTP 404 Not Found"));
    let failed = lib
        .find(&[all[1].id, all[1].id, all[0].id], &[ItemState::Failed])
        .expect("find");
    assert_eq!(failed.len(), 1, "one failed item, named twice");
    assert_eq!(lib.ids_in_state(ItemState::Done).expect("ids"), [all[0].id]);
    assert_eq!(
        lib.find_done_by_hash("ab", all[1].id).expect("find"),
        Some((all[0].id, "1.jpg".to_string()))
    );
}

#[test]
fn a_second_process_on_the_same_folder_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let _first = Library::open(dir.path(), false).expect("open");
    let second = Library::open(dir.path(), false);
    assert!(matches!(second, Err(LibraryError::Busy)), "got {second:?}");
}

#[test]
fn move_to_top_puts_items_first_in_the_given_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut lib = Library::open(dir.path(), false).expect("open");
    let ids: Vec<ItemId> = lib
        .add(
            &[url("http://a/1"), url("http://a/2"), url("http://a/3")],
            None,
        )
        .expect("add")
        .iter()
        .map(|a| a.id)
        .collect();
    lib.move_to_top(&[ids[2], ids[1]]).expect("top");
    let order: Vec<ItemId> = lib.all().expect("all").iter().map(|r| r.id).collect();
    assert_eq!(order, [ids[2], ids[1], ids[0]]);
}

#[test]
fn exports_round_trip_through_import() {
    let record = Record {
        id: ItemId(1),
        url: "http://a/x,\"y\".jpg".into(),
        final_url: Some("http://b/z.jpg".into()),
        state: ItemState::Failed,
        rank: 1,
        bytes: None,
        file: None,
        sha256: None,
        dimensions: None,
        format: None,
        content_type: None,
        error: Some("HTTP 404 Not Found\nsecond line".into()),
        duplicate_of: None,
        added_at: 0,
        finished_at: None,
        part: None,
        page: None,
    };
    let csv = to_csv(std::slice::from_ref(&record));
    assert!(csv.starts_with("url,final_url,file,status,bytes,sha256,width,height,error\r\n"));
    assert_eq!(import_urls(&csv), Some(vec![record.url.clone()]));
    let json = to_json(std::slice::from_ref(&record));
    assert_eq!(import_urls(&json), Some(vec![record.url.clone()]));
    assert_eq!(import_urls("http://a/1.jpg\nhttp://a/2.jpg"), None);
}
